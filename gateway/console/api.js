// The console's only way out: the public REST API v1 (HTTP Basic uuid:key) and the admin API (Bearer).
// Keys live in this tab's sessionStorage and travel in the Authorization header, never in a URL.

const KEY = 'stratus.key';
const ADMIN_KEY = 'stratus.adminKey';

// '../api/v1/' from /console/: also right when a proxy mounts the API under a prefix
export const apiBase = new URL('../api/v1/', document.baseURI);

export const session = {
  key: () => sessionStorage.getItem(KEY),
  setKey: (key) => sessionStorage.setItem(KEY, key),
  adminKey: () => sessionStorage.getItem(ADMIN_KEY),
  setAdminKey: (key) => sessionStorage.setItem(ADMIN_KEY, key),
  forgetAdminKey: () => sessionStorage.removeItem(ADMIN_KEY),
  clear: () => sessionStorage.clear(),
};

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function basic(key) {
  const bytes = new TextEncoder().encode(key ?? '');
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

async function request(path, { method = 'GET', query = {}, body, auth, accept = [] }) {
  const url = new URL(path, apiBase);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  const headers = { Accept: 'application/json', Authorization: auth };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    // credentials 'omit': no cookies, and a 401 never opens the browser's own login prompt
    response = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store', redirect: 'error',
    });
  } catch (error) {
    throw new ApiError(0, `The API did not answer (${error.message}). Is the gateway running?`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok && !accept.includes(response.status)) {
    const message = data && typeof data === 'object' && data.error ? data.error : `HTTP ${response.status}`;
    throw new ApiError(response.status, message, data && data.code);
  }
  return { status: response.status, data };
}

/** A call on the REST API with the session's key; `path` is relative to /api/v1/. */
export function api(path, options = {}) {
  return request(path, { ...options, auth: basic(session.key()) });
}

/** A GET on the admin API with the session's admin key. */
export function admin(path) {
  return request(`admin/${path}`, { auth: `Bearer ${session.adminKey() ?? ''}` });
}

export const ns = (path) => `namespaces/_/${path}`;
export const named = (name) => name.split('/').map(encodeURIComponent).join('/');
