// Actions: the list, an editor (code, entry point, default parameters, limits, web flag) and invoke.

import { api, apiBase, named, ns } from './api.js';
import { $, fill, h, jsonObject, millis, pretty, say, show, stamp } from './dom.js';
import { codeEditor } from './editor.js';

const SAMPLE = `def main(args):
    name = args.get("name", "stranger")
    print("greeting", name)
    return {"greeting": f"Hello {name}!"}
`;
const LIMITS = ['timeout', 'memory', 'logs', 'concurrency'];

let context = null; // { namespace(), openRecord(id) }
let current = null; // the action being edited, as GET returned it; null for a new one
let lastActivationId = null;
let disarm = null;

const annotation = (entity, key) => (entity.annotations ?? []).find((a) => a.key === key)?.value;

export function initActions(ctx) {
  context = ctx;
  codeEditor($('action-code'));
  $('new-action').addEventListener('click', () => openEditor(null));
  $('refresh-actions').addEventListener('click', refreshList);
  $('action-form').addEventListener('submit', (event) => {
    event.preventDefault();
    save();
  });
  $('delete-action').addEventListener('click', remove);
  $('invoke-form').addEventListener('submit', (event) => {
    event.preventDefault();
    invoke();
  });
  $('open-record').addEventListener('click', () => lastActivationId && context.openRecord(lastActivationId));
  $('action-web').addEventListener('change', showWebUrl);
  loadKinds();
}

/** The kinds the platform runs, from GET / (its `runtimes`, as OpenWhisk lists them); the default stays on failure. */
async function loadKinds() {
  try {
    const response = await fetch(new URL('../../', apiBase), { credentials: 'omit', cache: 'no-store' });
    const runtimes = Object.values((await response.json()).runtimes ?? {}).flat();
    const kinds = runtimes.map((runtime) => runtime.kind).filter((kind) => kind !== 'blackbox');
    if (kinds.length) fill($('action-kind'), ...kinds.map((kind) => h('option', { value: kind }, kind)));
  } catch {
    // keep the one kind the page ships with
  }
}

export function enterActions() {
  refreshList();
}

export function leaveActions() {}

async function refreshList() {
  const message = $('actions-message');
  try {
    const { data } = await api(ns('actions'), { query: { limit: 200 } });
    fill($('actions-table').tBodies[0], data.map(actionRow));
    const more = data.length === 200 ? 'The 200 most recently updated actions are listed.' : '';
    say(message, data.length ? more : 'No actions yet: create one with "New action".');
  } catch (error) {
    say(message, error.message, 'error');
  }
}

// An action as the API addresses it: `pkg/name` for one in a package (its namespace is `ns/pkg`).
function qualified(action) {
  const slash = action.namespace.indexOf('/');
  return slash < 0 ? action : { ...action, name: `${action.namespace.slice(slash + 1)}/${action.name}` };
}

function actionRow(listed) {
  const action = qualified(listed);
  const open = h('button', { type: 'button', className: 'link', textContent: action.name,
    listen: { click: () => loadAction(action.name) } });
  return h('tr', { dataset: { name: action.name } },
    h('td', {}, open),
    h('td', { textContent: action.version }),
    h('td', { textContent: `${action.limits.memory} MB` }),
    h('td', { textContent: millis(action.limits.timeout) }),
    h('td', { textContent: annotation(action, 'web-export') === true ? 'yes' : '' }),
    h('td', { textContent: stamp(action.updated) }));
}

async function loadAction(name) {
  try {
    const { data } = await api(ns(`actions/${named(name)}`));
    openEditor(qualified(data));
  } catch (error) {
    say($('actions-message'), error.message, 'error');
  }
}

