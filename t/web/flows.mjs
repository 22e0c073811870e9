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
// Whether the locator shows within a few seconds: a page may still be
// loading what it says, and isVisible() looks only once.
async function shows(locator, ms = 15000) {
  return locator.waitFor({ state: 'visible', timeout: ms }).then(() => true, () => false);
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
  ok(await shows(page.getByRole('heading', { name: 'Sign in' })), 'signed out: the sign-in page');
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
  ok(await shows(page.getByText('No documents yet')), 'the empty library says so');
  await shot('03-library-empty');
  await axe('empty library');
});

await step('no cards yet', async () => {
  await page.getByRole('link', { name: 'Cards', exact: true }).click();
  await page.getByRole('heading', { name: 'Flashcards' }).waitFor();
  await page.locator('.review .empty').waitFor();
  ok(/^No cards yet/.test(await page.locator('.review .empty').innerText()), 'a new learner\'s review says there are no cards yet');
  await page.locator('nav.subnav').getByRole('link', { name: 'All cards' }).click();
  await page.locator('#list-h ~ .empty').waitFor();
  ok(/^No cards yet/.test(await page.locator('#list-h ~ .empty').innerText()), 'and so does the card list');
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  await page.getByRole('heading', { name: 'Library' }).waitFor();
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
  ok(await shows(page.locator('.who')), 'a reload resumes the session from the refresh token');
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
  ok(await shows(page.getByRole('button', { name: 'Submit answers' })), 'with the submit button');
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
  ok(await shows(page.getByRole('heading', { name: 'Text to speech' })), 'the rest of the page still works');
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

// --- flashcards ------------------------------------------------------------------------------------------
const importCsv = 'front,back,tags\r\nMitosis,Division of one cell into two identical cells,imported\r\n'
  + '"Meiosis, in short","Division giving four cells, each with half the chromosomes",imported genetics\r\n';
const handFront = 'What does the <b>nucleus</b> hold?';
const statValue = (label) => page.locator('.stats li', { hasText: label }).locator('.stat-value');
const subnav = (name) => page.locator('nav.subnav').getByRole('link', { name, exact: true });

await step('flashcards from the document', async () => {
  await page.goto(`${BASE}/#/documents/${docId}`);
  await page.getByRole('heading', { name: 'cell-biology.pdf' }).waitFor();
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/cards/from-document')),
    page.getByRole('button', { name: 'Make flashcards' }).click(),
  ]);
  const made = await res.json();
  ok(res.status() === 201 && made.created > 0 && made.created <= 20, `the document gives flashcards (${made.created})`);
  const note = page.locator('main .notice', { hasText: 'flashcard' });
  await note.waitFor();
  ok((await note.innerText()).startsWith(`${made.created} flashcards made.`), 'the page says how many were made', await note.innerText());
  const [list] = await Promise.all([
    page.waitForResponse((r) => /\/api\/v1\/cards\?/.test(r.url())),
    note.getByRole('link', { name: 'see every card' }).click(),
  ]);
  await page.getByRole('heading', { name: 'All cards' }).waitFor();
  await page.locator('li.fc').first().waitFor();
  const total = Number(list.headers()['x-total-count']);
  const fronts = await page.locator('li.fc .fc-front').allInnerTexts();
  ok(made.cards.every((c) => fronts.includes(c.front)), 'the new cards are listed', fronts.join('\n'));
  ok(await page.locator('#list-count').innerText() === `Cards 1–${Math.min(20, total)} of ${total}`, 'the list counts the cards (X-Total-Count)', await page.locator('#list-count').innerText());
  // Asked again (here, from the list's document picker), no card is made twice.
  await page.getByLabel('Document', { exact: true }).selectOption({ label: 'cell-biology.pdf' });
  await page.getByLabel('At most this many cards').fill('4');
  const [again] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/cards/from-document')),
    page.getByRole('button', { name: 'Make cards' }).click(),
  ]);
  const twice = await again.json();
  const said = page.locator('.tools .notice');
  await said.waitFor();
  ok(twice.skipped > 0 && (await said.innerText()).includes(String(twice.skipped)), 'asking again says what had been made before', `${JSON.stringify({ created: twice.created, skipped: twice.skipped })} ${await said.innerText()}`);
  const all = Number(await page.locator('#list-count').innerText().then((t) => t.split(' of ')[1]));
  if (all > 20) {
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.locator('#list-count', { hasText: 'Cards 21–' }).waitFor();
    ok(await page.locator('#list-count').innerText() === `Cards 21–${Math.min(40, all)} of ${all}`, 'the next page of cards (offset)');
    ok(await shows(page.getByRole('link', { name: 'Previous page' })), 'with a way back');
  } else {
    ok(false, `more than one page of cards to page through (${all})`);
  }
});

