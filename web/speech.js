// Speech: text to speech (voices, play, download, the user's audio) and
// speech to text (record or upload, the transcript with uncertain words
// marked, earlier transcriptions).
import * as api from './api.js';
import { h, clear, pageTitle, announce, errorBox, loading, formatTime, field, saveBlob } from './dom.js';
import { voiceSelect, player } from './voices.js';
import { recordButton, transcribe, canRecord } from './recorder.js';

const LOW = 0.5; // words under this confidence are marked

export function transcriptView(t) {
  const words = t.words || [];
  const text = words.length
    ? h('p.transcript', words.flatMap((w, i) => {
      const low = typeof w.confidence === 'number' && w.confidence < LOW;
      const el = low
        ? h('mark.low', { title: `Uncertain (${Math.round(w.confidence * 100)}%)` }, w.word, h('span.visually-hidden', ' (uncertain)'))
        : w.word;
      return i ? [' ', el] : [el];
    }))
    : h('p.transcript', t.text || 'No speech was recognised.');
  return h('div.card', { 'aria-label': 'Transcript' },
    h('h3', 'Transcript'), text,
    h('p.meta', `${t.language || ''} · ${t.duration_seconds ? `${Number(t.duration_seconds).toFixed(1)} s` : ''} · confidence ${t.confidence !== undefined && t.confidence !== null ? `${Math.round(t.confidence * 100)}%` : '–'}`),
    words.some((w) => w.confidence < LOW) ? h('p.hint', 'Highlighted words are ones the recogniser was unsure of.') : null);
}

async function ttsSection(main, ctx) {
  const voice = await voiceSelect('tts-voice');
  const text = h('textarea', { rows: '4', maxlength: '5000', required: true });
  const format = h('select', {}, ['mp3', 'wav', 'ogg'].map((f) => h('option', { value: f }, f.toUpperCase())));
  const speed = h('input', { type: 'number', min: '0.5', max: '2', step: '0.1', value: '1' });
  const out = h('div', { 'aria-live': 'polite' });
  const go = h('button.primary', { type: 'submit' }, 'Speak');
  const library = h('div');
  const section = h('section.card', { 'aria-labelledby': 'tts-h' }, h('h2#tts-h', 'Text to speech'));
  if (voice.dataset.error) section.append(h('p.notice', voice.dataset.error));
  section.append(h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      if (!text.value.trim()) { clear(out).append(h('p.error', { role: 'alert' }, 'Write some text to speak.')); return; }
      go.disabled = true;
      clear(out).append(h('p.loading', 'Synthesizing…'));
      try {
        const { blob } = await api.blob('POST', '/api/v1/tts/synthesize', {
          json: { text: text.value, voice_id: voice.value, format: format.value, speed: Number(speed.value) },
        });
        clear(out).append(player(blob, `speech.${format.value}`));
        announce('The audio is ready.');
        loadLibrary();
      } catch (ex) {
        clear(out).append(errorBox(ex));
      } finally { go.disabled = false; }
    },
  }, field('Text', text), h('div.row', field('Voice', voice), field('Format', format), field('Speed', speed)), go, out),
  h('h3', 'Your audio'), library);
  main.append(section);

  async function loadLibrary() {
    clear(library).append(loading('your audio'));
    try {
      const items = await api.call('GET', '/api/v1/tts/audio?limit=20');
      clear(library);
      if (!items.length) { library.append(h('p.empty', 'Nothing synthesized yet.')); return; }
      library.append(h('ul.audio-list', items.map((a) => {
        const slot = h('div');
        return h('li', {},
          h('span', `“${a.text || ''}”`), ' ',
          h('span.meta', `${a.voice_id} · ${a.format} · ${(a.duration_ms / 1000).toFixed(1)} s · ${formatTime(a.created_at)}`), ' ',
          h('button.small', {
            type: 'button',
            onclick: async () => {
              try {
                const { blob } = await api.blob('GET', `/api/v1/tts/audio/${a.id}`);
                clear(slot).append(player(blob, `speech.${a.format}`));
                slot.querySelector('audio').play().catch(() => {});
              } catch (e) { announce(e.message); }
            },
          }, 'Play'), ' ',
          h('button.small', {
            type: 'button',
            onclick: async () => {
              try {
                const { blob } = await api.blob('GET', `/api/v1/tts/audio/${a.id}`);
                saveBlob(blob, `speech.${a.format}`);
              } catch (e) { announce(e.message); }
            },
          }, 'Download'), ' ',
          h('button.danger.small', {
            type: 'button',
            'aria-label': 'Delete this audio',
            onclick: async () => {
              try { await api.call('DELETE', `/api/v1/tts/audio/${a.id}`); announce('Audio deleted.'); loadLibrary(); } catch (e) { announce(e.message); }
            },
          }, 'Delete'), slot);
      })));
    } catch (e) { clear(library).append(errorBox(e)); }
  }
  loadLibrary();
}

function sttSection(main, ctx) {
  const out = h('div', { 'aria-live': 'polite' });
  const history = h('div');
  const run = async (blob, name) => {
    clear(out).append(h('p.loading', 'Transcribing…'));
    try {
      const t = await transcribe(blob, name);
      clear(out).append(transcriptView(t));
      announce('The transcript is ready.');
      loadHistory();
    } catch (e) { clear(out).append(errorBox(e)); }
  };
  const fail = (e) => clear(out).append(errorBox(e));
  const file = h('input', { type: 'file', accept: 'audio/*,.wav,.mp3,.ogg,.opus,.flac,.webm,.m4a,.aac' });
  file.addEventListener('change', () => {
    const f = file.files[0];
    if (!f) return;
    if (f.size > 50 * 1024 * 1024) { fail(new Error(`${f.name} is over the 50 MB limit.`)); return; }
    run(f, f.name);
    file.value = '';
  });
  const rec = canRecord() ? recordButton('Record', (b) => run(b, 'recording.webm'), fail) : h('p.notice', 'This browser cannot record audio; upload a file instead.');
  ctx.onLeave(() => { if (rec.stop) rec.stop(); });
  main.append(h('section.card', { 'aria-labelledby': 'stt-h' },
    h('h2#stt-h', 'Speech to text'),
    h('div.row', rec, field('Or upload audio', file)),
    out, h('h3', 'Earlier transcriptions'), history));

  async function loadHistory() {
    clear(history).append(loading('your transcriptions'));
    try {
      const items = await api.call('GET', '/api/v1/stt/transcriptions?limit=20');
      clear(history);
      if (!items.length) { history.append(h('p.empty', 'No transcriptions yet.')); return; }
      history.append(h('ul.audio-list', items.map((t) => h('li', {},
        h('span', t.text ? `“${t.text}”` : `(${t.status})`), ' ',
        h('span.meta', formatTime(t.created_at)), ' ',
        h('button.danger.small', {
          type: 'button',
          'aria-label': 'Delete this transcription',
          onclick: async () => {
            try { await api.call('DELETE', `/api/v1/stt/transcriptions/${t.id}`); loadHistory(); } catch (e) { announce(e.message); }
          },
        }, 'Delete')))));
    } catch (e) { clear(history).append(errorBox(e)); }
  }
  loadHistory();
}

export async function speechPage(main, ctx) {
  main.append(pageTitle('Speech'));
  await ttsSection(main, ctx);
  sttSection(main, ctx);
}
