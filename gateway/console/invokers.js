// Invokers and their warm pools, from the admin API (a Bearer admin key; 404 when the gateway has none).

import { admin, session } from './api.js';
import { $, fill, h, say, show } from './dom.js';

const REFRESH_MS = 3000;

let active = false;
let timer = null;

export function initInvokers() {
  $('admin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    session.setAdminKey($('admin-key').value.trim());
    $('admin-key').value = '';
    refresh();
  });
  $('refresh-invokers').addEventListener('click', refresh);
  $('forget-admin-key').addEventListener('click', () => {
    session.forgetAdminKey();
    askForKey('');
  });
}

export function enterInvokers() {
  active = true;
  if (session.adminKey()) refresh();
  else askForKey('');
}

export function leaveInvokers() {
  active = false;
  clearTimeout(timer);
}

function askForKey(problem) {
  clearTimeout(timer);
  show($('invokers-panel'), false);
  show($('admin-form'), true);
  say($('admin-error'), problem, problem ? 'error' : '');
  $('admin-key').focus();
}

async function refresh() {
  clearTimeout(timer);
  try {
    const { data } = await admin('invokers');
    show($('admin-form'), false);
    show($('invokers-panel'), true);
    fill($('invokers-table').tBodies[0], data.map(invokerRow));
    say($('invokers-message'), data.length ? '' : 'No invoker has sent a heartbeat.');
    $('invokers-updated').textContent = `updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
  } catch (error) {
    if (error.status === 404 || error.status === 401) {
      session.forgetAdminKey();
      askForKey(error.status === 404
        ? 'The admin API is off on this gateway: start it with STRATUS_ADMIN_KEY set.'
        : 'The admin key was not accepted.');
      return;
    }
    say($('invokers-message'), error.message, 'error');
  }
  if (active) timer = setTimeout(refresh, REFRESH_MS);
}

function invokerRow(row) {
  const pool = Object.entries(row.pool ?? {}).map(([state, n]) => `${state} ${n}`).join(' · ') || '—';
  const warm = Object.entries(row.warm ?? {});
  const seen = Math.max(0, Math.round((Date.now() - row.lastSeen) / 1000));
  return h('tr', { dataset: { invoker: row.invoker } },
    h('td', { className: 'mono', textContent: row.invoker }),
    h('td', { className: `state ${row.state}`, textContent: row.reason ? `${row.state}: ${row.reason}` : row.state }),
    h('td', { textContent: `${Math.round(row.load * 100)} %` }),
    h('td', { textContent: `${row.bookedMemoryMB} / ${row.busyMemoryMB} / ${row.userMemoryMB}` }),
    h('td', { textContent: String(row.containers) }),
    h('td', { textContent: pool }),
    h('td', {}, warm.length
      ? h('ul', { className: 'warm' }, warm.map(([fqn, n]) => h('li', { textContent: `${fqn} × ${n}` })))
      : '—'),
    h('td', { textContent: `${seen} s ago` }));
}