await step('review a card by keyboard', async () => {
  await subnav('Review').click();
  await page.getByRole('heading', { name: 'Flashcards' }).waitFor();
  await page.locator('.flashcard').waitFor();
  const before = Number(await statValue('reviewed today').innerText());
  const front = await page.locator('.flashcard .side-text').first().innerText();
  ok(!(await page.getByText('Answer', { exact: true }).isVisible()), 'the answer is hidden at first');
  await shot('16-cards-review');
  await axe('flashcards review');
  await page.keyboard.press('Space');
  const rates = page.getByRole('group', { name: 'How well did you remember it?' });
  await rates.waitFor();
  ok(await page.locator('.flashcard .side-text').count() === 2, 'Space shows the answer');
  const focus = await page.evaluate(() => ({ name: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle }));
  ok(/Good/.test(focus.name) && focus.outline !== 'none', `then Good has the focus, visibly (${focus.name}, ${focus.outline})`);
  await shot('17-cards-answer');
  // The card the page asks for after the review (the next one due).
  const nextDue = page.waitForResponse((r) => /\/api\/v1\/cards\/due\?limit=1$/.test(r.url()));
  const [res] = await Promise.all([
    page.waitForResponse((r) => /\/api\/v1\/cards\/[0-9a-f-]{36}\/review$/.test(r.url())),
    page.keyboard.press('3'),
  ]);
  const rated = res.url().match(/cards\/([0-9a-f-]{36})\/review$/)[1];
  const r = await res.json();
  ok(res.status() === 200 && r.rating === 3, 'the key 3 rates the card Good');
  const fb = page.locator('.feedback');
  await fb.getByText('Good.').waitFor();
  const said = await fb.innerText();
  const when = await page.evaluate((s) => new Date(s).toLocaleString(), r.next_due);
  ok(said.includes(when), 'the next due time is shown', `${said} / ${when}`);
  const g = Number(r.intervals.good);
  ok(g >= 1 && g < 31 && said.includes(`comes back in ${Math.round(g)} day`), `the interval Good gave is shown (${g} days)`, said);
  ok(/Again \d+ minutes?, Hard \d+ (day|hour)s?, Easy \d+ days?/.test(said), 'and what the other ratings would have given', said);
  await page.waitForFunction((n) => {
    const li = [...document.querySelectorAll('.stats li')].find((x) => x.textContent.includes('reviewed today'));
    return li && li.querySelector('.stat-value').textContent === String(n);
  }, before + 1);
  ok(true, 'the stats count the review');
  // Another card, by id: two cards may share a front.
  const due = await (await nextDue).json();
  ok(due.length === 1 && due[0].id !== rated, 'the next card due is another one', JSON.stringify(due));
  await page.waitForFunction(() => document.querySelector('.review .empty') || document.querySelectorAll('.flashcard .side-text').length === 1);
  const norm = (t) => t.replace(/\s+/g, ' ').trim();
  ok(due.length === 1 && norm(await page.locator('.flashcard .side-text').first().innerText()) === norm(due[0].front),
    'the next card follows', `${front} -> ${due.length ? due[0].front : '(none)'}`);
  ok(await page.evaluate(() => document.activeElement.textContent) === 'Show answer', 'with the focus on "Show answer"');
  await shot('18-cards-rated');
});

