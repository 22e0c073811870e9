// Browser tests of Lectern's web app: Debian's Chromium driven by
// playwright-core walks every flow against a running lab as a new user and
// prints TAP. t/integration/web.t starts the lab and runs this.
//
// Environment: WEB_URL (the lab's http URL), LAB_DIR (its directory: the
// JWT key for the expired-token case), SHOTS (screenshot directory),
// SPEECH_WAV (a spoken question), COURSE_MD (the course text), CHROMIUM.
import { chromium } from 'playwright-core';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const BASE = process.env.WEB_URL.replace(/\/$/, '');
const SHOTS = process.env.SHOTS;
const LAB_DIR = process.env.LAB_DIR;
const WAV = process.env.SPEECH_WAV;
const COURSE = readFileSync(process.env.COURSE_MD, 'utf8');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
mkdirSync(SHOTS, { recursive: true });

// --- TAP -------------------------------------------------------------------
let n = 0;
let failed = 0;
const problems = []; // console errors and failing requests, printed on failure
function diag(text) { for (const l of String(text).split('\n')) console.log(`# ${l}`); }
function ok(cond, name, extra) {
  n += 1;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) {
    failed += 1;
    if (extra) diag(extra);
    if (problems.length) diag(`console errors and failing requests so far:\n${problems.slice(-15).join('\n')}`);
  }
  return cond;
}
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    ok(false, `${name}: ${e.message.split('\n')[0]}`, e.stack);
    if (page) await shot(`failed-${n}`).catch(() => {});
  }
}

// --- browser -----------------------------------------------------------------
const profile = mkdtempSync(join(tmpdir(), 'lectern-chromium-'));
// A fresh profile (--user-data-dir, which Playwright passes for a
// persistent context).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${WAV}`, '--autoplay-policy=no-user-gesture-required'],
});
await context.grantPermissions(['microphone'], { origin: BASE });
let page;
let pageErrors = [];
let cspErrors = [];

function watch(p) {
  p.on('pageerror', (e) => { pageErrors.push(e.message); problems.push(`pageerror: ${e.message}`); });
  p.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  p.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`));
  p.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`); });
}
async function newPage() {
  page = await context.newPage();
  page.setDefaultTimeout(30000);
  watch(page);
  page.on('dialog', (d) => d.accept());
  return page;
}
async function shot(name) { await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }); }
async function axe(name) {
  await page.evaluate(AXE);
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((x) => x.target.join(' ')).slice(0, 3) }));
  });
  const bad = r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  ok(bad.length === 0, `axe: no serious or critical violation on ${name}`, JSON.stringify(bad, null, 1));
}
const main = () => page.locator('main');

// --- fixtures ----------------------------------------------------------------
// The course as a PDF with real headings, printed by Chromium itself.
function courseHtml() {
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return COURSE.split(/\n\n+/).map((b) => {
    const m = /^(#+)\s+(.*)$/.exec(b.trim());
    return m ? `<h${m[1].length}>${esc(m[2])}</h${m[1].length}>` : `<p>${esc(b)}</p>`;
  }).join('\n');
}
const work = mkdtempSync(join(tmpdir(), 'lectern-web-'));
const pdfPath = join(work, 'cell-biology.pdf');
{
  const p = await context.newPage();
  await p.setContent(`<!doctype html><html><body>${courseHtml()}</body></html>`);
  await p.pdf({ path: pdfPath, format: 'A4' });
  await p.close();
}
// (no quotes: browsers send " in a multipart file name as %22)
const xssName = '<img src=x onerror=window.__xss=1>.txt';
const xssText = '# Notes <script>window.__xss=2</script>\n\nThe <b>mitochondria</b> is the powerhouse of the cell. '
  + '<img src=x onerror="window.__xss=3"> Enzymes speed up chemical reactions in living cells. '
  + 'Ribosomes build proteins from amino acids. [link](javascript:window.__xss=4)\n';

// An access token that has run out, signed with the lab's own key.
function expiredToken(user) {
  const [kid, secret] = readFileSync(join(LAB_DIR, 'etc/jwt.keys'), 'utf8').split('\n')[0].split(' ');
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: 'HS256', typ: 'JWT', kid });
  const body = b64({ sub: user.id, user_id: user.id, email: user.email, name: user.name, role: 'user',
    iat: now - 7200, nbf: now - 7200, exp: now - 3600, iss: 'lectern', aud: 'lectern-api', jti: randomUUID() });
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

