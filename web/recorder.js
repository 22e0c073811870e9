// Recording from the microphone (MediaRecorder, WebM/Opus) and sending audio
// to the speech-to-text service.
import * as api from './api.js';
import { h } from './dom.js';

export function canRecord() {
  return !!(navigator.mediaDevices && window.MediaRecorder);
}

// A toggle button: first press records, second press stops and calls
// onAudio(blob).
export function recordButton(label, onAudio, onError) {
  let rec = null;
  let chunks = [];
  const btn = h('button', { type: 'button', 'aria-pressed': 'false' }, label);
  btn.addEventListener('click', async () => {
    if (rec) {
      rec.stop();
      return;
    }
    try {
      const media = await navigator.mediaDevices.getUserMedia({ audio: true });
      const type = MediaRecorder.isTypeSupported('audio/webm;codecs=opus') ? 'audio/webm;codecs=opus' : '';
      rec = new MediaRecorder(media, type ? { mimeType: type } : {});
      chunks = [];
      rec.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
      rec.onstop = () => {
        for (const t of media.getTracks()) t.stop();
        const blob = new Blob(chunks, { type: rec.mimeType || 'audio/webm' });
        rec = null;
        btn.textContent = label;
        btn.setAttribute('aria-pressed', 'false');
        btn.classList.remove('recording');
        onAudio(blob);
      };
      rec.start();
      btn.textContent = 'Stop recording';
      btn.setAttribute('aria-pressed', 'true');
      btn.classList.add('recording');
    } catch (e) {
      rec = null;
      onError(new Error(`The microphone could not be used: ${e.message}`));
    }
  });
  btn.stop = () => { if (rec) rec.stop(); };
  return btn;
}

// Sends audio for transcription and waits for the text (up to 30 s, then
// follows the status URL).
export async function transcribe(blob, name) {
  const form = new FormData();
  form.append('audio', blob, name || 'recording.webm');
  form.append('wait', '30');
  let t = await api.upload('/api/v1/stt/transcribe', form, () => {});
  for (let i = 0; i < 60 && (t.status === 'processing' || t.status === 'queued'); i++) {
    await new Promise((r) => setTimeout(r, 2000));
    t = await api.call('GET', `/api/v1/stt/status/${t.task_id}`);
  }
  if (t.status === 'failed') throw new Error(t.error || 'The transcription failed.');
  return t;
}