await step('a card by hand: create, edit, export, delete', async () => {
  await subnav('All cards').click();
  await page.getByRole('heading', { name: 'All cards' }).waitFor();
  await page.locator('li.fc').first().waitFor();
  await page.getByLabel('Front').fill(handFront);
  await page.getByLabel('Back').fill("The cell's DNA");
  await page.getByLabel('Tags', { exact: true }).fill('biology by-hand');
  await page.getByRole('button', { name: 'Add card' }).click();
  const made = page.locator('li.fc', { has: page.locator('.fc-front', { hasText: handFront }) });
  await made.waitFor();
  const row = page.locator(`li.fc[data-id="${await made.getAttribute('data-id')}"]`);
  ok(await row.locator('.fc-front').innerText() === handFront, 'a card by hand is listed, its markup as text');
  ok(await page.locator('main b').count() === 0, 'no element was made from the card');
  ok(await page.locator('li.fc .fc-front').first().innerText() === handFront, 'newest first');
  await row.getByRole('button', { name: /^Edit/ }).click();
  const form = row.locator('form');
  ok(await form.getByLabel('Front').inputValue() === handFront, 'the edit form holds the card');
  await form.getByLabel('Back').fill("The cell's DNA, packed in chromosomes");
  await form.getByRole('button', { name: 'Save card' }).click();
  await row.locator('.fc-back', { hasText: 'chromosomes' }).waitFor();
  ok(true, 'the card is edited');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export for Anki' }).click()]);
  const txtPath = join(work, 'cards.txt');
  await dl.saveAs(txtPath);
  const txt = readFileSync(txtPath, 'utf8');
  ok(dl.suggestedFilename() === 'lectern-cards.txt' && txt.startsWith('#separator:tab\n'), 'the Anki export downloads', txt.slice(0, 200));
  ok(txt.includes("What does the &lt;b&gt;nucleus&lt;/b&gt; hold?\tThe cell's DNA, packed in chromosomes\tbiology by-hand\n"), 'and holds the card', txt.slice(-400));
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export as CSV' }).click()]);
  const csvPath = join(work, 'cards.csv');
  await dl2.saveAs(csvPath);
  const csv = readFileSync(csvPath, 'utf8');
  ok(dl2.suggestedFilename() === 'lectern-cards.csv' && csv.includes(`${handFront},"The cell's DNA, packed in chromosomes",biology by-hand`), 'the CSV export holds it too', csv.slice(-300));
  await row.getByRole('button', { name: /^Delete/ }).click();
  await row.waitFor({ state: 'detached' });
  ok(true, 'the card is deleted');
});

await step('import a CSV', async () => {
  await page.getByLabel('CSV file').setInputFiles({ name: 'cells.csv', mimeType: 'text/csv', buffer: Buffer.from(importCsv) });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const note = page.locator('.tools .notice', { hasText: 'imported' });
  await note.waitFor();
  ok(await note.innerText() === '2 cards imported from cells.csv.', 'the import says how many cards came in', await note.innerText());
  await page.locator('li.fc a.tag', { hasText: 'genetics' }).first().click();
  await page.getByRole('heading', { name: 'Cards tagged “genetics”' }).waitFor();
  await page.locator('li.fc').first().waitFor();
  ok(await page.locator('li.fc .fc-front').allInnerTexts().then((t) => t.join('|')) === 'Meiosis, in short', 'a tag link filters the list');
  await page.getByLabel('Tag', { exact: true }).fill('imported');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('heading', { name: 'Cards tagged “imported”' }).waitFor();
  await page.locator('li.fc').first().waitFor();
  const fronts = (await page.locator('li.fc .fc-front').allInnerTexts()).sort();
  ok(fronts.join('|') === 'Meiosis, in short|Mitosis', 'the imported cards are listed', fronts.join('|'));
  ok(await page.locator('#list-count').innerText() === 'Cards 1–2 of 2', 'the filter counts them');
  await shot('19-cards-list');
  await axe('flashcards list');
});

