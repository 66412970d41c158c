// The one way the UI talks to the daemon: JSON over fetch, the session cookie (same origin), and
// the session's CSRF token on every request that changes something (docs/admin-api.md).

const BASE = '/admin/api';
const TIMEOUT_MS = 60000;

let csrfToken = '';
let unauthorizedHandler = null;

export class ApiError extends Error {
  constructor(status, message, errors = [], retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 = no answer (network, timeout)
    this.errors = errors; // ["path: problem", ...]
    this.retryAfter = retryAfter; // seconds, from Retry-After on 429
  }
}

export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' ? token : '';
}

/** Called with the ApiError when a request comes back 401 (session gone). */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

/** Encodes one path segment (modem id, user name, number). */
export function seg(value) {
  return encodeURIComponent(String(value));
}

const FALLBACK = {
  400: 'The request was not accepted: some input is invalid.',
  401: 'You are not logged in, or your session has ended.',
  403: 'The request was refused (security token or origin). Reload the page and try again.',
  404: 'Not found: it may have been removed in the meantime.',
  409: 'That conflicts with the current state (for example, the name is taken).',
  413: 'The request is too large.',
  429: 'Too many attempts. Wait a moment and try again.',
  500: 'The device had an internal error.',
  502: 'The modem answered with an error.',
  503: 'The modem is not connected.',
  504: 'The modem did not answer in time.',
};

function fallbackMessage(status) {
  return FALLBACK[status] || `The device answered with an unexpected status (${status}).`;
}

function retryAfterSeconds(res) {
  const v = res.headers.get('Retry-After');
  if (!v) return null;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, Math.round(n));
  const date = Date.parse(v);
  return Number.isFinite(date) ? Math.max(0, Math.round((date - Date.now()) / 1000)) : null;
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  init.signal = controller.signal;
  try {
    const res = await fetch(BASE + path, init);
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    return { res, data };
  } catch (e) {
    if (e && e.name === 'AbortError') {
      throw new ApiError(0, `The device did not answer within ${TIMEOUT_MS / 1000} seconds.`);
    }
    throw new ApiError(0, 'The device could not be reached. Check the network connection and try again.');
  } finally {
    clearTimeout(timer);
  }
}

function toError(res, data) {
  const message = data && typeof data.error === 'string' && data.error ? data.error : fallbackMessage(res.status);
  const errors = data && Array.isArray(data.errors) ? data.errors.filter((e) => typeof e === 'string') : [];
  return new ApiError(res.status, message, errors, res.status === 429 ? retryAfterSeconds(res) : null);
}

/**
 * api('POST', '/modems', {...}) → the answer object; throws ApiError.
 * options.handle401 = false: a 401 is the caller's business (login with a wrong password), not
 * "the session has ended".
 */
export async function api(method, path, body, options = {}) {
  const { handle401 = true } = options;
  let { res, data } = await send(method, path, body);
  if (res.status === 403 && method !== 'GET') {
    // The token may be stale (another tab logged in again and rotated the session). Fetch the
    // current one and try once more; a refused request changed nothing, so the retry is safe.
    const old = csrfToken;
    try {
      const fresh = await send('GET', '/session');
      if (fresh.res.ok && fresh.data && fresh.data.csrf_token && fresh.data.csrf_token !== old) {
        setCsrfToken(fresh.data.csrf_token);
        ({ res, data } = await send(method, path, body));
      }
    } catch {
      // keep the first answer
    }
  }
  if (res.ok) return data && typeof data === 'object' ? data : {};
  const err = toError(res, data);
  if (res.status === 401 && handle401 && unauthorizedHandler) unauthorizedHandler(err);
  throw err;
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body === undefined ? {} : body, options);
export const put = (path, body, options) => api('PUT', path, body, options);
export const del = (path, options) => api('DELETE', path, undefined, options);

/** A sentence for a person, from any thrown value. */
export function describeError(e) {
  if (e instanceof ApiError) {
    if (e.status === 429 && e.retryAfter !== null) {
      return `${e.message} Try again in ${e.retryAfter} second${e.retryAfter === 1 ? '' : 's'}.`;
    }
    return e.message;
  }
  return 'Something went wrong in the page. Reload it and try again.';
}

/** Loads the modem list, for the pages that offer a modem choice. */
export async function loadModems() {
  const data = await get('/modems');
  return Array.isArray(data.modems) ? data.modems : [];
}
