'use strict';
// Draws a report from run.js as an SVG bar chart of ratios to node:tls
// (log scale, 1× in the middle), with the machine, Node version and date.

const NAMES = { node: 'node:tls', rustls: 'rustls-tls', net: 'net' };
const COLORS = { better: '#2e9d57', worse: '#d2493c', net: '#9aa3ad' };

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const text = (x, y, s, attrs = '') => `<text x="${x}" y="${y}" ${attrs}>${escape(s)}</text>`;

function chart(report) {
  const drawn = (r) => !(r.server === 'node' && r.client === 'node') && (r.metric === null || r.ratio !== null);
  const bars = report.results.filter(drawn);
  const extreme = Math.max(1, ...bars.filter((b) => b.metric).map((b) => Math.abs(Math.log2(b.ratio || 1 / 16))));
  const span = Math.min(4, Math.ceil(extreme));
  const width = 960;
  const left = 400;
  const right = width - 70;
  const mid = (left + right) / 2;
  const x = (ratio) => mid + (Math.max(-span, Math.min(span, Math.log2(ratio))) / span) * (right - mid);

  const m = report.machine;
  const out = [];
  let y = 28;
  out.push(text(16, y, 'rustls-tls vs node:tls — ratio to node:tls on both ends (log scale)', 'font-size="16" font-weight="bold"'));
  y += 20;
  out.push(text(16, y, `${m.cpu}, ${m.cores} cores, ${m.os} · Node ${report.node} · ${report.date.slice(0, 10)}`));
  y += 18;
  const mode = report.config.quick ? 'quick mode, ' : '';
  const pkg = report.package.loaded ? '' : ' · rustls-tls not measured';
  out.push(text(16, y, `${mode}median of ${report.config.runs} run(s) · server → client · ↓ = lower is better · green: better than node:tls, red: worse, grey: plain net${pkg}`, 'fill="#555"'));
  y += 30;

  const top = y;
  const ticks = [];
  for (let p = -span; p <= span; p++) ticks.push(2 ** p);
  let group = null;
  const rows = [];
  for (const b of bars) {
    if (b.id !== group) {
      group = b.id;
      y += 8;
      rows.push(text(16, y + 12, b.title, 'font-weight="bold"'));
      y += 20;
    }
    if (!b.metric) {
      rows.push(text(28, y + 12, `${NAMES[b.server]} → ${NAMES[b.client]}`));
      rows.push(text(mid + 4, y + 13, 'failed', `fill="${COLORS.worse}"`));
      y += 20;
      continue;
    }
    const better = b.better === 'lower' ? b.ratio < 1 : b.ratio > 1;
    const color = b.server === 'net' ? COLORS.net : better ? COLORS.better : COLORS.worse;
    const x1 = x(b.ratio);
    const arrow = b.better === 'lower' ? ' ↓' : '';
    rows.push(text(28, y + 12, `${NAMES[b.server]} → ${NAMES[b.client]} · ${b.metric}${arrow}`));
    rows.push(`<rect x="${Math.min(mid, x1).toFixed(1)}" y="${y + 2}" width="${Math.max(1, Math.abs(x1 - mid)).toFixed(1)}" height="14" fill="${color}"/>`);
    const anchor = x1 >= mid ? `x="${x1 + 4}" text-anchor="start"` : `x="${x1 - 4}" text-anchor="end"`;
    rows.push(`<text ${anchor} y="${y + 13}">${b.ratio.toFixed(2)}×</text>`);
    y += 20;
  }
  if (!bars.length) {
    rows.push(text(16, y + 14, 'no ratios to draw'));
    y += 24;
  }
  const bottom = y + 6;
  for (const t of ticks) {
    const tx = x(t).toFixed(1);
    const stroke = t === 1 ? 'stroke="#333"' : 'stroke="#ddd" stroke-dasharray="3,3"';
    out.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${bottom}" ${stroke}/>`);
    out.push(text(tx, top - 8, `${t}×`, 'text-anchor="middle" fill="#555"'));
  }
  out.push(...rows);
  const height = bottom + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

module.exports = { chart };