await step('an invalid CSV is refused with the API\'s message', async () => {
  const tries = [
    ['unclosed.csv', 'front,back\n"Osmosis,Water moving across a membrane\n', /^Row 2: /],
    ['photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]), /^Row 1: /],
  ];
  for (const [name, body, want] of tries) {
    await page.getByLabel('CSV file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(body) });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/cards/import')),
      page.getByRole('button', { name: 'Import', exact: true }).click(),
    ]);
    const answer = await res.json();
    const err = page.locator('.tools .error');
    await err.waitFor();
    const shown = await err.innerText();
    ok(res.status() === 400 && want.test(answer.message) && shown === `Nothing was imported from ${name}. ${answer.message}`,
      `${name}: the API's message is shown`, `${res.status()} ${shown}`);
  }
  ok(await page.locator('#list-count').innerText() === 'Cards 1–2 of 2', 'nothing was imported and the page still works');
  await shot('20-cards-import-error');
});

await step('flashcard settings', async () => {
  await subnav('Settings').click();
  await page.getByRole('heading', { name: 'Flashcard settings' }).waitFor();
  ok(await page.getByLabel('Desired retention (%)').inputValue() === '90', 'the desired retention starts at 90%');
  await page.getByLabel('Desired retention (%)').fill('85');
  await page.getByLabel('New cards a day').fill('0');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/cards/settings') && r.request().method() === 'PATCH'),
    page.getByRole('button', { name: 'Save settings' }).click(),
  ]);
  ok(res.status() === 200 && (await res.json()).desired_retention === 0.85, 'the desired retention is saved as 0.85');
  await page.getByText('Settings saved.').first().waitFor();
  await shot('21-cards-settings');
  await axe('flashcard settings');
  await page.reload();
  await page.getByRole('heading', { name: 'Flashcard settings' }).waitFor();
  ok(await page.getByLabel('Desired retention (%)').inputValue() === '85', 'and kept');
  // No new card a day: the one card reviewed is not due, so nothing is.
  await subnav('Review').click();
  await page.locator('.review .empty').waitFor();
  ok(/^No cards due/.test(await page.locator('.review .empty').innerText()), 'with nothing due, the review says so');
  await subnav('Settings').click();
  await page.getByLabel('New cards a day').fill('20');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').first().waitFor();
});

await step('cards: 503 and a small screen', async () => {
  await page.route('**/api/v1/cards/due*', (route) => route.fulfill({
    status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: 'unavailable', message: 'The service is not running.', request_id: 'x' }),
  }));
  await page.goto(`${BASE}/#/library`);
  await page.goto(`${BASE}/#/cards`);
  await page.locator('.review').getByText('not available yet').waitFor();
  ok(await shows(page.locator('.stats')), 'a 503 of the queue shows "not available yet" and the stats still show');
  await page.unroute('**/api/v1/cards/due*');
  await page.setViewportSize({ width: 360, height: 760 });
  await page.goto(`${BASE}/#/library`);
  await page.goto(`${BASE}/#/cards`);
  await page.locator('.flashcard').waitFor();
  await page.keyboard.press('Space');
  await page.getByRole('group', { name: 'How well did you remember it?' }).waitFor();
  ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'the review fits 360 px');
  await shot('22-cards-360');
  await subnav('All cards').click();
  await page.locator('li.fc').first().waitFor();
  ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 360, 'the card list fits 360 px');
  await shot('23-cards-list-360');
  await page.setViewportSize({ width: 1280, height: 900 });
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
  await shot('24-rate-limited');
});

ok(pageErrors.length === 0, 'no uncaught script error', pageErrors.join('\n'));
ok(cspErrors.length === 0, 'no Content-Security-Policy violation', cspErrors.join('\n'));

await context.close();
rmSync(profile, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