const email = `learner-${Date.now()}@example.org`;
const password = 'purple tractor sings loudly';
let docId = null;

await newPage();

// --- first page --------------------------------------------------------------
await step('first page', async () => {
  let bytes = 0;
  const sizes = [];
  page.on('requestfinished', async (r) => {
    const s = await r.sizes().catch(() => null);
    if (s) { bytes += s.responseBodySize + s.responseHeadersSize; sizes.push(s); }
  });
  const res = await page.goto(`${BASE}/`, { waitUntil: 'networkidle' });
  ok(res.status() === 200, 'GET / answers 200');
  const csp = res.headers()['content-security-policy'] || '';
  ok(/default-src 'self'/.test(csp) && /frame-ancestors 'none'/.test(csp) && !/unsafe-inline/.test(csp), 'the app has a strict CSP', csp);
  ok((res.headers()['cache-control'] || '') === 'no-cache', 'index.html is not cached');
  await page.waitForTimeout(300);
  ok(bytes > 0 && bytes < 150 * 1024, `first page transfer under 150 KB (${bytes} bytes)`);
  const js = await page.request.get(`${BASE}${await page.getAttribute('script[type=module]', 'src')}`, { headers: { 'Accept-Encoding': 'gzip' } });
  ok(/immutable/.test(js.headers()['cache-control'] || ''), 'versioned assets are cached for long', js.headers()['cache-control']);
  for (const bad of ['/static/v1/../../etc/passwd', '/static/v1/%2e%2e/%2e%2e/etc/passwd', '/static/v1/..%2f..%2fetc%2fpasswd',
    '/static/v1/missing.js', '/static/v1/.hidden', '/index.html/x', '/web/app.js']) {
    const r = await page.request.get(`${BASE}${bad}`);
    const type = r.headers()['content-type'] || '';
    const body = await r.text();
    ok(r.status() >= 400 && r.status() < 500 && type.includes('json') && !body.includes('root:'), `${bad} is a JSON ${r.status()}`, `${type} ${body.slice(0, 200)}`);
  }
  const api = await page.request.get(`${BASE}/api/v1/documents`);
  ok(/default-src 'none'/.test(api.headers()['content-security-policy'] || ''), 'the API keeps its deny-all CSP');
  ok(await page.getByRole('heading', { name: 'Sign in' }).isVisible(), 'signed out: the sign-in page');
  await shot('01-sign-in');
  await axe('sign in');
});

// --- sign up, wrong password, sign in -----------------------------------------
await step('sign up', async () => {
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill('Ada <b>Learner</b>');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('.error').first().waitFor();
  ok(/password/i.test(await page.locator('.error').first().innerText()), 'a common password is refused with a message', await page.locator('.error').first().innerText());
  await shot('02-sign-up-error');
  await axe('sign up');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Library' }).waitFor();
  ok(true, 'signed up: the library opens');
  ok(await page.locator('.who').innerText() === 'Ada <b>Learner</b>', 'the name is shown as text');
  const stored = await page.evaluate(() => JSON.stringify(localStorage) + Object.values(sessionStorage).join(' '));
  ok(!/eyJ/.test(stored), 'no access token in localStorage or sessionStorage', stored);
  ok(await page.getByText('No documents yet').isVisible(), 'the empty library says so');
  await shot('03-library-empty');
  await axe('empty library');
});

await step('sign out and wrong password', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the right one');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const err = page.getByRole('alert');
  await err.first().waitFor();
  const t = await err.first().innerText();
  ok(/email or password/i.test(t), 'a wrong password gets a clear message', t);
  await shot('04-wrong-password');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Library' }).waitFor();
  ok(true, 'signed in again');
});

// --- library -------------------------------------------------------------------
await step('upload refused before sending', async () => {
  await page.setInputFiles('#file-input', { name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') });
  await page.getByText('Lectern reads PDF').waitFor();
  ok(true, 'a wrong type is refused before upload');
  // 26 MB made in the page (sending it over the protocol is slow).
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(26 * 1024 * 1024)], 'huge.pdf', { type: 'application/pdf' }));
    const input = document.getElementById('file-input');
    input.files = dt.files;
    input.dispatchEvent(new Event('change'));
  });
  await page.getByText('the limit is 25 MB').waitFor();
  ok(true, 'an oversize file is refused before upload');
  await page.setInputFiles('#file-input', { name: 'fake.pdf', mimeType: 'application/pdf', buffer: Buffer.from('this is not a pdf at all, just words\u0000\u0001\u0002') });
  await page.locator('.uploads .error').nth(2).waitFor();
  const t = await page.locator('.uploads .error').nth(2).innerText();
  ok(/PDF|type|support|read/i.test(t), 'the server\'s refusal after upload is shown', t);
});

