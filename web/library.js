// The library: upload (picker or drag and drop, with progress), the list of
// documents with their processing status, delete.
import * as api from './api.js';
import { h, clear, pageTitle, announce, errorBox, loading, formatSize, formatTime } from './dom.js';

const MAX_BYTES = 25 * 1024 * 1024;
const TYPES = ['pdf', 'txt', 'md', 'markdown', 'docx', 'png', 'jpg', 'jpeg'];
const ACCEPT = '.pdf,.txt,.md,.markdown,.docx,.png,.jpg,.jpeg,application/pdf,text/plain,text/markdown,'
  + 'application/vnd.openxmlformats-officedocument.wordprocessingml.document,image/png,image/jpeg';

export function checkFile(file) {
  const ext = (file.name.split('.').pop() || '').toLowerCase();
  if (!TYPES.includes(ext)) {
    return `${file.name}: Lectern reads PDF, Word (DOCX), text, Markdown, PNG and JPEG files.`;
  }
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > MAX_BYTES) return `${file.name} is ${formatSize(file.size)}: the limit is 25 MB.`;
  return null;
}

export function statusBadge(status) {
  const label = { uploaded: 'Queued', processing: 'Processing', processed: 'Ready', failed: 'Failed' }[status] || status;
  return h(`span.badge.${status}`, label);
}

export async function libraryPage(main, ctx) {
  main.append(pageTitle('Library'));
  const uploads = h('ul.uploads', { 'aria-label': 'Uploads' });
  const input = h('input.visually-hidden', { type: 'file', id: 'file-input', accept: ACCEPT, multiple: true });
  const drop = h('div.drop', {},
    h('p', 'Drop PDF, Word, text, Markdown or image files here, or'),
    input,
    h('label.button.primary', { for: 'file-input' }, 'Choose files'),
    h('p.hint', 'Up to 25 MB each.'));
  const list = h('section', { 'aria-labelledby': 'docs-h' });
  main.append(h('section.card', { 'aria-label': 'Upload' }, drop, uploads), list);

  let timer = 0;
  let alive = true;
  ctx.onLeave(() => { alive = false; clearTimeout(timer); });

  async function refresh(first) {
    if (first) clear(list).append(h('h2#docs-h', 'Your documents'), loading('your documents'));
    let docs;
    try {
      docs = await api.call('GET', '/api/v1/documents?limit=100');
    } catch (e) {
      clear(list).append(h('h2#docs-h', 'Your documents'), errorBox(e));
      return;
    }
    if (!alive) return;
    clear(list).append(h('h2#docs-h', 'Your documents'));
    if (!docs.length) {
      list.append(h('p.empty', 'No documents yet. Upload one above to get study notes, quizzes and answers.'));
    } else {
      list.append(h('ul.doc-list', docs.map((d) => docRow(d))));
    }
    clearTimeout(timer);
    if (docs.some((d) => d.status === 'uploaded' || d.status === 'processing')) {
      timer = setTimeout(() => refresh(false), 2000);
    }
  }

  function docRow(d) {
    return h('li.doc', {},
      h('a.doc-name', { href: `#/documents/${d.id}` }, d.filename),
      h('span.meta', `${(d.file_type || '').toUpperCase()} · ${formatSize(d.file_size)}${d.pages ? ` · ${d.pages} page${d.pages === 1 ? '' : 's'}` : ''} · ${formatTime(d.created_at)}`),
      statusBadge(d.status),
      d.error ? h('span.error.small', d.error) : null,
      h('button.danger.small', {
        type: 'button',
        'aria-label': `Delete ${d.filename}`,
        onclick: async () => {
          if (!window.confirm(`Delete ${d.filename}? Its text and notes go too.`)) return;
          try {
            await api.call('DELETE', `/api/v1/documents/${d.id}`);
            announce(`${d.filename} was deleted.`);
            refresh(false);
          } catch (e) {
            announce(e.message);
          }
        },
      }, 'Delete'));
  }

  async function send(file) {
    const bar = h('progress', { max: 100, value: 0, 'aria-label': `Uploading ${file.name}` });
    const note = h('span.meta', 'Starting…');
    const row = h('li', {}, h('span.doc-name', file.name), bar, note);
    uploads.append(row);
    const problem = checkFile(file);
    if (problem) {
      bar.remove();
      note.replaceWith(h('span.error', { role: 'alert' }, problem));
      return;
    }
    const form = new FormData();
    form.append('file', file, file.name);
    form.append('wait', '2');
    try {
      const doc = await api.upload('/api/v1/documents/upload', form, (done, total) => {
        const pct = Math.round((done / total) * 100);
        bar.value = pct;
        note.textContent = pct < 100 ? `${pct}%` : 'Processing…';
      });
      bar.value = 100;
      note.textContent = doc.status === 'processed' ? 'Ready' : 'Uploaded; processing…';
      announce(`${file.name} uploaded.`);
    } catch (e) {
      bar.remove();
      note.replaceWith(h('span.error', { role: 'alert' }, e.message));
    }
    refresh(false);
  }

  input.addEventListener('change', () => {
    for (const f of input.files) send(f);
    input.value = '';
  });
  for (const ev of ['dragenter', 'dragover']) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const ev of ['dragleave', 'drop']) {
    drop.addEventListener(ev, () => drop.classList.remove('over'));
  }
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    for (const f of e.dataTransfer.files) send(f);
  });
  await refresh(true);
}
