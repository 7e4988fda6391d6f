// Activations per second over the last minute, stacked by start type, drawn as inline SVG.

import { clock, fill, h, svg } from './dom.js';

export const START_TYPES = ['cold', 'prewarm', 'warm', 'other'];
const HEIGHT = 150;
const LEFT = 36;
const BOTTOM = 20;
const TOP = 8;

const startType = (row) => {
  const value = (row.annotations ?? []).find((a) => a.key === 'startType')?.value;
  return START_TYPES.includes(value) ? value : 'other';
};

/** windowS buckets, oldest first; bucket i counts the activations that started in second i of the window. */
export function perSecond(rows, nowMs, windowS) {
  const buckets = Array.from({ length: windowS }, (_, i) => ({
    at: nowMs - (windowS - 1 - i) * 1000, cold: 0, prewarm: 0, warm: 0, other: 0, total: 0 }));
  for (const row of rows) {
    const age = Math.floor((nowMs - row.start) / 1000);
    if (age < 0 || age >= windowS) continue;
    const bucket = buckets[windowS - 1 - age];
    bucket[startType(row)] += 1;
    bucket.total += 1;
  }
  return buckets;
}

export function drawChart(plot, legend, rows, nowMs, { windowS = 60, capped = false } = {}) {
  const width = Math.max(360, Math.round(plot.clientWidth || 720)); // drawn at the plot's size: crisp text
  const buckets = perSecond(rows, nowMs, windowS);
  const peak = Math.max(1, ...buckets.map((b) => b.total));
  const plotWidth = width - LEFT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const barWidth = plotWidth / windowS;
  const bars = buckets.flatMap((bucket, i) => stack(bucket, LEFT + i * barWidth, barWidth, plotHeight / peak));
  const axis = [
    svg('line', { x1: LEFT, y1: HEIGHT - BOTTOM, x2: width, y2: HEIGHT - BOTTOM, class: 'axis' }),
    svg('line', { x1: LEFT, y1: TOP, x2: LEFT, y2: HEIGHT - BOTTOM, class: 'axis' }),
    svg('text', { x: LEFT - 4, y: TOP + 10, 'text-anchor': 'end', class: 'tick' }, `${peak}/s`),
    svg('text', { x: LEFT - 4, y: HEIGHT - BOTTOM, 'text-anchor': 'end', class: 'tick' }, '0'),
    svg('text', { x: LEFT, y: HEIGHT - 4, class: 'tick' }, `−${windowS} s`),
    svg('text', { x: LEFT + plotWidth / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'tick' }, `−${windowS / 2} s`),
    svg('text', { x: width, y: HEIGHT - 4, 'text-anchor': 'end', class: 'tick' }, 'now'),
  ];
  const title = svg('title', {}, `Activations per second over the last ${windowS} s, by start type`);
  fill(plot, svg('svg', { viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', class: 'chart' }, title, axis, bars));
  fill(legend, legendItems(buckets, windowS, peak, capped));
}

function stack(bucket, x, width, unit) {
  let y = HEIGHT - BOTTOM;
  const hint = `${clock(bucket.at)}: ${START_TYPES.filter((t) => bucket[t]).map((t) => `${t} ${bucket[t]}`).join(', ')}`;
  return START_TYPES.filter((type) => bucket[type] > 0).map((type) => {
    const height = bucket[type] * unit;
    y -= height;
    return svg('rect', { x: x + 0.5, y, width: Math.max(width - 1, 1), height, class: `bar ${type}`, 'data-start-type': type,
      'data-count': bucket[type] }, svg('title', {}, hint));
  });
}

function legendItems(buckets, windowS, peak, capped) {
  const totals = Object.fromEntries(START_TYPES.map((t) => [t, buckets.reduce((sum, b) => sum + b[t], 0)]));
  const total = buckets.reduce((sum, b) => sum + b.total, 0);
  const items = START_TYPES.filter((t) => t !== 'other' || totals.other)
    .map((t) => h('span', { className: 'legend-item', dataset: { startType: t } },
      h('span', { className: `swatch ${t}` }), `${t} ${totals[t]}`));
  const rate = `${total} in the last ${windowS} s · ${(total / windowS).toFixed(2)}/s on average · peak ${peak}/s`;
  return [...items, h('span', { className: 'legend-total', textContent: capped ? `${rate} (the newest 200 only)` : rate })];
}
