// A map without tiles: the areas of /api/v1/map (or /api/v1/public/map) drawn as inline SVG
// paths, coloured by quantiles of the chosen figure (classes q0..q4 in app.css, no inline
// style), with a legend, a figure chooser, names on hover and focus, and areas reachable by
// keyboard (Tab, then Enter or Space). Clicking an area calls onSelect(area); again clears it.
import { h, s, clear } from './dom.js';
import { t, extend, name, lang } from './i18n.js';
import { request, ApiError } from './api.js';

extend({
  zh: { 'map.title': '地图', 'map.figure': '指标', 'map.level': '层级', 'map.community': '社区', 'map.district': '区县', 'map.programme': '改造类型',
    'map.year': '年度', 'map.all': '显示全部区域', 'map.hint': '点击区域可筛选本页内容，再次点击取消。', 'map.nodata': '无数据', 'map.selected': '已选：{n}',
    'map.f.open_tickets': '未办结投诉', 'map.f.overdue_tickets': '超期工单', 'map.f.open_hazards': '未整改隐患', 'map.f.cd_buildings': 'C/D 级房屋', 'map.f.plan_percent': '年度计划完成率',
    'map.p.shantytown': '棚户区改造', 'map.p.dangerous_housing': '危旧房改造', 'map.p.old_community': '老旧小区改造', 'map.legend': '图例', 'map.failed': '地图加载失败' },
  en: { 'map.title': 'Map', 'map.figure': 'Figure', 'map.level': 'Level', 'map.community': 'Communities', 'map.district': 'Districts', 'map.programme': 'Programme',
    'map.year': 'Year', 'map.all': 'Show all areas', 'map.hint': 'Click an area to filter this page; click it again to clear.', 'map.nodata': 'no data', 'map.selected': 'Selected: {n}',
    'map.f.open_tickets': 'Open complaints', 'map.f.overdue_tickets': 'Overdue tickets', 'map.f.open_hazards': 'Open hazards', 'map.f.cd_buildings': 'C/D buildings', 'map.f.plan_percent': 'Progress against plan',
    'map.p.shantytown': 'Shantytown', 'map.p.dangerous_housing': 'Dangerous housing', 'map.p.old_community': 'Old communities', 'map.legend': 'Legend', 'map.failed': 'The map could not be loaded' },
});

export const STAFF_FIGURES = ['open_tickets', 'overdue_tickets', 'open_hazards', 'cd_buildings', 'plan_percent'];
export const PUBLIC_FIGURES = ['open_tickets', 'overdue_tickets', 'plan_percent'];
const PROGRAMMES = ['shantytown', 'dangerous_housing', 'old_community'];
const CLASSES = 5;

/** Quantile class (0..4) of each value; null stays null. Few distinct values spread evenly. */
export function classify(values) {
  const nums = values.filter((v) => typeof v === 'number' && isFinite(v)).sort((a, b) => a - b);
  const uniq = [...new Set(nums)];
  if (!uniq.length) return values.map(() => null);
  if (uniq.length <= CLASSES) {
    const k = (v) => (uniq.length === 1 ? (v > 0 ? CLASSES - 1 : 0) : Math.round(uniq.indexOf(v) * (CLASSES - 1) / (uniq.length - 1)));
    return values.map((v) => (typeof v === 'number' ? k(v) : null));
  }
  const breaks = [];
  for (let i = 1; i < CLASSES; i++) breaks.push(nums[Math.floor((i * nums.length) / CLASSES)]);
  return values.map((v) => (typeof v === 'number' ? breaks.filter((b) => v >= b).length : null));
}

/**
 * Mounts a map in `box`. opts: { fetch: (path) => Promise<json> (default: anonymous request),
 * public: bool, levels: ['community', 'district'], figures, figure, year, onSelect(area|null) }.
 * Returns { reload(), select(id|null), selected() }.
 */
