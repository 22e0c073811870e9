// Lectern's web app: the shell, the account menu and the hash router.
import * as api from './api.js';
import { h, clear, announce, focusTitlesFromNowOn } from './dom.js';
import { signInPage, signUpPage } from './auth.js';
import { libraryPage } from './library.js';
import { documentPage } from './document.js';
import { quizzesPage, newQuizPage, quizPage, quizResultsPage } from './quizzes.js';
import { cardsPage, cardListPage, cardSettingsPage } from './cards.js';
import { chatPage } from './chat.js';
import { speechPage } from './speech.js';

const routes = [
  [/^\/login$/, signInPage, false],
  [/^\/register$/, signUpPage, false],
  [/^\/library$/, libraryPage, true],
  [/^\/documents\/([0-9a-f-]{36})$/, documentPage, true],
  [/^\/quizzes$/, quizzesPage, true],
  [/^\/quizzes\/new$/, newQuizPage, true],
  [/^\/quizzes\/([0-9a-f-]{36})$/, quizPage, true],
  [/^\/quizzes\/([0-9a-f-]{36})\/results$/, quizResultsPage, true],
  [/^\/cards$/, cardsPage, true],
  [/^\/cards\/list$/, cardListPage, true],
  [/^\/cards\/settings$/, cardSettingsPage, true],
  [/^\/chat$/, chatPage, true],
  [/^\/chat\/([0-9a-f-]{36})$/, chatPage, true],
  [/^\/speech$/, speechPage, true],
];

let leave = null; // the current page's clean-up (timers, recorders)

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/library';
  const [path, query] = raw.split('?');
  return { path, params: new URLSearchParams(query || '') };
}

export function go(path) {
  if (location.hash === `#${path}`) render();
  else location.hash = path;
}

function renderAccount() {
  const box = document.getElementById('account');
  clear(box);
  const u = api.user();
  document.getElementById('nav').hidden = !u;
  if (!u) return;
  box.append(
    h('span.who', { title: u.email }, u.name),
    h('button.link', {
      type: 'button',
      onclick: async () => {
        await api.signOut().catch(() => {});
        announce('You are signed out.');
        go('/login');
      },
    }, 'Sign out'),
  );
}

function markNav(path) {
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href').slice(1);
    if (path === target || path.startsWith(`${target}/`)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function render() {
  const { path, params } = parseHash();
  if (leave) { try { leave(); } catch { /* ignore */ } leave = null; }
  const main = document.getElementById('main');
  let found = routes.find(([re]) => re.test(path));
  if (!found) found = routes[2];
  const [re, page, needsAuth] = found;
  if (needsAuth && !api.signedIn()) {
    const back = path === '/library' ? '' : `?next=${encodeURIComponent(path)}`;
    location.replace(`#/login${back}`);
    return;
  }
  if (!needsAuth && api.signedIn()) {
    location.replace('#/library');
    return;
  }
  markNav(path);
  clear(main);
  const args = (re.exec(path) || []).slice(1);
  const ctx = { params, go, onLeave: (fn) => { leave = fn; } };
  try {
    await page(main, ctx, ...args);
  } catch (e) {
    main.append(h('p.error', { role: 'alert' }, e.message || String(e)));
  }
}

api.onSessionChange((u, reason) => {
  renderAccount();
  if (!u && reason === 'expired') {
    announce('Your session has ended. Please sign in again.');
    go('/login?expired=1');
  }
});

window.addEventListener('hashchange', render);

(async () => {
  await api.resume();
  renderAccount();
  await render();
  focusTitlesFromNowOn();
})();