await step('upload a PDF', async () => {
  await page.setInputFiles('#file-input', pdfPath);
  await page.locator('progress').last().waitFor();
  ok(true, 'a progress bar shows the upload');
  const row = page.locator('li.doc', { hasText: 'cell-biology.pdf' });
  await row.locator('.badge', { hasText: 'Ready' }).waitFor({ timeout: 60000 });
  ok(true, 'the PDF is processed and shown as ready');
  docId = (await row.locator('a.doc-name').getAttribute('href')).split('/').pop();
});

await step('drag and drop', async () => {
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['# Enzymes\n\nEnzymes are proteins that speed up chemical reactions in cells.\n'], 'enzymes.md', { type: 'text/markdown' }));
    const drop = document.querySelector('.drop');
    drop.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const row = page.locator('li.doc', { hasText: 'enzymes.md' });
  await row.locator('.badge', { hasText: 'Ready' }).waitFor({ timeout: 60000 });
  ok(true, 'a dropped file is uploaded and processed');
  await row.getByRole('button', { name: 'Delete enzymes.md' }).click();
  await row.waitFor({ state: 'detached' });
  ok(true, 'and deleted again');
});

await step('upload hostile text', async () => {
  await page.setInputFiles('#file-input', { name: xssName, mimeType: 'text/plain', buffer: Buffer.from(xssText) });
  const row = page.locator('li.doc', { hasText: 'onerror' });
  await row.locator('.badge', { hasText: 'Ready' }).waitFor({ timeout: 60000 });
  const shown = await row.locator('a.doc-name').innerText();
  ok(shown === xssName, 'a file name with markup is shown as text', shown);
  ok(await page.evaluate(() => window.__xss) === undefined, 'no script from the file name ran');
  await shot('05-library');
  await axe('library');
});

// --- a document ------------------------------------------------------------------
await step('document page', async () => {
  await page.locator('a.doc-name', { hasText: 'cell-biology.pdf' }).click();
  await page.getByRole('heading', { name: 'cell-biology.pdf' }).waitFor();
  await page.getByRole('heading', { name: 'Study notes' }).waitFor();
  await page.locator('.markdown').waitFor();
  const notes = await page.locator('.markdown').innerText();
  ok(/Summary/.test(notes) && /Key terms/i.test(notes), 'the study notes show a summary and key terms', notes.slice(0, 300));
  await page.getByText(/Show the extracted text/).click();
  ok(/Osmosis\s+is\s+the\s+movement\s+of\s+water/.test(await page.locator('.doc-text').innerText()), 'the extracted text is shown');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
  const saved = join(work, 'download.pdf');
  await dl.saveAs(saved);
  ok(readFileSync(saved).subarray(0, 5).toString() === '%PDF-' && dl.suggestedFilename() === 'cell-biology.pdf', 'download gives the original PDF');
  await page.getByLabel('Part').selectOption('summary');
  // The speech service learns a document's notes from notes.generated: on a
  // slow machine (the sanitizer build) it may not have them yet, and the page
  // then shows its error. A learner would press the button again; so does the
  // test, for up to three minutes.
  const audio = page.locator('form audio');
  const refused = page.locator('form p.error');
  const until = Date.now() + 180000;
  let lastError = '';
  for (;;) {
    await page.getByRole('button', { name: 'Read aloud' }).click();
    await refused.waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
    await Promise.race([audio.waitFor({ timeout: 120000 }), refused.waitFor({ timeout: 120000 })]);
    if (await audio.count()) break;
    lastError = await refused.innerText();
    if (Date.now() > until) throw new Error(`read aloud kept failing: ${lastError}`);
    await page.waitForTimeout(2000);
  }
  if (lastError) diag(`read aloud was refused at first (${lastError}), then worked`);
  const dur = await audio.evaluate((a) => new Promise((r) => {
    if (a.readyState >= 1) r(a.duration); else { a.onloadedmetadata = () => r(a.duration); a.onerror = () => r(-1); }
  }));
  ok(dur > 0.5, `read aloud gives playable audio (${dur.toFixed ? dur.toFixed(1) : dur} s)`);
  await shot('06-document');
  await axe('document');
});

