// One document: status, study notes, text, download, read aloud, make a
// quiz or flashcards, ask about it.
import * as api from './api.js';
import { h, clear, pageTitle, announce, errorBox, loading, formatSize, formatTime, saveBlob, field } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { statusBadge } from './library.js';
import { voiceSelect, player } from './voices.js';
import { makeFromDocument, madeMessage } from './cards.js';

export async function documentPage(main, ctx, id) {
  main.append(h('p', h('a', { href: '#/library' }, '← Library')), loading('the document'));
  let doc;
  try {
    doc = await api.call('GET', `/api/v1/documents/${id}`);
  } catch (e) {
    main.lastChild.replaceWith(errorBox(e));
    return;
  }
  main.lastChild.remove();
  main.append(pageTitle(doc.filename));
  main.append(h('p.meta', statusBadge(doc.status), ' ',
    `${(doc.file_type || '').toUpperCase()} · ${formatSize(doc.file_size)}${doc.pages ? ` · ${doc.pages} page${doc.pages === 1 ? '' : 's'}` : ''} · uploaded ${formatTime(doc.created_at)}`));
  if (doc.error) main.append(h('p.error', { role: 'alert' }, doc.error));

  let timer = 0;
  ctx.onLeave(() => clearTimeout(timer));
  if (doc.status === 'uploaded' || doc.status === 'processing') {
    main.append(h('p.notice', { role: 'status' }, 'This document is still being processed; this page refreshes when it is ready.'));
    timer = setTimeout(() => ctx.go(`/documents/${id}`), 2500);
  }

  const ready = doc.status === 'processed';
  const made = h('div', { 'aria-live': 'polite' });
  const actions = h('div.actions', {},
    h('button', {
      type: 'button',
      onclick: async () => {
        try {
          const { blob } = await api.blob('GET', `/api/v1/documents/${id}/download`);
          saveBlob(blob, doc.filename);
          announce(`Downloading ${doc.filename}.`);
        } catch (e) { announce(e.message); }
      },
    }, 'Download'),
    ready ? h('a.button', { href: `#/quizzes/new?document=${id}` }, 'Make a quiz') : null,
    ready ? h('button', {
      type: 'button',
      onclick: async (e) => {
        e.target.disabled = true;
        clear(made);
        try {
          const r = await makeFromDocument(id);
          made.append(h('p.notice', `${madeMessage(r)} `, h('a', { href: '#/cards' }, 'Review them'), ' or ',
            h('a', { href: '#/cards/list' }, 'see every card'), '.'));
        } catch (ex) {
          made.append(errorBox(ex));
        } finally {
          e.target.disabled = false;
        }
      },
    }, 'Make flashcards') : null,
    doc.status === 'failed' ? h('button', {
      type: 'button',
      onclick: async () => {
        try {
          await api.call('POST', `/api/v1/documents/${id}/process`);
          announce('Processing again.');
          ctx.go(`/documents/${id}`);
        } catch (e) { announce(e.message); }
      },
    }, 'Process again') : null,
    ready ? h('button', {
      type: 'button',
      onclick: async (e) => {
        e.target.disabled = true;
        try {
          const s = await api.call('POST', '/api/v1/chat/sessions', { json: { title: `About ${doc.filename}`.slice(0, 200), document_ids: [id] } });
          ctx.go(`/chat/${s.id}`);
        } catch (ex) {
          e.target.disabled = false;
          announce(ex.message);
        }
      },
    }, 'Ask about this document') : null);
  main.append(actions, made);

  if (ready) main.append(await readAloud(id, doc.filename));

  const notes = h('section.card', { 'aria-labelledby': 'notes-h' }, h('h2#notes-h', 'Study notes'));
  main.append(notes);
  if (ready || doc.notes_generated) {
    notes.append(loading('the notes'));
    try {
      const r = await api.call('GET', `/api/v1/documents/${id}/notes`);
      notes.lastChild.remove();
      if (!r.notes.length) notes.append(h('p.empty', 'No notes yet.'));
      else notes.append(renderMarkdown(r.notes[0].content, 3), h('p.meta', `Made ${formatTime(r.notes[0].created_at)} (${r.notes[0].generator})`));
      notes.append(h('button', {
        type: 'button',
        onclick: async (e) => {
          e.target.disabled = true;
          e.target.textContent = 'Making new notes…';
          try {
            const x = await api.call('POST', `/api/v1/documents/${id}/regenerate-notes`);
            announce(x.status === 'completed' ? 'New notes are ready.' : 'New notes are on their way.');
            ctx.go(`/documents/${id}`);
          } catch (ex) {
            e.target.disabled = false;
            e.target.textContent = 'Make new notes';
            announce(ex.message);
          }
        },
      }, 'Make new notes'));
    } catch (e) {
      notes.lastChild.replaceWith(errorBox(e));
    }
  } else {
    notes.append(h('p.empty', 'Notes appear when the document has been processed.'));
  }

  const text = doc.content || '';
  main.append(h('section.card', { 'aria-labelledby': 'text-h' },
    h('h2#text-h', 'Text'),
    text ? h('details', {}, h('summary', `Show the extracted text (${text.length.toLocaleString()} characters)`),
      h('div.doc-text', { tabindex: '0', role: 'region', 'aria-label': 'Extracted text' }, text))
      : h('p.empty', 'No text has been extracted yet.')));
}

async function readAloud(id, filename) {
  const voice = await voiceSelect('read-voice');
  const part = h('select', { id: 'read-part' },
    h('option', { value: 'summary' }, 'Summary'),
    h('option', { value: 'notes' }, 'Study notes'),
    h('option', { value: 'content' }, 'Whole text'));
  const out = h('div', { 'aria-live': 'polite' });
  const go = h('button.primary', {
    type: 'submit',
  }, 'Read aloud');
  const form = h('form.card.inline-form', {
    'aria-labelledby': 'read-h',
    onsubmit: async (e) => {
      e.preventDefault();
      clear(out).append(h('p.loading', 'Synthesizing…'));
      go.disabled = true;
      try {
        const { blob } = await api.blob('POST', '/api/v1/tts/synthesize', {
          json: { document_id: id, part: part.value, voice_id: voice.value, format: 'mp3' },
        });
        clear(out).append(player(blob, `${filename.replace(/\.[^.]*$/, '')}-${part.value}.mp3`));
        announce('The audio is ready.');
      } catch (ex) {
        clear(out).append(errorBox(ex));
      } finally {
        go.disabled = false;
      }
    },
  }, h('h2#read-h', 'Listen'), h('div.row', field('Voice', voice), field('Part', part), go), out);
  return form;
}