export function mountMap(box, opts = {}) {
  const get = opts.fetch || ((p) => request(p));
  const levels = opts.levels || (opts.public ? ['district'] : ['community', 'district']);
  const figures = opts.figures || (opts.public ? PUBLIC_FIGURES : STAFF_FIGURES);
  const st = { level: levels[0], figure: opts.figure || figures[0], programme: PROGRAMMES[0], data: null, sel: null };
  const uid = 'map' + Math.random().toString(36).slice(2, 8);
  const figSel = h('select', { id: uid + '-figure', class: 'map-figure' });
  const levelSel = h('select', { id: uid + '-level', class: 'map-level' });
  const progSel = h('select', { id: uid + '-programme', class: 'map-programme' });
  const clearBtn = h('button', { type: 'button', class: 'btn sec map-clear', hidden: true });
  const info = h('p', { class: 'map-info meta', 'aria-live': 'polite' });
  const drawing = h('div', { class: 'map-drawing' });
  const legend = h('div', { class: 'map-legend' });
  const head = h('h2', { class: 'map-title' });
  const hint = h('p', { class: 'hint map-hint' });
  const levelBox = h('div', { hidden: levels.length < 2 }, h('label', { for: levelSel.id, class: 'map-level-label' }), levelSel);
  const progBox = h('div', { hidden: true }, h('label', { for: progSel.id, class: 'map-programme-label' }), progSel);
  clear(box).classList.add('map', 'card');
  box.append(head, hint, h('div', { class: 'row' }, h('div', null, h('label', { for: figSel.id, class: 'map-figure-label' }), figSel), levelBox, progBox, clearBtn), drawing, legend, info);

  function labels() {
    head.textContent = t('map.title');
    hint.textContent = opts.onSelect ? t('map.hint') : '';
    box.querySelector('.map-figure-label').textContent = t('map.figure');
    box.querySelector('.map-level-label').textContent = t('map.level');
    box.querySelector('.map-programme-label').textContent = t('map.programme');
    clearBtn.textContent = t('map.all');
    clear(figSel).append(...figures.map((f) => h('option', { value: f, text: t('map.f.' + f), selected: f === st.figure })));
    clear(levelSel).append(...levels.map((l) => h('option', { value: l, text: t('map.' + l), selected: l === st.level })));
    clear(progSel).append(...PROGRAMMES.map((p) => h('option', { value: p, text: t('map.p.' + p), selected: p === st.programme })));
  }

  async function reload() {
    // Progress against plan exists per district only.
    const level = st.figure === 'plan_percent' ? 'district' : st.level;
    progBox.hidden = st.figure === 'plan_percent' ? false : true;
    levelSel.disabled = st.figure === 'plan_percent';
    const q = new URLSearchParams({ level, figure: st.figure });
    if (st.figure === 'plan_percent') { q.set('programme', st.programme); if (opts.year) q.set('year', String(opts.year())); }
    try {
      st.data = await get((opts.public ? '/api/v1/public/map?' : '/api/v1/map?') + q);
    } catch (e) {
      clear(drawing).append(h('p', { class: 'meta', text: t('map.failed') + (e instanceof ApiError ? ' — ' + e.human() : '') }));
      return;
    }
    draw();
  }

  const unit = () => (st.data ? (lang() === 'en' ? st.data.unit_en : st.data.unit_zh) : '');
  const fmt = (v) => (v == null ? t('map.nodata') : st.figure === 'plan_percent' ? v + '%' : v + ' ' + unit());
  const describe = (a) => name(a) + ' · ' + t('map.f.' + st.figure) + ' ' + fmt(a.value);

  function draw() {
    const d = st.data;
    const ks = classify(d.areas.map((a) => a.value));
    const svg = s('svg', { viewBox: d.view_box, role: 'group', class: 'map-svg', 'aria-label': t('map.title') + ' · ' + t('map.f.' + st.figure) });
    const big = d.level === 'district';
    d.areas.forEach((a, i) => {
      const cls = 'area ' + (ks[i] == null ? 'qn' : 'q' + ks[i]) + (st.sel === a.area_id ? ' sel' : '');
      const p = s('path', { d: a.path, class: cls, tabindex: '0', role: 'button', 'aria-pressed': st.sel === a.area_id ? 'true' : 'false',
        'aria-label': describe(a), dataset: { areaId: a.area_id, code: a.code, value: a.value == null ? '' : String(a.value) } }, s('title', { text: describe(a) }));
      const show = () => { info.textContent = describe(a); };
      p.addEventListener('mouseenter', show);
      p.addEventListener('focus', show);
      p.addEventListener('click', () => pick(a));
      p.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(a); } });
      svg.append(p);
    });
    // Names on the drawing for districts (few and large); communities name themselves on hover.
    if (big) d.areas.forEach((a) => svg.append(s('text', { x: a.label[0], y: a.label[1], class: 'map-label', 'text-anchor': 'middle', text: name(a) })));
    clear(drawing).append(svg);
    renderLegend(ks);
    clearBtn.hidden = !st.sel;
    const cur = d.areas.find((a) => a.area_id === st.sel);
    info.textContent = cur ? t('map.selected', { n: describe(cur) }) : '';
  }

  function renderLegend(ks) {
    const groups = new Map();
    st.data.areas.forEach((a, i) => {
      const k = ks[i] == null ? 'n' : ks[i];
      const g = groups.get(k) || { lo: a.value, hi: a.value };
      if (a.value != null) { g.lo = Math.min(g.lo, a.value); g.hi = Math.max(g.hi, a.value); }
      groups.set(k, g);
    });
    const keys = [...groups.keys()].sort((a, b) => (a === 'n' ? 1 : b === 'n' ? -1 : a - b));
    clear(legend).append(h('span', { class: 'meta', text: t('map.legend') + ' · ' + t('map.f.' + st.figure) + '：' }),
      h('ul', { class: 'map-keys' }, ...keys.map((k) => {
        const g = groups.get(k);
        const text = k === 'n' ? t('map.nodata') : g.lo === g.hi ? fmt(g.lo) : fmt(g.lo).replace(/\s.*$/, '') + '–' + fmt(g.hi);
        return h('li', null, s('svg', { viewBox: '0 0 16 16', width: '16', height: '16', 'aria-hidden': 'true' }, s('rect', { x: 1, y: 1, width: 14, height: 14, class: 'area ' + (k === 'n' ? 'qn' : 'q' + k) })), ' ', text);
      })));
  }

  function pick(a) {
    st.sel = st.sel === a.area_id ? null : a.area_id;
    draw();
    if (opts.onSelect) opts.onSelect(st.sel ? a : null);
    const again = drawing.querySelector(`path[data-area-id="${st.sel || a.area_id}"]`);
    if (again) again.focus();
  }

  figSel.addEventListener('change', () => { st.figure = figSel.value; reload(); });
  levelSel.addEventListener('change', () => { st.level = levelSel.value; st.sel = null; if (opts.onSelect) opts.onSelect(null); reload(); });
  progSel.addEventListener('change', () => { st.programme = progSel.value; reload(); });
  clearBtn.addEventListener('click', () => { st.sel = null; draw(); if (opts.onSelect) opts.onSelect(null); });
  labels();
  return {
    reload,
    relabel() { labels(); if (st.data) draw(); },
    select(id) { st.sel = id || null; if (st.data) draw(); },
    selected: () => st.sel,
  };
}