await step('hostile document rendered as text', async () => {
  await page.goto(`${BASE}/#/library`);
  await page.locator('a.doc-name', { hasText: 'onerror' }).click();
  await page.getByRole('heading', { name: xssName }).waitFor();
  await page.locator('.markdown, .empty').first().waitFor();
  await page.getByText(/Show the extracted text/).click();
  ok((await page.locator('.doc-text').innerText()).includes('<script>'), 'markup in the text is shown as text');
  ok(await page.locator('main img, main script, main b').count() === 0, 'no element was made from the document');
  ok(await page.evaluate(() => window.__xss) === undefined, 'no script from the document ran');
  await shot('07-hostile-document');
});

// --- expired session ----------------------------------------------------------------
await step('expired access token is renewed', async () => {
  // The user id comes from the token the page sends (read in the route).
  const u = { id: null, email, name: 'Ada' };
  await page.goto(`${BASE}/#/library`);
  await page.getByRole('heading', { name: 'Library' }).waitFor();
  let used = false;
  let sawRefresh = false;
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/auth/refresh')) sawRefresh = true; });
  let renewedStatus = 0;
  await page.route('**/api/v1/documents?*', async (route) => {
    if (used) { await route.continue(); return; }
    used = true;
    const auth = route.request().headers().authorization || '';
    const claims = JSON.parse(Buffer.from(auth.split('.')[1], 'base64url').toString());
    u.id = claims.sub;
    const resp = await route.fetch({ headers: { ...route.request().headers(), authorization: `Bearer ${expiredToken(u)}` } });
    renewedStatus = resp.status();
    await route.fulfill({ response: resp });
  });
  await page.getByRole('link', { name: 'Quizzes' }).click();
  await page.getByRole('link', { name: 'Library' }).click();
  await page.locator('li.doc').first().waitFor();
  ok(renewedStatus === 401, 'the gate refused the expired token', `status ${renewedStatus}`);
  ok(sawRefresh, 'the app renewed the session with the refresh token');
  ok(await page.locator('li.doc').count() === 2, 'and the library loaded after renewal');
  await page.unroute('**/api/v1/documents?*');
  await page.reload();
  await page.locator('li.doc').first().waitFor();
  ok(await page.locator('.who').isVisible(), 'a reload resumes the session from the refresh token');
});

// --- quizzes ---------------------------------------------------------------------------
await step('make and take a quiz', async () => {
  await page.goto(`${BASE}/#/documents/${docId}`);
  await page.getByRole('link', { name: 'Make a quiz' }).click();
  await page.getByRole('heading', { name: 'New quiz' }).waitFor();
  await page.getByLabel('Number of questions').fill('4');
  await page.getByLabel('Difficulty').selectOption('easy');
  await page.getByLabel('Short answer').check();
  await page.getByLabel('Title (optional)').fill('Cells <i>quiz</i>');
  await shot('08-new-quiz');
  await axe('new quiz');
  // The owner gets the answers with the generated quiz: the test answers
  // all but the last question right and checks the grading.
  const [gen] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/quizzes/generate')),
    page.getByRole('button', { name: 'Generate quiz' }).click(),
  ]);
  const key = (await gen.json()).questions;
  await page.getByRole('heading', { name: 'Cells <i>quiz</i>' }).waitFor();
  ok(true, 'the quiz is generated and opens');
  const total = await page.locator('fieldset.question').count();
  ok(total === 4, `the quiz has 4 questions (${total})`);
  await shot('09-quiz-question');
  await axe('quiz');
  for (let i = 0; i < total; i++) {
    const q = page.locator('fieldset.question:visible');
    ok(await q.count() === 1, `one question at a time (${i + 1})`);
    const radios = q.locator('input[type=radio]');
    const right = i < total - 1;
    const k = key[i];
    if (await radios.count()) {
      const pick = right ? k.correct_answer : (k.correct_answer + 1) % k.options.length;
      await radios.nth(pick).check();
    } else {
      await q.locator('input[type=text]').fill(right ? String(k.correct_answer) : 'no idea');
    }
    if (i < total - 1) await page.getByRole('button', { name: 'Next' }).click();
  }
  await page.getByRole('button', { name: 'Submit answers' }).click();
  const score = page.getByRole('heading', { name: /^Score: / });
  await score.waitFor();
  ok(await score.innerText() === `Score: ${total - 1} of ${total} (75%)`, 'the score is shown and right', await score.innerText());
  ok(await page.locator('ol.results > li').count() === total, 'each question has its result');
  ok(await page.locator('.explanation').count() > 0, 'explanations are shown');
  await shot('10-quiz-result');
  await axe('quiz result');
  await page.getByRole('link', { name: 'All attempts' }).click();
  await page.getByRole('heading', { name: /^Results: / }).waitFor();
  ok(/1 attempt/.test(await main().innerText()), 'the results list the attempt');
  await page.getByRole('link', { name: 'Quizzes' }).first().click();
  await page.getByRole('heading', { name: 'History' }).waitFor();
  await page.locator('table.quiz-table').waitFor();
  ok(/%/.test(await page.locator('table.quiz-table tbody tr').first().innerText()), 'the history shows the best score');
  await shot('11-quiz-history');
  await axe('quiz history');
});

