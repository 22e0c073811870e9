// Sign in and sign up.
import * as api from './api.js';
import { h, field, pageTitle, announce } from './dom.js';

function form(main, ctx, { title, fields, submitLabel, submit, footer }) {
  const err = h('div', { 'aria-live': 'assertive' });
  const button = h('button.primary', { type: 'submit' }, submitLabel);
  const f = h('form.card.narrow', {
    novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      button.disabled = true;
      button.textContent = 'Please wait…';
      try {
        await submit();
        const next = ctx.params.get('next');
        ctx.go(next && next.startsWith('/') ? next : '/library');
      } catch (ex) {
        err.append(h('p.error', { role: 'alert' }, ex.message));
        for (const d of ex.details || []) err.append(h('p.error', `${d.field}: ${d.problem}`));
      } finally {
        button.disabled = false;
        button.textContent = submitLabel;
      }
    },
  }, fields, err, button, footer);
  main.append(pageTitle(title));
  if (ctx.params.get('expired')) {
    main.append(h('p.notice', { role: 'status' }, 'Your session has ended. Please sign in again.'));
  }
  main.append(f);
}

export function signInPage(main, ctx) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  form(main, ctx, {
    title: 'Sign in',
    fields: [field('Email', email), field('Password', password)],
    submitLabel: 'Sign in',
    submit: async () => {
      await api.signIn(email.value.trim(), password.value);
      announce('Signed in.');
    },
    footer: h('p', 'New to Lectern? ', h('a', { href: '#/register' }, 'Create an account')),
  });
}

export function signUpPage(main, ctx) {
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'name', required: true, maxlength: '100' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const password = h('input', {
    type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: '8',
  });
  form(main, ctx, {
    title: 'Create an account',
    fields: [
      field('Name', name),
      field('Email', email),
      field('Password', password, 'At least 8 characters; not a common password.'),
    ],
    submitLabel: 'Create account',
    submit: async () => {
      if (password.value.length < 8) throw new Error('The password needs at least 8 characters.');
      await api.signUp(name.value.trim(), email.value.trim(), password.value);
      announce('Welcome to Lectern.');
    },
    footer: h('p', 'Already have an account? ', h('a', { href: '#/login' }, 'Sign in')),
  });
}
