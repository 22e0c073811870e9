// DOM helpers: every string becomes a text node, never markup.

// h('tag.class', {attr: value, onclick: fn}, ...children)
export function h(spec, attrs, ...children) {
  const [head, ...classes] = spec.split('.');
  const [tag, id] = head.split('#');
  const el = document.createElement(tag || 'div');
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// Announces a status to screen readers (and shows it) in the live region.
let statusTimer = 0;
export function announce(text) {
  const el = document.getElementById('status');
  if (!el) return;
  el.textContent = text;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { el.textContent = ''; }, 8000);
}

export function errorBox(err) {
  return h('p.error', { role: 'alert' }, err && err.message ? err.message : String(err));
}

export function loading(what) {
  return h('p.loading', { role: 'status' }, `Loading ${what}…`);
}

export function formatSize(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

export function formatTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString();
}

// A labelled field: label + control, tied by id.
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  const parts = [h('label', { for: id }, label), control];
  if (hint) {
    const hid = `${id}-hint`;
    control.setAttribute('aria-describedby', hid);
    parts.push(h('span.hint', { id: hid }, hint));
  }
  return h('div.field', parts);
}

// Sets the page's heading and title and, after a route change (not on the
// first load, where Tab must reach "Skip to content" first), moves focus
// there for screen readers and keyboard users.
let focusTitles = false;
export function focusTitlesFromNowOn() { focusTitles = true; }
export function pageTitle(text) {
  document.title = `${text} · Lectern`;
  const h1 = h('h1', { tabindex: '-1' }, text);
  if (focusTitles) queueMicrotask(() => h1.focus());
  return h1;
}

// Saves a Blob as a file.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name || 'download' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
