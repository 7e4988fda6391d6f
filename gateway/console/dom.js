// Building the page without ever parsing HTML: every piece of data becomes a Text node (textContent).
// The console shares the API's origin, so a function's result, logs or names must never become markup.

const FORBIDDEN = new Set(['innerHTML', 'outerHTML', 'srcdoc', 'href', 'src']);
const SVG_NS = 'http://www.w3.org/2000/svg';

export const $ = (id) => document.getElementById(id);

function checkProperty(name) {
  if (FORBIDDEN.has(name) || name.startsWith('on')) {
    throw new Error(`dom.js does not set '${name}': data never becomes markup, links or handlers`);
  }
}

/** An element with properties (className, textContent, value, …), listeners (`listen`) and children. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'listen') {
      for (const [type, handler] of Object.entries(value)) el.addEventListener(type, handler);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      checkProperty(name);
      el[name] = value;
    }
  }
  el.append(...nodes(children));
  return el;
}

/** An SVG element; attribute values are set as attributes, never as script or markup. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    checkProperty(name);
    el.setAttribute(name, String(value));
  }
  el.append(...nodes(children));
  return el;
}

function nodes(children) {
  return children.flat().filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : String(c)));
}

/** Replace an element's children (text or nodes). */
export function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
}

export function show(el, visible) {
  el.hidden = !visible;
}

/** A one-line message under a form or table: '' clears it; kind 'error' colours it. */
export function say(el, text, kind = '') {
  el.textContent = text;
  el.classList.toggle('error', kind === 'error');
  el.classList.toggle('ok', kind === 'ok');
}

export const pretty = (value) => (value === undefined ? '' : JSON.stringify(value, null, 2));

export function clock(ms) {
  return ms ? new Date(ms).toLocaleTimeString([], { hour12: false }) : '—';
}

/** Local date and time to the millisecond, e.g. 2026-11-28 18:53:31.245. */
export function stamp(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} `
    + `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export const millis = (value) => (value === undefined || value === null ? '—' : `${value} ms`);

/** Parse a JSON object typed by the user; throws an Error that names the field. */
export function jsonObject(text, field) {
  let value;
  try {
    value = JSON.parse(text.trim() || '{}');
  } catch (error) {
    throw new Error(`${field}: not valid JSON (${error.message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${field}: a JSON object is expected, e.g. {"name": "Ann"}`);
  }
  return value;
}
