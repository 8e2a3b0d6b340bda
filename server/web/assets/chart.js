// Small SVG charts (no library): horizontal bars and weekly lines. Labels go in through textContent.
import { s } from './dom.js';

const W = 640;

/** Horizontal bars. items: [{label, value (0..max or null), note?}]; fmt(value) → text. */
export function bars(items, { title, max = 1, fmt = (v) => String(v), lowBelow = null } = {}) {
  const row = 34, left = 200, right = 90, top = 8;
  const height = top * 2 + Math.max(1, items.length) * row;
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-label': title || '' });
  if (title) svg.append(s('title', { text: title }));
  const span = W - left - right;
  items.forEach((it, i) => {
    const y = top + i * row;
    svg.append(s('text', { x: left - 8, y: y + row / 2 + 4, 'text-anchor': 'end', text: clip(it.label, 14) }));
    if (it.value == null || !isFinite(it.value)) {
      svg.append(s('text', { x: left + 4, y: y + row / 2 + 4, text: '—' }));
      return;
    }
    const w = Math.max(1, Math.round((Math.min(it.value, max) / (max || 1)) * span));
    const cls = 'bar' + (lowBelow != null && it.value < lowBelow ? ' low' : '') + (it.alt ? ' alt' : '');
    svg.append(s('rect', { class: cls, x: left, y: y + 5, width: w, height: row - 10, rx: 2 }, s('title', { text: it.label + ': ' + fmt(it.value) })));
    svg.append(s('text', { x: left + w + 6, y: y + row / 2 + 4, text: fmt(it.value) + (it.note ? ' ' + it.note : '') }));
  });
  svg.append(s('line', { class: 'axis', x1: left, x2: left, y1: top, y2: height - top }));
  return svg;
}

/** Lines over weeks. series: [{name, color, values: [0..1 or null]}], labels: x labels. */
export function lines(series, labels, { title, fmt = (v) => Math.round(v * 100) + '%' } = {}) {
  const H = 280, l = 56, r = 34, top = 16, bottom = 62;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title || '' });
  if (title) svg.append(s('title', { text: title }));
  const n = Math.max(1, labels.length - 1);
  const x = (i) => l + (i / n) * (W - l - r);
  const y = (v) => top + (1 - v) * (H - top - bottom);
  for (const g of [0, 0.5, 1]) {
    svg.append(s('line', { class: 'axis', x1: l, x2: W - r, y1: y(g), y2: y(g), 'stroke-dasharray': g ? '3 4' : null }));
    svg.append(s('text', { x: l - 6, y: y(g) + 4, 'text-anchor': 'end', text: fmt(g) }));
  }
  labels.forEach((lab, i) => { if (labels.length < 9 || i % 2 === 0) svg.append(s('text', { x: x(i), y: H - bottom + 18, 'text-anchor': 'middle', text: lab })); });
  series.forEach((se, k) => {
    let d = '';
    se.values.forEach((v, i) => { if (v == null) return; d += (d && se.values[i - 1] != null ? ' L' : ' M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1); });
    if (d) svg.append(s('path', { class: 'line', d: d.trim(), stroke: se.color }));
    se.values.forEach((v, i) => { if (v != null) svg.append(s('circle', { cx: x(i), cy: y(v), r: 3.5, fill: se.color }, s('title', { text: se.name + ' ' + labels[i] + ': ' + fmt(v) }))); });
    const lx = l + k * 190;
    svg.append(s('rect', { x: lx, y: H - 22, width: 14, height: 4, fill: se.color }));
    svg.append(s('text', { x: lx + 20, y: H - 16, text: se.name }));
  });
  return svg;
}

const clip = (str, n) => { const a = [...String(str || '')]; return a.length > n ? a.slice(0, n - 1).join('') + '…' : a.join(''); };

/** Columns by month. items: [{label, value (count), alt?}]; a dashed line before column `marker`
 *  (e.g. a hand-over) with `markerLabel`; legend: [{name, alt}]. */
export function columns(items, { title, marker = -1, markerLabel = '', legend = [], fmt = (v) => String(v) } = {}) {
  const H = 280, l = 40, r = 16, top = 24, bottom = 62;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title || '' });
  if (title) svg.append(s('title', { text: title }));
  const max = Math.max(1, ...items.map((it) => it.value || 0));
  const slot = (W - l - r) / Math.max(1, items.length);
  const y = (v) => top + (1 - v / max) * (H - top - bottom);
  for (const g of [0, max]) {
    svg.append(s('line', { class: 'axis', x1: l, x2: W - r, y1: y(g), y2: y(g), 'stroke-dasharray': g ? '3 4' : null }));
    svg.append(s('text', { x: l - 6, y: y(g) + 4, 'text-anchor': 'end', text: fmt(g) }));
  }
  items.forEach((it, i) => {
    const v = it.value || 0, w = slot * 0.7, x = l + i * slot + slot * 0.15;
    svg.append(s('rect', { class: 'bar' + (it.alt ? ' alt' : ''), x: x.toFixed(1), y: y(v).toFixed(1), width: w.toFixed(1), height: Math.max(0, y(0) - y(v)).toFixed(1), rx: 2 },
      s('title', { text: it.label + ': ' + fmt(v) })));
    if (v) svg.append(s('text', { x: (x + w / 2).toFixed(1), y: (y(v) - 4).toFixed(1), 'text-anchor': 'middle', text: fmt(v) }));
    if (items.length < 14 || i % 2 === 0) svg.append(s('text', { x: (x + w / 2).toFixed(1), y: H - bottom + 18, 'text-anchor': 'middle', text: it.label }));
  });
  if (marker >= 0 && items.length) {
    const mx = (l + marker * slot).toFixed(1);
    svg.append(s('line', { class: 'marker', x1: mx, x2: mx, y1: top - 14, y2: y(0) }));
    svg.append(s('text', { x: (l + marker * slot + 4).toFixed(1), y: top - 6, text: markerLabel }));
  }
  legend.forEach((lg, k) => {
    const lx = l + k * 190;
    svg.append(s('rect', { class: 'bar' + (lg.alt ? ' alt' : ''), x: lx, y: H - 24, width: 14, height: 10 }));
    svg.append(s('text', { x: lx + 20, y: H - 15, text: lg.name }));
  });
  return svg;
}
