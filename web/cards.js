// Flashcards: the due queue reviewed one card at a time (Space shows the
// answer, 1 to 4 rate it), the learner's numbers, every card with a tag
// filter and pages, cards by hand, from a document or from a CSV file, the
// export for Anki and the scheduling settings.
import * as api from './api.js';
import { h, clear, pageTitle, announce, errorBox, loading, formatTime, field, saveBlob } from './dom.js';

const BASE = '/api/v1/cards';
const PAGE = 20;
const IMPORT_MAX = 1024 * 1024; // the API's limit for an imported CSV
const RATINGS = [[1, 'again', 'Again'], [2, 'hard', 'Hard'], [3, 'good', 'Good'], [4, 'easy', 'Easy']];

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const pct = (x) => `${Math.round(Number(x) * 1000) / 10}%`;
const short = (s, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// An interval in days (the API's unit) as a person says it.
export function formatInterval(days) {
  const d = Number(days);
  if (!Number.isFinite(d) || d < 0) return '';
  if (d < 1 / 24) return plural(Math.max(1, Math.round(d * 1440)), 'minute');
  if (d < 1) return plural(Math.round(d * 24), 'hour');
  if (d < 31) return plural(Math.round(d), 'day');
  if (d < 365) return plural(Math.round(d / 30.44), 'month');
  return plural(Math.round(d / 36.525) / 10, 'year');
}

// What POST /cards/from-document made, in words.
export function madeMessage(r) {
  if (r.created && r.skipped) return `${plural(r.created, 'flashcard')} made; ${r.skipped} more had been made before.`;
  if (r.created) return `${plural(r.created, 'flashcard')} made.`;
  if (r.skipped) return `No new flashcards: the ${plural(r.skipped, 'card')} this document gives had been made before.`;
  return 'This document gave no flashcards.';
}

export async function makeFromDocument(documentId, limit) {
  const body = { document_id: documentId };
  if (limit) body.limit = limit;
  return api.call('POST', `${BASE}/from-document`, { json: body });
}

function tagList(text) {
  return [...new Set(text.split(/\s+/).filter(Boolean))];
}

function cardsNav(current) {
  const links = [['/cards', 'Review'], ['/cards/list', 'All cards'], ['/cards/settings', 'Settings']];
  return h('nav.subnav', { 'aria-label': 'Flashcards' }, h('ul', links.map(([p, label]) => h('li',
    h('a', { href: `#${p}`, 'aria-current': p === current ? 'page' : null }, label)))));
}

function stat(value, label, note) {
  return h('li', h('span.stat-value', String(value)), h('span.stat-label', label), note ? h('span.meta', note) : null);
}

function statsView(s) {
  const learnt = s.retention === null || s.retention === undefined
    ? stat('–', 'retention', 'shown once a learnt card is reviewed')
    : stat(pct(s.retention), 'retention', `over ${plural(s.retention_reviews, 'review')}; your aim is ${pct(s.desired_retention)}`);
  return h('ul.stats', {},
    stat(s.due_today, 'due today', `${s.due_reviews} to review · ${s.due_new} new`),
    stat(s.reviews_today, 'reviewed today', `${s.reviews_total} in all`),
    learnt,
    stat(s.streak, s.streak === 1 ? 'day in a row' : 'days in a row'),
    stat(s.cards, s.cards === 1 ? 'card' : 'cards', `${s.new} new · ${s.learning} learning · ${s.review} in review`));
}

// --- review ------------------------------------------------------------------

export async function cardsPage(main, ctx) {
  main.append(cardsNav('/cards'), pageTitle('Flashcards'));
  const stats = h('section.card', { 'aria-labelledby': 'stats-h' }, h('h2#stats-h', 'Today'), loading('your numbers'));
  const reviewH = h('h2#review-h', { tabindex: '-1' }, 'Review');
  const feedback = h('div.feedback', { 'aria-live': 'polite' });
  const area = h('div');
  const review = h('section.card.review', { 'aria-labelledby': 'review-h' }, reviewH, feedback, area,
    h('p.hint', 'Keys: Space shows the answer; then 1 Again, 2 Hard, 3 Good, 4 Easy.'));
  main.append(stats, review);

  let known = null; // the last stats, for the empty queue's words
  let current = null; // { card, shown, busy, reveal, rate }
  let alive = true;

  async function loadStats() {
    try {
      known = await api.call('GET', `${BASE}/stats`);
      if (alive) clear(stats).append(h('h2#stats-h', 'Today'), statsView(known));
    } catch (e) {
      if (alive) clear(stats).append(h('h2#stats-h', 'Today'), errorBox(e));
    }
  }

  function emptyQueue() {
    if (known && known.cards === 0) {
      return h('p.empty', 'No cards yet. Make some from a document, write them by hand or import a CSV file under ',
        h('a', { href: '#/cards/list' }, 'All cards'), '.');
    }
    const later = known && known.due_today > 0 ? ` ${plural(known.due_today, 'more card')} ${known.due_today === 1 ? 'comes' : 'come'} due later today.` : '';
    return h('p.empty', `No cards due now.${later} Come back later, or add cards under `, h('a', { href: '#/cards/list' }, 'All cards'), '.');
  }

  function feedbackView(r, card) {
    const key = RATINGS[r.rating - 1];
    const iv = r.intervals || {};
    const others = RATINGS.filter(([g]) => g !== r.rating).map(([, k, label]) => `${label} ${formatInterval(iv[k])}`);
    return [
      h('p', h('strong', `${key[2]}.`), ` “${short(card.front)}” comes back in ${formatInterval(iv[key[1]])}, ${formatTime(r.next_due)}.`),
      h('p.meta', `The other ratings would have given: ${others.join(', ')}.`),
    ];
  }

  function cardView(card) {
    const showBtn = h('button.primary', { type: 'button', 'aria-keyshortcuts': 'Space' }, 'Show answer');
    const answer = h('div', { 'aria-live': 'polite' });
    const rateBtns = RATINGS.map(([g, k, label]) => h(`button.rate.rate-${k}`, { type: 'button', 'aria-keyshortcuts': String(g), 'data-rating': String(g) },
      h('kbd', { 'aria-hidden': 'true' }, String(g)), ` ${label}`));
    const rates = h('div.rates', { role: 'group', 'aria-label': 'How well did you remember it?', hidden: true }, rateBtns);
    const me = { card, shown: false, busy: false };
    me.reveal = () => {
      if (me.shown) return;
      me.shown = true;
      answer.append(h('p.side-label', 'Answer'), h('p.side-text', card.back),
        card.source_sentence ? h('p.meta', `From the text: ${card.source_sentence}`) : null);
      showBtn.hidden = true;
      rates.hidden = false;
      rateBtns[2].focus();
    };
    me.rate = async (g) => {
      if (!me.shown || me.busy) return;
      me.busy = true;
      // Disabling the focused button drops the focus: note where it was.
      const refocus = review.contains(document.activeElement) || document.activeElement === document.body;
      for (const b of rateBtns) b.disabled = true;
      try {
        const r = await api.call('POST', `${BASE}/${card.id}/review`, { json: { rating: g } });
        clear(feedback).append(...feedbackView(r, card));
        await loadStats();
        await next(refocus);
      } catch (e) {
        clear(feedback).append(errorBox(e));
        me.busy = false;
        for (const b of rateBtns) b.disabled = false;
        if (refocus) rateBtns[g - 1].focus();
      }
    };
    showBtn.addEventListener('click', me.reveal);
    rateBtns.forEach((b, i) => b.addEventListener('click', () => me.rate(i + 1)));
    const tags = card.tags && card.tags.length ? h('p.meta', `Tags: ${card.tags.join(' ')}`) : null;
    const view = h('div.flashcard', {},
      h('p.side-label', card.state === 'new' ? 'New card' : 'Question'),
      h('p.side-text', card.front), tags, answer, h('div.actions', showBtn, rates));
    return { me, view, showBtn };
  }

  // The next card due; refocus puts the focus on it (or on the heading).
  async function next(refocus = false) {
    let r;
    try {
      r = await api.call('GET', `${BASE}/due?limit=1`);
    } catch (e) {
      current = null;
      clear(area).append(errorBox(e));
      return;
    }
    if (!alive) return;
    if (!r.length) {
      current = null;
      clear(area).append(emptyQueue());
      if (refocus) reviewH.focus();
      return;
    }
    const { me, view, showBtn } = cardView(r[0]);
    current = me;
    clear(area).append(view);
    if (refocus) showBtn.focus();
  }

  // Space and 1-4 act on the card unless a field has the keys, or Space
  // belongs to a control outside the card (a link, a button).
  const onKey = (e) => {
    if (!current || e.altKey || e.ctrlKey || e.metaKey || e.repeat) return;
    const t = e.target instanceof Element ? e.target : document.body;
    if (t.closest('input, textarea, select, [contenteditable]')) return;
    if (e.key === ' ' && !current.shown) {
      if (t.closest('a, button, summary') && !area.contains(t)) return;
      e.preventDefault();
      current.reveal();
    } else if (current.shown && /^[1-4]$/.test(e.key)) {
      e.preventDefault();
      current.rate(Number(e.key));
    }
  };
  document.addEventListener('keydown', onKey);
  ctx.onLeave(() => { alive = false; document.removeEventListener('keydown', onKey); });

  area.append(loading('the cards due'));
  await loadStats();
  await next();
}

// --- all cards -------------------------------------------------------------------

function cardForm(card, submitLabel, onSubmit, onCancel) {
  const front = h('textarea', { name: 'front', rows: '2', maxlength: '2000', required: true });
  const back = h('textarea', { name: 'back', rows: '3', maxlength: '4000', required: true });
  const tags = h('input', { type: 'text', name: 'tags', autocomplete: 'off' });
  front.value = card ? card.front : '';
  back.value = card ? card.back : '';
  tags.value = card ? card.tags.join(' ') : '';
  const err = h('div', { 'aria-live': 'assertive' });
  const submit = h('button.primary', { type: 'submit' }, submitLabel);
  const form = h('form.card-form', {
    onsubmit: async (e) => {
      e.preventDefault();
      clear(err);
      if (!front.value.trim() || !back.value.trim()) {
        err.append(h('p.error', { role: 'alert' }, 'A card needs a front and a back.'));
        return;
      }
      submit.disabled = true;
      try {
        await onSubmit({ front: front.value, back: back.value, tags: tagList(tags.value) });
        if (!card) { front.value = ''; back.value = ''; }
      } catch (ex) {
        err.append(errorBox(ex));
      } finally {
        submit.disabled = false;
      }
    },
  }, field('Front', front), field('Back', back), field('Tags', tags, 'Words separated by spaces, such as biology cells.'),
  err, h('div.actions', submit, onCancel ? h('button', { type: 'button', onclick: onCancel }, 'Cancel') : null));
  return { form, front };
}

export async function cardListPage(main, ctx) {
  const tag = (ctx.params.get('tag') || '').trim();
  const offset = Math.max(0, Number.parseInt(ctx.params.get('offset'), 10) || 0);
  const here = (o, t = tag) => {
    const q = new URLSearchParams();
    if (t) q.set('tag', t);
    if (o) q.set('offset', String(o));
    const s = q.toString();
    return `/cards/list${s ? `?${s}` : ''}`;
  };
  main.append(cardsNav('/cards/list'), pageTitle('All cards'));

  const list = h('section', { 'aria-labelledby': 'list-h' });
  const add = cardForm(null, 'Add card', async (body) => {
    await api.call('POST', BASE, { json: body });
    announce('Card added.');
    await refresh();
  });
  const tools = h('div.tools', {},
    h('section.card', { 'aria-labelledby': 'add-h' }, h('h2#add-h', 'Add a card'), add.form),
    await fromDocument(refresh),
    transfer(tag, refresh));
  main.append(tools, list);

  async function refresh() {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (tag) q.set('tag', tag);
    clear(list).append(h('h2#list-h', { tabindex: '-1' }, tag ? `Cards tagged “${tag}”` : 'Your cards'), filterForm(), loading('your cards'));
    let r;
    try {
      r = await api.call('GET', `${BASE}?${q}`, { withHeaders: true });
    } catch (e) {
      list.lastChild.replaceWith(errorBox(e));
      return;
    }
    list.lastChild.remove();
    const total = Number(r.headers.get('X-Total-Count') || r.body.length);
    if (!r.body.length) {
      if (offset > 0 && total > 0) { ctx.go(here(Math.max(0, Math.floor((total - 1) / PAGE) * PAGE))); return; }
      list.append(h('p.empty', tag ? `No card is tagged “${tag}”.`
        : 'No cards yet. Add one above, make some from a document or import a CSV file.'));
      return;
    }
    list.append(h('p#list-count.meta', `Cards ${offset + 1}–${offset + r.body.length} of ${total}`),
      h('ul.fc-list', { 'aria-describedby': 'list-count' }, r.body.map((c) => cardRow(c))));
    if (total > PAGE) {
      list.append(h('nav.pager', { 'aria-label': 'Pages of cards' },
        offset > 0 ? h('a.button', { href: `#${here(Math.max(0, offset - PAGE))}` }, 'Previous page') : null,
        h('span.meta', `Page ${Math.floor(offset / PAGE) + 1} of ${Math.ceil(total / PAGE)}`),
        offset + PAGE < total ? h('a.button', { href: `#${here(offset + PAGE)}` }, 'Next page') : null));
    }
  }

  function filterForm() {
    const input = h('input', { type: 'text', name: 'tag', value: tag, autocomplete: 'off', maxlength: '64' });
    return h('form.row.filter', {
      role: 'search',
      'aria-label': 'Filter by tag',
      onsubmit: (e) => { e.preventDefault(); ctx.go(here(0, input.value.trim())); },
    }, field('Tag', input), h('div.actions', h('button', { type: 'submit' }, 'Filter'),
      tag ? h('a.button', { href: '#/cards/list' }, 'Show every card') : null));
  }

  function cardRow(c) {
    const li = h('li.fc', { 'data-id': c.id });
    const label = short(c.front, 40);
    const due = c.state === 'new' ? 'new' : `${c.state}, due ${formatTime(c.due)}`;
    const show = () => clear(li).append(
      h('p.fc-front', c.front),
      h('p.fc-back', c.back),
      h('p.meta', c.tags.map((t) => [h('a.tag', { href: `#${here(0, t)}` }, t), ' ']),
        `${due} · ${plural(c.reps, 'review')}`),
      h('div.actions', {},
        h('button.small', { type: 'button', 'aria-label': `Edit ${label}`, onclick: edit }, 'Edit'),
        h('button.danger.small', {
          type: 'button',
          'aria-label': `Delete ${label}`,
          onclick: async () => {
            if (!window.confirm(`Delete the card “${label}”?`)) return;
            try {
              await api.call('DELETE', `${BASE}/${c.id}`);
              announce('Card deleted.');
              await refresh();
              list.querySelector('h2').focus();
            } catch (e) { announce(e.message); }
          },
        }, 'Delete')));
    function edit() {
      const f = cardForm(c, 'Save card', async (body) => {
        await api.call('PATCH', `${BASE}/${c.id}`, { json: body });
        announce('Card saved.');
        await refresh();
        const again = list.querySelector(`li[data-id="${c.id}"] button`);
        if (again) again.focus();
      }, () => { show(); li.querySelector('button').focus(); });
      clear(li).append(h('h3', `Edit “${label}”`), f.form);
      f.front.focus();
    }
    show();
    return li;
  }

  await refresh();
}

// Cards from one of the learner's processed documents.
async function fromDocument(refresh) {
  const box = h('section.card', { 'aria-labelledby': 'from-h' }, h('h2#from-h', 'From a document'));
  let docs;
  try {
    docs = (await api.call('GET', '/api/v1/documents?limit=100')).filter((d) => d.status === 'processed');
  } catch (e) {
    box.append(errorBox(e));
    return box;
  }
  if (!docs.length) {
    box.append(h('p.empty', 'No processed document yet: ', h('a', { href: '#/library' }, 'upload one'), ' to make cards from it.'));
    return box;
  }
  const doc = h('select', { name: 'document' }, docs.map((d) => h('option', { value: d.id }, d.filename)));
  const limit = h('input', { type: 'number', name: 'limit', min: '1', max: '100', value: '20', required: true });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button.primary', { type: 'submit' }, 'Make cards');
  box.append(h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      clear(out);
      submit.disabled = true;
      try {
        const r = await makeFromDocument(doc.value, Number(limit.value));
        out.append(h('p.notice', madeMessage(r)));
        await refresh();
      } catch (ex) {
        out.append(errorBox(ex));
      } finally {
        submit.disabled = false;
      }
    },
  }, field('Document', doc), field('At most this many cards', limit), submit, out));
  return box;
}