await step('a quiz from a file', async () => {
  await page.goto(`${BASE}/#/quizzes/new`);
  await page.getByRole('heading', { name: 'New quiz' }).waitFor();
  await page.getByLabel(/Or a file/).setInputFiles({ name: 'course.md', mimeType: 'text/markdown', buffer: Buffer.from(COURSE) });
  await page.getByLabel('Number of questions').fill('3');
  await page.getByRole('button', { name: 'Generate quiz' }).click();
  await page.getByRole('heading', { name: 'Quiz: course.md' }).waitFor();
  ok(await page.locator('fieldset.question').count() === 3, 'a quiz is made from an uploaded file');
  ok(await page.locator('fieldset.question:visible').count() === 1, 'one question shows at first');
  await page.getByLabel('Show all questions on one page').check();
  ok(await page.locator('fieldset.question:visible').count() === 3, 'or all of them on one page');
  ok(await page.getByRole('button', { name: 'Submit answers' }).isVisible(), 'with the submit button');
});

// --- chat ---------------------------------------------------------------------------------
await step('ask about the document', async () => {
  await page.goto(`${BASE}/#/documents/${docId}`);
  await page.getByRole('button', { name: 'Ask about this document' }).click();
  await page.getByLabel('Your question').waitFor();
  let streamed = false;
  page.on('response', (r) => { if (/\/messages$/.test(r.url()) && r.request().method() === 'POST' && (r.headers()['content-type'] || '').includes('text/event-stream')) streamed = true; });
  await page.getByLabel('Your question').fill('What is osmosis?');
  await page.getByRole('button', { name: 'Send' }).click();
  const answer = page.locator('li.msg.assistant').last();
  await answer.locator('button.cite').first().waitFor({ timeout: 60000 });
  ok(streamed, 'the answer came as server-sent events');
  ok(/water/i.test(await answer.innerText()), 'the answer quotes the document', await answer.innerText());
  await answer.locator('button.cite').first().click();
  const src = answer.locator('details.source').first();
  ok(await src.evaluate((d) => d.open), 'a citation opens the cited passage');
  ok(/Osmosis/i.test(await src.locator('blockquote').innerText()), 'the passage is the quoted one');
  await shot('12-chat');
  await axe('chat');
});

await step('dictate a question', async () => {
  const btn = page.getByRole('button', { name: 'Dictate' });
  await btn.click();
  await page.getByRole('button', { name: 'Stop recording' }).waitFor();
  await page.waitForTimeout(4000);
  await page.getByRole('button', { name: 'Stop recording' }).click();
  await page.waitForFunction(() => document.querySelector('textarea[name=message]').value.length > 0, null, { timeout: 90000 });
  const q = await page.getByLabel('Your question').inputValue();
  ok(/photosynthesis|what/i.test(q), `the dictated question was transcribed ("${q}")`);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('li.msg.assistant').nth(1).locator('p').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('li.pending'), null, { timeout: 60000 });
  ok(await page.locator('li.msg.assistant').count() === 2, 'the dictated question was answered');
});

// --- speech ------------------------------------------------------------------------------------
await step('text to speech', async () => {
  await page.getByRole('link', { name: 'Speech' }).click();
  await page.getByRole('heading', { name: 'Text to speech' }).waitFor();
  const voices = await page.locator('#tts-voice option').count();
  ok(voices > 5, `the voice picker lists voices (${voices})`);
  await page.getByLabel('Text', { exact: true }).fill('Hello from Lectern. Cells are the units of life.');
  await page.getByLabel('Voice').selectOption('Matthew');
  await page.getByRole('button', { name: 'Speak' }).click();
  const audio = page.locator('section audio').first();
  await audio.waitFor({ timeout: 60000 });
  const dur = await audio.evaluate((a) => new Promise((r) => {
    if (a.readyState >= 1) r(a.duration); else { a.onloadedmetadata = () => r(a.duration); a.onerror = () => r(-1); }
  }));
  ok(dur > 1, `the synthesized audio plays (${dur} s)`);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download audio' }).first().click()]);
  ok(dl.suggestedFilename() === 'speech.mp3', 'the audio downloads');
  await page.locator('.audio-list li').first().waitFor();
  ok(await page.locator('.audio-list li').count() >= 1, 'the audio is listed');
});

