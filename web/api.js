// The API client: the access token lives only in this module's memory; the
// refresh token is kept in sessionStorage (this tab only, never localStorage)
// so a reload can renew the session. Every call that meets an expired access
// token renews it once with the refresh token and is sent again.

const REFRESH_KEY = 'lectern.refresh';
let access = null;
let currentUser = null;
let renewTimer = 0;
let renewing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(messageFor(status, body, retryAfter));
    this.status = status;
    this.code = (body && body.error) || 'error';
    this.details = (body && body.details) || [];
    this.body = body;
  }
}

function messageFor(status, body, retryAfter) {
  if (status === 503) {
    return 'This part of Lectern is not available yet (the service answered 503). Try again later.';
  }
  if (status === 429) {
    const said = (body && body.message) || 'Too many requests.';
    if (!retryAfter) return said;
    return `${said.replace(/[;,]?\s*try again later\.?$/i, '.')} Try again in ${retryAfter} seconds.`;
  }
  if (status === 0) return 'Lectern cannot be reached. Check your connection and try again.';
  return (body && (body.message || body.error)) || `The request failed (${status}).`;
}

export function user() { return currentUser; }
export function signedIn() { return access !== null; }
export function onSessionChange(fn) { listeners.add(fn); }
function emit(reason) { for (const fn of listeners) fn(currentUser, reason); }

function storedRefresh() {
  try { return sessionStorage.getItem(REFRESH_KEY); } catch { return null; }
}

function keep(session) {
  access = session.access_token || session.token;
  currentUser = session.user;
  try { sessionStorage.setItem(REFRESH_KEY, session.refresh_token); } catch { /* private mode */ }
  clearTimeout(renewTimer);
  // Renew a minute before the access token runs out.
  const ms = Math.max(10, (Number(session.expires_in) || 3600) - 60) * 1000;
  renewTimer = setTimeout(() => { renew().catch(() => {}); }, ms);
}

function forget(reason) {
  access = null;
  currentUser = null;
  clearTimeout(renewTimer);
  try { sessionStorage.removeItem(REFRESH_KEY); } catch { /* nothing kept */ }
  emit(reason);
}

async function parse(res) {
  const type = res.headers.get('Content-Type') || '';
  if (res.status === 204) return null;
  if (type.includes('json')) {
    try { return await res.json(); } catch { return null; }
  }
  return null;
}

async function send(method, path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  if (access && !opts.anonymous) headers.Authorization = `Bearer ${access}`;
  try {
    return await fetch(path, { method, headers, body, signal: opts.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
}

// Renews the session with the stored refresh token; one renewal at a time.
export function renew() {
  if (renewing) return renewing;
  const token = storedRefresh();
  if (!token) return Promise.resolve(false);
  renewing = (async () => {
    const res = await send('POST', '/api/v1/auth/refresh', { json: { refresh_token: token }, anonymous: true });
    if (res.ok) {
      keep(await res.json());
      emit('renewed');
      return true;
    }
    if (res.status === 401 || res.status === 400) forget('expired');
    return false;
  })().finally(() => { renewing = null; });
  return renewing;
}

// A raw call that renews once on a 401; answers the Response.
export async function fetchRaw(method, path, opts = {}) {
  let res = await send(method, path, opts);
  if (res.status === 401 && !opts.anonymous && storedRefresh()) {
    if (await renew()) res = await send(method, path, opts);
  }
  return res;
}

// A JSON call: answers the parsed body, throws ApiError on a failure.
export async function call(method, path, opts = {}) {
  const res = await fetchRaw(method, path, opts);
  const body = await parse(res);
  if (!res.ok) throw new ApiError(res.status, body, res.headers.get('Retry-After'));
  if (opts.withHeaders) return { body, headers: res.headers };
  return body;
}

export async function signIn(email, password) {
  keep(await call('POST', '/api/v1/auth/login', { json: { email, password }, anonymous: true }));
  emit('signin');
}

export async function signUp(name, email, password) {
  keep(await call('POST', '/api/v1/auth/register', { json: { name, email, password }, anonymous: true }));
  emit('signin');
}

export async function signOut() {
  const token = storedRefresh();
  try {
    await send('POST', '/api/v1/auth/logout', { json: token ? { refresh_token: token } : {} });
  } finally {
    forget('signout');
  }
}

// On start: a stored refresh token brings the session back after a reload.
export async function resume() {
  if (!storedRefresh()) return false;
  try { return await renew(); } catch { return false; }
}

// An upload with progress (fetch has no upload progress): XMLHttpRequest,
// renewing the session first if it has run out.
export function upload(path, form, onProgress, attempt = 0) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    if (access) xhr.setRequestHeader('Authorization', `Bearer ${access}`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.onload = async () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      if (xhr.status === 401 && attempt === 0 && storedRefresh() && await renew()) {
        upload(path, form, onProgress, 1).then(resolve, reject);
        return;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body, xhr.getResponseHeader('Retry-After')));
    };
    xhr.send(form);
  });
}

// Fetches bytes (audio, a download) with the bearer token: a Blob.
export async function blob(method, path, opts = {}) {
  const res = await fetchRaw(method, path, opts);
  if (!res.ok) throw new ApiError(res.status, await parse(res), res.headers.get('Retry-After'));
  return { blob: await res.blob(), headers: res.headers };
}

// Server-sent events over a POST (EventSource can only GET): calls
// onEvent(name, data) for each event; answers when the stream ends.
export async function stream(path, json, onEvent, signal) {
  const res = await fetchRaw('POST', path, { json, headers: { Accept: 'text/event-stream' }, signal });
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok) throw new ApiError(res.status, await parse(res), res.headers.get('Retry-After'));
  if (!type.includes('text/event-stream')) {
    onEvent('done', await res.json());
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value.replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) {
        let parsed;
        try { parsed = JSON.parse(data.join('\n')); } catch { parsed = data.join('\n'); }
        onEvent(name, parsed);
      }
    }
  }
}
