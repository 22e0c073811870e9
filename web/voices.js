// The voice picker shared by the document and speech pages.
import * as api from './api.js';
import { h } from './dom.js';

let cached = null;

export async function voiceSelect(id) {
  const select = h('select', { id, name: 'voice' });
  try {
    if (!cached) cached = await api.call('GET', '/api/v1/tts/voices');
    const voices = cached.voices || [];
    const named = voices.filter((v) => !String(v.id).startsWith('espeak-') && v.id === v.name);
    const groups = new Map();
    for (const v of voices) {
      const key = v.language_name || v.language || 'Other';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(v);
    }
    for (const [lang, vs] of groups) {
      select.append(h('optgroup', { label: lang },
        vs.map((v) => h('option', { value: v.id }, `${v.name}${v.gender ? ` (${v.gender})` : ''}`))));
    }
    select.value = named.some((v) => v.id === 'Joanna') || voices.some((v) => v.id === 'Joanna') ? 'Joanna' : (voices[0] || {}).id;
  } catch (e) {
    select.append(h('option', { value: 'Joanna' }, 'Joanna (default)'));
    select.dataset.error = e.message;
  }
  return select;
}

// An <audio> player and a download link for a synthesized Blob.
export function player(blob, name) {
  const url = URL.createObjectURL(blob);
  return h('div.player', {},
    h('audio', { controls: true, src: url, preload: 'auto' }),
    h('a.button', { href: url, download: name }, 'Download audio'));
}