await step('speech to text', async () => {
  await page.getByRole('button', { name: 'Record' }).click();
  await page.getByRole('button', { name: 'Stop recording' }).waitFor();
  await page.waitForTimeout(4000);
  await page.getByRole('button', { name: 'Stop recording' }).click();
  await page.locator('.transcript').waitFor({ timeout: 90000 });
  const t = await page.locator('.transcript').textContent();
  ok(/photosynthesis|what/i.test(t), `a browser recording is transcribed ("${t}")`);
  await page.getByLabel('Or upload audio').setInputFiles(WAV);
  await page.waitForFunction(() => document.querySelectorAll('.transcript').length === 1 && !document.querySelector('section p.loading'), null, { timeout: 90000 });
  ok((await page.locator('.transcript').innerText()).length > 3, 'an uploaded file is transcribed');
  await shot('13-speech');
  await axe('speech');
});

await step('503 shows not available', async () => {
  await page.route('**/api/v1/stt/transcriptions*', (route) => route.fulfill({
    status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: 'unavailable', message: 'The service is not running.', request_id: 'x' }),
  }));
  await page.goto(`${BASE}/#/library`);
  await page.goto(`${BASE}/#/speech`);
  await page.getByText('not available yet').first().waitFor();
  ok(true, 'a 503 shows "not available yet" without breaking the page');
  ok(await page.getByRole('heading', { name: 'Text to speech' }).isVisible(), 'the rest of the page still works');
  await page.unroute('**/api/v1/stt/transcriptions*');
});

// --- delete, small screen, keyboard ------------------------------------------------------------------------
await step('small screen', async () => {
  await page.setViewportSize({ width: 360, height: 760 });
  await page.goto(`${BASE}/#/library`);
  await page.locator('li.doc').first().waitFor();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  ok(wide <= 360, `the library fits 360 px (${wide})`);
  await shot('14-library-360');
  await page.goto(`${BASE}/#/quizzes`);
  await page.locator('table.quiz-table').waitFor();
  ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'the quizzes fit 360 px');
  await shot('15-quizzes-360');
  await page.setViewportSize({ width: 1280, height: 900 });
});

await step('keyboard only', async () => {
  await page.goto(`${BASE}/#/library`);
  await page.reload();
  await page.locator('li.doc').first().waitFor();
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement.textContent);
  ok(/Skip to content/.test(first), 'the first Tab reaches "Skip to content"');
  let pickerFocus = false;
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement.classList.contains('doc-name'));
    if (await page.evaluate(() => document.activeElement.id === 'file-input')) {
      pickerFocus = await page.evaluate(() => getComputedStyle(document.querySelector('label[for=file-input]')).outlineStyle !== 'none');
    }
  }
  ok(pickerFocus, 'the file picker is reachable by Tab and shows its focus');
  ok(reached, 'a document link is reachable by Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  ok(outline !== 'none', `the focus is visible (${outline})`);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /\.(pdf|txt)$/ }).waitFor();
  ok(true, 'Enter opens the document');
});

await step('delete a document', async () => {
  await page.goto(`${BASE}/#/library`);
  const row = page.locator('li.doc', { hasText: 'onerror' });
  await row.getByRole('button', { name: /^Delete/ }).click();
  await row.waitFor({ state: 'detached' });
  ok(await page.locator('li.doc').count() === 1, 'the document is deleted');
});

await step('too many failed sign-ins', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  const who = `guesser-${Date.now()}@example.org`;
  let text = '';
  for (let i = 0; i < 12 && !/Try again in/.test(text); i++) {
    await page.getByLabel('Email').fill(who);
    await page.getByLabel('Password').fill(`wrong guess ${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
    text = await page.getByRole('alert').first().innerText();
  }
  ok(/Try again in \d+ seconds/.test(text), 'the failed-login limit says when to try again', text);
  await shot('16-rate-limited');
});

ok(pageErrors.length === 0, 'no uncaught script error', pageErrors.join('\n'));
ok(cspErrors.length === 0, 'no Content-Security-Policy violation', cspErrors.join('\n'));

await context.close();
rmSync(profile, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
