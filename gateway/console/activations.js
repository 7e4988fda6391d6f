// Activations: the newest records (live refresh, filter by name), a chart of the last minute, one record.

import { api, ns } from './api.js';
import { drawChart } from './chart.js';
import { $, clock, fill, h, millis, pretty, say, show, stamp } from './dom.js';

const STATUS = ['success', 'application error', 'action developer error', 'whisk internal error'];
const REFRESH_MS = 2000;
const WINDOW_S = 60;
const CHART_LIMIT = 200; // the API's largest page

let active = false;
let timer = null;
let loading = false;
let selected = null;

const annotation = (record, key) => (record.annotations ?? []).find((a) => a.key === key)?.value;

export function initActivations() {
  let typing = null;
  $('activation-filter').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(refresh, 300);
  });
  $('live').addEventListener('change', () => ($('live').checked ? refresh() : clearTimeout(timer)));
  $('refresh-activations').addEventListener('click', refresh);
}

export function enterActivations() {
  active = true;
  refresh();
}

export function leaveActivations() {
  active = false;
  clearTimeout(timer);
}

async function refresh() {
  if (loading) return;
  if (document.hidden) { // a tab nobody looks at polls nothing; the next tick after it shows again does
    timer = setTimeout(refresh, REFRESH_MS);
    return;
  }
  loading = true;
  clearTimeout(timer);
  const name = $('activation-filter').value.trim();
  const now = Date.now();
  try {
    const [newest, lastMinute] = await Promise.all([
      api(ns('activations'), { query: { name, limit: 50 } }),
      api(ns('activations'), { query: { name, since: now - WINDOW_S * 1000, limit: CHART_LIMIT } }),
    ]);
    fill($('activations-table').tBodies[0], newest.data.map(activationRow));
    drawChart($('chart-plot'), $('chart-legend'), lastMinute.data, now,
      { windowS: WINDOW_S, capped: lastMinute.data.length === CHART_LIMIT });
    say($('activations-message'), newest.data.length ? '' : `No activations${name ? ` of ${name}` : ''} yet.`);
    $('activations-updated').textContent = `updated ${clock(now)}`;
  } catch (error) {
    say($('activations-message'), error.message, 'error');
  } finally {
    loading = false;
    if (active && $('live').checked) timer = setTimeout(refresh, REFRESH_MS);
  }
}

function activationRow(row) {
  const status = STATUS[row.statusCode] ?? String(row.statusCode);
  const open = h('button', { type: 'button', className: 'link mono', textContent: row.activationId.slice(0, 12),
    title: row.activationId, listen: { click: () => openRecord(row.activationId) } });
  return h('tr', { className: row.activationId === selected ? 'selected' : '', dataset: { id: row.activationId } },
    h('td', { textContent: clock(row.start) }),
    h('td', { textContent: row.name }),
    h('td', { className: `status s${row.statusCode}`, textContent: status }),
    h('td', { textContent: annotation(row, 'startType') ?? '' }),
    h('td', { textContent: millis(row.duration) }),
    h('td', {}, open));
}

/** Show one record: result, logs and timings. */
export async function openRecord(activationId) {
  selected = activationId;
  for (const row of $('activations-table').tBodies[0].rows) row.classList.toggle('selected', row.dataset.id === selected);
  try {
    const { data } = await api(ns(`activations/${activationId}`));
    renderRecord(data);
  } catch (error) {
    say($('activations-message'), error.message, 'error');
  }
}

function renderRecord(record) {
  show($('record'), true);
  $('record-title').textContent = `${record.name} · ${record.activationId}`;
  const limits = annotation(record, 'limits') ?? {};
  const timings = [
    ['Status', record.response.status],
    ['Start', stamp(record.start)],
    ['End', stamp(record.end)],
    ['Duration', millis(record.duration)],
    ['Wait time', millis(annotation(record, 'waitTime'))],
    ['Init time', millis(annotation(record, 'initTime'))],
    ['Start type', annotation(record, 'startType') ?? '—'],
    ['Kind', annotation(record, 'kind') ?? '—'],
    ['Version', record.version],
    ['Limits', Object.entries(limits).map(([k, v]) => `${k} ${v}`).join(' · ') || '—'],
  ];
  fill($('record-timings'), timings.flatMap(([term, value]) =>
    [h('dt', { textContent: term }), h('dd', { textContent: String(value), dataset: { timing: term } })]));
  $('record-result').textContent = pretty(record.response.result);
  $('record-logs').textContent = record.logs?.length ? record.logs.join('\n') : '(no logs)';
}
