// Chat: sessions, questions answered as a stream of server-sent events, and
// [n] citations that open the cited passage.
import * as api from './api.js';
import { h, clear, pageTitle, announce, errorBox, loading, formatTime, field } from './dom.js';
import { recordButton, transcribe, canRecord } from './recorder.js';

let msgSeq = 0;

// The reply's text with each [n] as a button that opens source n.
function withCitations(text, sources, sourceEls) {
  const out = [];
  const re = /\[(\d+)\]/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    const n = Number(m[1]);
    if (m.index > last) out.push(text.slice(last, m.index));
    if (sources[n - 1]) {
      out.push(h('button.cite', {
        type: 'button',
        'aria-label': `Source ${n}: ${sources[n - 1].filename}`,
        onclick: () => {
          const d = sourceEls[n - 1];
          d.open = true;
          d.querySelector('summary').focus();
        },
      }, `[${n}]`));
    } else {
      out.push(m[0]);
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function messageView(m) {
  if (m.role === 'user') return h('li.msg.user', h('span.visually-hidden', 'You: '), h('p', m.content));
  const sources = m.sources || [];
  const seq = ++msgSeq;
  const sourceEls = sources.map((s, i) => h('details.source', { id: `src-${seq}-${i + 1}` },
    h('summary', `[${i + 1}] ${s.filename}${s.section ? ` · ${s.section}` : ''}${s.page ? ` · page ${s.page}` : ''}`),
    h('blockquote', s.excerpt || ''),
    s.document_id ? h('a', { href: `#/documents/${s.document_id}` }, 'Open the document') : null));
  return h('li.msg.assistant', {},
    h('span.visually-hidden', 'Lectern: '),
    h('p', withCitations(m.content || '', sources, sourceEls)),
    sources.length ? h('div.sources', h('p.meta', 'Sources'), sourceEls) : null);
}

export async function chatPage(main, ctx, id) {
  main.append(pageTitle('Chat'));
  const side = h('nav.sessions', { 'aria-label': 'Chat sessions' });
  const pane = h('section.conversation', { 'aria-label': 'Conversation' });
  main.append(h('div.chat', side, pane));

  const newBtn = h('button.primary', {
    type: 'button',
    onclick: async () => {
      try {
        const s = await api.call('POST', '/api/v1/chat/sessions', { json: {} });
        ctx.go(`/chat/${s.id}`);
      } catch (e) { announce(e.message); }
    },
  }, 'New chat');
  side.append(newBtn, loading('your chats'));
  let sessions = [];
  try {
    sessions = await api.call('GET', '/api/v1/chat/sessions?limit=100');
    side.lastChild.remove();
    if (!sessions.length) side.append(h('p.empty', 'No chats yet.'));
    side.append(h('ul', sessions.map((s) => h('li',
      h('a', { href: `#/chat/${s.id}`, 'aria-current': s.id === id ? 'page' : null }, s.title),
      h('span.meta', formatTime(s.updated_at))))));
  } catch (e) {
    side.lastChild.replaceWith(errorBox(e));
    return;
  }
  if (!id) {
    pane.append(h('p.empty', 'Start a new chat, or open "Ask about this document" from a document, to ask questions about your documents. Answers quote your documents and cite them.'));
    return;
  }
  const session = sessions.find((s) => s.id === id);
  pane.append(h('div.chat-head', h('h2', session ? session.title : 'Chat'),
    h('button.danger.small', {
      type: 'button',
      onclick: async () => {
        if (!window.confirm('Delete this chat and its messages?')) return;
        try {
          await api.call('DELETE', `/api/v1/chat/sessions/${id}`);
          announce('Chat deleted.');
          ctx.go('/chat');
        } catch (e) { announce(e.message); }
      },
    }, 'Delete chat')));
  const list = h('ol.messages', { 'aria-live': 'polite' });
  pane.append(list);
  try {
    const msgs = await api.call('GET', `/api/v1/chat/sessions/${id}/messages?limit=100`);
    if (!msgs.length) list.append(h('li.empty', 'Ask your first question below.'));
    for (const m of msgs) list.append(messageView(m));
  } catch (e) {
    pane.append(errorBox(e));
    return;
  }

  const input = h('textarea', { name: 'message', rows: '3', maxlength: '4000', required: true });
  const send = h('button.primary', { type: 'submit' }, 'Send');
  const err = h('div', { 'aria-live': 'assertive' });
  const tools = h('div.actions', send);
  let stopper = null;
  ctx.onLeave(() => { if (stopper) stopper.abort(); if (dictate) dictate.stop(); });
  let dictate = null;
  if (canRecord()) {
    dictate = recordButton('Dictate', async (blob) => {
      announce('Transcribing…');
      try {
        const t = await transcribe(blob, 'question.webm');
        input.value = (input.value ? `${input.value} ` : '') + (t.text || '');
        input.focus();
        announce(t.text ? 'Your question was transcribed.' : 'No speech was recognised.');
      } catch (e) { clear(err).append(errorBox(e)); }
    }, (e) => clear(err).append(errorBox(e)));
    tools.append(dictate);
  }
  const form = h('form.ask', {
    onsubmit: async (e) => {
      e.preventDefault();
      clear(err);
      const text = input.value.trim();
      if (!text) { err.append(h('p.error', { role: 'alert' }, 'Write a question first.')); return; }
      const empty = list.querySelector('li.empty');
      if (empty) empty.remove();
      list.append(messageView({ role: 'user', content: text }));
      const pending = h('li.msg.assistant.pending', h('p', h('span.loading', 'Thinking…')));
      list.append(pending);
      input.value = '';
      send.disabled = true;
      stopper = new AbortController();
      let streamed = '';
      try {
        await api.stream(`/api/v1/chat/sessions/${id}/messages`, { message: text }, (name, data) => {
          if (name === 'delta' && data && typeof data.content === 'string') {
            streamed += data.content;
            clear(pending.firstChild).append(streamed);
          } else if (name === 'done' && data && data.assistant_message) {
            pending.replaceWith(messageView(data.assistant_message));
          } else if (name === 'error') {
            throw new Error((data && data.message) || 'The answer failed.');
          }
        }, stopper.signal);
        announce('Answer received.');
      } catch (ex) {
        pending.replaceWith(h('li.msg.assistant', errorBox(ex)));
      } finally {
        send.disabled = false;
        stopper = null;
        input.focus();
      }
    },
  }, field('Your question', input), err, tools);
  pane.append(form);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
}