function openEditor(action) {
  current = action;
  show($('editor'), true);
  $('editor-title').textContent = action ? `${action.name} (version ${action.version})` : 'New action';
  $('action-name').value = action?.name ?? '';
  $('action-name').readOnly = Boolean(action);
  $('action-kind').value = action?.exec.kind ?? 'python:3.11';
  $('action-main').value = action?.exec.main ?? '';
  const code = $('action-code');
  code.readOnly = Boolean(action?.exec.binary);
  code.value = action?.exec.binary ? `# A zip archive (${Math.round(action.exec.code.length * 0.75 / 1024)} KB): `
    + 'replace it with the CLI or the SDK; the other fields can be edited here.' : action?.exec.code ?? SAMPLE;
  $('action-params').value = pretty(Object.fromEntries((action?.parameters ?? []).map((p) => [p.key, p.value])));
  for (const limit of LIMITS) $(`limit-${limit}`).value = action?.limits[limit] ?? '';
  $('action-web').checked = action ? annotation(action, 'web-export') === true : false;
  showWebUrl();
  say($('editor-message'), '');
  say($('invoke-message'), '');
  $('invoke-result').textContent = '';
  show($('open-record'), false);
  show($('invoke-form'), Boolean(action));
  $('invoke-title').textContent = action ? `Invoke ${action.name}` : 'Invoke';
  resetDelete();
  show($('delete-action'), Boolean(action));
  (action ? code : $('action-name')).focus();
}

function showWebUrl() {
  const name = $('action-name').value.trim();
  const web = $('action-web').checked && name;
  // shown as text, not a link: a web action's page shares this origin and must not open in the console's tab
  const path = name.includes('/') ? name : `default/${name}`;
  $('web-url').textContent = web ? `URL: ${new URL(`web/${context.namespace()}/${path}.http`, apiBase)}` : '';
}

function actionBody() {
  const params = jsonObject($('action-params').value, 'Default parameters');
  const limits = {};
  for (const limit of LIMITS) {
    const value = $(`limit-${limit}`).value.trim();
    if (value) limits[limit] = Number(value);
  }
  const code = current?.exec.binary ? current.exec.code : $('action-code').value;
  const main = $('action-main').value.trim();
  const body = {
    exec: { kind: $('action-kind').value, code, ...(main ? { main } : {}) },
    parameters: Object.entries(params).map(([key, value]) => ({ key, value })),
    limits,
  };
  if ($('action-web').checked) body.annotations = [{ key: 'web-export', value: true }];
  else if (current && annotation(current, 'web-export') !== undefined) body.delAnnotations = ['web-export'];
  return body;
}

async function save() {
  const message = $('editor-message');
  const name = $('action-name').value.trim();
  try {
    const body = actionBody();
    const { data } = await api(ns(`actions/${named(name)}`), { method: 'PUT', query: { overwrite: Boolean(current) }, body });
    say(message, `Saved ${name}, version ${data.version}.`, 'ok');
    const keep = message.textContent;
    openEditor(qualified(data));
    say(message, keep, 'ok');
    refreshList();
  } catch (error) {
    const exists = error.status === 409 && !current;
    say(message, exists ? `An action named ${name} exists already: open it from the list to edit it.` : error.message, 'error');
  }
}

function resetDelete() {
  clearTimeout(disarm);
  disarm = null;
  $('delete-action').textContent = 'Delete';
}

async function remove() {
  if (!current) return;
  if (!disarm) { // the first click arms the button for a few seconds; the second one deletes
    $('delete-action').textContent = `Really delete ${current.name}?`;
    disarm = setTimeout(resetDelete, 4000);
    return;
  }
  resetDelete();
  try {
    await api(ns(`actions/${named(current.name)}`), { method: 'DELETE' });
    say($('actions-message'), `Deleted ${current.name}.`, 'ok');
    current = null;
    show($('editor'), false);
    refreshList();
  } catch (error) {
    say($('editor-message'), error.message, 'error');
  }
}

async function invoke() {
  const message = $('invoke-message');
  const result = $('invoke-result');
  const button = $('invoke');
  try {
    const params = jsonObject($('invoke-params').value, 'Parameters');
    button.disabled = true;
    say(message, `Running ${current.name}…`);
    result.textContent = '';
    const { status, data } = await api(ns(`actions/${named(current.name)}`), {
      method: 'POST', query: { blocking: true }, body: params, accept: [502] });
    lastActivationId = data.activationId;
    show($('open-record'), true);
    if (status === 202) {
      say(message, `Still running when the wait ran out: activation ${data.activationId}.`);
      return;
    }
    const start = annotation(data, 'startType');
    say(message, `${data.response.status} · ${millis(data.duration)}${start ? ` · ${start} start` : ''} · `
      + `activation ${data.activationId}`, data.response.success ? 'ok' : 'error');
    result.textContent = pretty(data.response.result);
  } catch (error) {
    say(message, error.message, 'error');
  } finally {
    button.disabled = false;
  }
}