// The export (for Anki, or CSV) and the CSV import.
function transfer(tag, refresh) {
  const out = h('div', { 'aria-live': 'polite' });
  const download = (format) => async (e) => {
    e.target.disabled = true;
    clear(out);
    try {
      const q = new URLSearchParams({ format });
      if (tag) q.set('tag', tag);
      const { blob, headers } = await api.blob('GET', `${BASE}/export?${q}`);
      const m = /filename="?([^";]+)"?/.exec(headers.get('Content-Disposition') || '');
      saveBlob(blob, m ? m[1] : `lectern-cards.${format === 'csv' ? 'csv' : 'txt'}`);
      announce('Downloading your cards.');
    } catch (ex) {
      out.append(errorBox(ex));
    } finally {
      e.target.disabled = false;
    }
  };
  const file = h('input', { type: 'file', name: 'csv', accept: '.csv,text/csv' });
  const submit = h('button', { type: 'submit' }, 'Import');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      clear(out);
      const f = file.files[0];
      if (!f) { out.append(h('p.error', { role: 'alert' }, 'Choose a CSV file first.')); return; }
      if (f.size > IMPORT_MAX) { out.append(h('p.error', { role: 'alert' }, `${f.name} is over 1 MB, the most one import takes.`)); return; }
      submit.disabled = true;
      try {
        const r = await api.call('POST', `${BASE}/import`, { body: f, headers: { 'Content-Type': 'text/csv' } });
        out.append(h('p.notice', r.imported ? `${plural(r.imported, 'card')} imported from ${f.name}.` : r.message));
        file.value = '';
        await refresh();
      } catch (ex) {
        out.append(h('p.error', { role: 'alert' }, `Nothing was imported from ${f.name}. ${ex.message}`));
      } finally {
        submit.disabled = false;
      }
    },
  }, field('CSV file', file, 'One card a row: front,back,tags (an optional header row front,back,tags; tags separated by spaces). At most 1 MB.'), submit);
  return h('section.card', { 'aria-labelledby': 'transfer-h' }, h('h2#transfer-h', 'Export and import'),
    h('p', tag ? `Download the cards tagged “${tag}”:` : 'Download every card:'),
    h('div.actions', h('button', { type: 'button', onclick: download('anki') }, 'Export for Anki'),
      h('button', { type: 'button', onclick: download('csv') }, 'Export as CSV')),
    h('p.hint', 'Anki: File › Import the .txt file (Anki 2.1.55 or later).'),
    form, out);
}

// --- settings ----------------------------------------------------------------------

export async function cardSettingsPage(main) {
  main.append(cardsNav('/cards/settings'), pageTitle('Flashcard settings'), loading('your settings'));
  let s;
  try {
    s = await api.call('GET', `${BASE}/settings`);
  } catch (e) {
    main.lastChild.replaceWith(errorBox(e));
    return;
  }
  main.lastChild.remove();
  const retention = h('input', { type: 'number', name: 'retention', min: '70', max: '97', step: '1', required: true,
    value: String(Math.round(s.desired_retention * 1000) / 10) });
  const fresh = h('input', { type: 'number', name: 'new_per_day', min: '0', max: '9999', step: '1', required: true, value: String(s.new_per_day) });
  const reviews = h('input', { type: 'number', name: 'reviews_per_day', min: '0', max: '99999', step: '1', required: true, value: String(s.reviews_per_day) });
  const zone = h('input', { type: 'text', name: 'timezone', maxlength: '64', required: true, autocomplete: 'off', value: s.timezone });
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button.primary', { type: 'submit' }, 'Save settings');
  main.append(h('form.card.narrow', {
    onsubmit: async (e) => {
      e.preventDefault();
      clear(out);
      submit.disabled = true;
      try {
        const body = {
          desired_retention: Math.round(Number(retention.value) * 100) / 10000,
          new_per_day: Number(fresh.value),
          reviews_per_day: Number(reviews.value),
          timezone: zone.value.trim(),
        };
        await api.call('PATCH', `${BASE}/settings`, { json: body });
        out.append(h('p.notice', 'Settings saved.'));
        announce('Settings saved.');
      } catch (ex) {
        out.append(errorBox(ex));
      } finally {
        submit.disabled = false;
      }
    },
  },
  field('Desired retention (%)', retention, 'How sure you want to be of remembering a card when it comes back: 70 to 97. Higher means shorter intervals and more reviews.'),
  h('div.row', field('New cards a day', fresh), field('Reviews a day', reviews)),
  field('Time zone', zone, `Your day starts at midnight there (an IANA name such as Europe/Paris).${here ? ` This browser is in ${here}.` : ''}`),
  here && here !== s.timezone ? h('p', h('button', { type: 'button', onclick: () => { zone.value = here; zone.focus(); } }, `Use ${here}`)) : null,
  out, submit));
}
