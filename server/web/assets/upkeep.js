// After-renovation upkeep /upkeep (后续管理): the property managers ranked by their figures on the
// facility and property-management complaints of the communities they took over; a manager's
// communities; a community month by month before and after its hand-over (SVG charts, the
// before/after comparison and the monthly table). Read-only; figures from /api/v1/upkeep/*.
import { $, h, clear, say } from './dom.js';
import { t, extend, initLang, name } from './i18n.js';
import { ApiError } from './api.js';
import { api, user, signIn, signOut, wireDialog } from './auth.js';
import { columns, lines } from './chart.js';

extend({
  zh: { 'upk.title': '后续管理', 'upk.managers': '物业服务企业排名', 'upk.back': '← 全部物业服务企业', 'upk.communities': '接管小区', 'upk.months': '对比月数（移交前后各）',
    'upk.hint': '统计接管以来所接管小区的公共设施损坏、物业管理类投诉。响应率、解决率、满意率与督办看板口径一致；按三率平均排名，派单少于 10 件的不排名。',
    'upk.compare': '移交前后对比', 'upk.bymonth': '逐月数据', 'upk.rank': '名次', 'upk.manager': '物业服务企业', 'upk.ncomm': '接管小区', 'upk.complaints': '投诉件数',
    'upk.response': '响应率', 'upk.resolution': '解决率', 'upk.satisfaction': '满意率', 'upk.overdue': '超期', 'upk.overdue_open': '超期未办结', 'upk.small': '样本不足，不排名',
    'upk.community': '小区', 'upk.district': '所属区', 'upk.took': '接管日期', 'upk.open': '查看', 'upk.none': '暂无物业服务企业。', 'upk.nocomm': '尚未接管小区。',
    'upk.meta': '{u} 于 {d} 接管 · 改造项目：{p}', 'upk.before': '移交前', 'upk.after': '移交后', 'upk.change': '变化', 'upk.metric': '指标', 'upk.month': '月份', 'upk.phase': '阶段',
    'upk.ph.before': '移交前', 'upk.ph.handover': '移交当月', 'upk.ph.after': '移交后', 'upk.chart.c': '公共设施与物业投诉（逐月，虚线为移交）', 'upk.chart.r': '逐月响应率、解决率、满意率',
    'upk.period': '{a} 至 {b}', 'upk.pts': '个百分点', 'upk.handover': '移交', 'upk.sum': '接管以来：投诉 {c} 件，超期 {o} 次，超期未办结 {n} 件', 'upk.score': '三率平均',
    'upk.ho.title': '项目移交：进入后续管理', 'upk.ho.hint': '竣工项目所在小区移交给物业服务企业后，该小区的公共设施损坏、物业管理类投诉自动派给接管企业，并按时限考核。',
    'upk.ho.project': '已竣工项目', 'upk.ho.unit': '接管物业服务企业', 'upk.ho.note': '备注', 'upk.ho.submit': '确认移交', 'upk.ho.recent': '移交记录', 'upk.ho.pick': '请选择',
    'upk.ho.noproj': '暂无已竣工项目。', 'upk.ho.need': '请选择项目、物业服务企业和接管日期。', 'upk.ho.done': '已移交：{c} 自 {d} 起由 {u} 接管，已建立 {n} 条派单规则。',
    'upk.ho.by': '登记人', 'upk.ho.none': '暂无移交记录。' },
  en: { 'upk.title': 'After-renovation upkeep', 'upk.managers': 'Property managers ranked', 'upk.back': '← All property managers', 'upk.communities': 'Communities taken over', 'upk.months': 'Months compared (each side of the hand-over)',
    'upk.hint': 'Facility and property-management complaints in the communities each manager took over, since the hand-over. Response, resolution and satisfaction rates as on the board; ranked by their mean; fewer than 10 dispatches are not ranked.',
    'upk.compare': 'Before and after the hand-over', 'upk.bymonth': 'By month', 'upk.rank': 'Rank', 'upk.manager': 'Property manager', 'upk.ncomm': 'Communities', 'upk.complaints': 'Complaints',
    'upk.response': 'Response rate', 'upk.resolution': 'Resolution rate', 'upk.satisfaction': 'Satisfaction', 'upk.overdue': 'Overdue', 'upk.overdue_open': 'Open and overdue', 'upk.small': 'Small sample, not ranked',
    'upk.community': 'Community', 'upk.district': 'District', 'upk.took': 'Taken over', 'upk.open': 'Open', 'upk.none': 'No property managers.', 'upk.nocomm': 'No community taken over yet.',
    'upk.meta': 'Taken over by {u} on {d} · renovation project: {p}', 'upk.before': 'Before', 'upk.after': 'After', 'upk.change': 'Change', 'upk.metric': 'Figure', 'upk.month': 'Month', 'upk.phase': 'Phase',
    'upk.ph.before': 'Before', 'upk.ph.handover': 'Hand-over month', 'upk.ph.after': 'After', 'upk.chart.c': 'Facility and property complaints by month (dashed line: hand-over)', 'upk.chart.r': 'Response, resolution and satisfaction by month',
    'upk.period': '{a} to {b}', 'upk.pts': 'points', 'upk.handover': 'Hand-over', 'upk.sum': 'Since taking over: {c} complaints, {o} deadlines missed, {n} open and overdue', 'upk.score': 'Mean of the rates',
    'upk.ho.title': 'Hand a project over to upkeep', 'upk.ho.hint': 'Once a completed project\'s community is handed over to a property manager, its damaged-facility and property-management complaints go to that manager, with deadlines.',
    'upk.ho.project': 'Completed project', 'upk.ho.unit': 'Property manager taking over', 'upk.ho.note': 'Note', 'upk.ho.submit': 'Hand over', 'upk.ho.recent': 'Hand-overs', 'upk.ho.pick': 'Choose',
    'upk.ho.noproj': 'No completed project yet.', 'upk.ho.need': 'Choose a project, a property manager and the date.', 'upk.ho.done': 'Handed over: {c} is looked after by {u} from {d}; {n} routing rules created.',
    'upk.ho.by': 'Recorded by', 'upk.ho.none': 'No hand-over yet.' },
});

const st = { view: 'list', list: null, manager: null, community: null, ho: null };
const mayHandOver = () => { const u = user(); return !!u && (u.role === 'admin' || u.role === 'supervisor'); };
const pct = (v) => (v == null ? '—' : Math.round(v * 1000) / 10 + '%');
const pts = (v) => (v == null ? '—' : (v > 0 ? '+' : '') + Math.round(v * 1000) / 10 + ' ' + t('upk.pts'));
const signed = (v) => (v > 0 ? '+' + v : String(v));
const th = (k, n) => h('th', { scope: 'col', class: n ? 'num' : null, text: t(k) });
const num = (v, extra) => h('td', { class: 'num', text: v == null ? '—' : String(v) + (extra || '') });
const err = (e) => say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic'));

function rateCells(f) {
  return [num(f.complaints), h('td', { class: 'num', text: pct(f.response_rate) }), h('td', { class: 'num', text: pct(f.resolution_rate) }),
    h('td', { class: 'num', text: pct(f.satisfaction_rate) }), num(f.overdue)];
}

function show(view) {
  st.view = view;
  $('#list-section').hidden = view !== 'list';
  $('#manager-section').hidden = view !== 'manager';
  $('#community-section').hidden = view !== 'community';
}

function renderList() {
  const box = clear($('#managers'));
  const items = (st.list && st.list.items) || [];
  if (!items.length) { box.append(h('p', { class: 'meta', text: t('upk.none') })); return; }
  box.append(h('table', { id: 'managers-table' },
    h('thead', null, h('tr', null, th('upk.rank', 1), th('upk.manager'), th('upk.ncomm', 1), th('upk.complaints', 1), th('upk.response', 1), th('upk.resolution', 1), th('upk.satisfaction', 1), th('upk.overdue', 1), th('upk.overdue_open', 1))),
    h('tbody', null, ...items.map((m) => h('tr', { dataset: { unit: m.code } },
      h('td', { class: 'num', text: m.rank == null ? '—' : String(m.rank), title: m.rank == null ? t('upk.small') : null }),
      h('th', { scope: 'row' }, h('a', { href: '#/manager/' + m.unit_id, text: name(m) }), m.rank == null ? h('span', { class: 'meta', text: ' · ' + t('upk.small') }) : null),
      num(m.communities.length), ...rateCells(m.figures), num(m.overdue_open))))));
}

function renderManager() {
  const m = st.manager && st.manager.manager;
  if (!m) return;
  $('#manager-h').textContent = name(m) + (m.rank == null ? '' : ' · ' + t('upk.rank') + ' ' + m.rank + '/' + st.manager.ranked_of);
  clear($('#manager-sum')).append(h('p', { class: 'meta', text: t('upk.sum', { c: m.figures.complaints, o: m.figures.overdue, n: m.overdue_open }) + ' · ' +
    t('upk.response') + ' ' + pct(m.figures.response_rate) + ' · ' + t('upk.resolution') + ' ' + pct(m.figures.resolution_rate) + ' · ' + t('upk.satisfaction') + ' ' + pct(m.figures.satisfaction_rate) }));
  const box = clear($('#communities'));
  if (!m.communities.length) { box.append(h('p', { class: 'meta', text: t('upk.nocomm') })); return; }
  box.append(h('table', { id: 'communities-table' },
    h('thead', null, h('tr', null, th('upk.community'), th('upk.district'), th('upk.took'), th('upk.complaints', 1), th('upk.response', 1), th('upk.resolution', 1), th('upk.satisfaction', 1), th('upk.overdue', 1), th('upk.overdue_open', 1))),
    h('tbody', null, ...m.communities.map((c) => h('tr', { dataset: { area: c.area_id } },
      h('th', { scope: 'row' }, h('a', { href: '#/community/' + c.area_id, text: name(c) })),
      h('td', { text: name({ name_zh: c.district_zh, name_en: c.district_en }) }), h('td', { text: c.took_over_on }),
      ...rateCells(c.figures), num(c.overdue_open))))));
}

function renderCommunity() {
  const c = st.community;
  if (!c) return;
  const ho = c.handover;
  $('#community-h').textContent = name(c) + (c.district_zh ? ' · ' + name({ name_zh: c.district_zh, name_en: c.district_en }) : '');
  const back = $('#community-back');
  back.href = '#/manager/' + ho.unit_id;
  back.textContent = '← ' + name({ name_zh: ho.unit_name_zh, name_en: ho.unit_name_en });
  $('#community-meta').textContent = t('upk.meta', { u: name({ name_zh: ho.unit_name_zh, name_en: ho.unit_name_en }), d: ho.took_over_on, p: (ho.project && ho.project.name) || '' });
  const months = c.monthly || [];
  const label = (m) => m.month.slice(2);
  const mark = months.findIndex((m) => m.phase !== 'before');
  clear($('#chart-complaints')).append(h('figcaption', { text: t('upk.chart.c') }),
    columns(months.map((m) => ({ label: label(m), value: m.complaints, alt: m.phase !== 'before' })), { title: t('upk.chart.c'), marker: mark, markerLabel: t('upk.handover'),
      legend: [{ name: t('upk.before'), alt: false }, { name: t('upk.after'), alt: true }] }));
  clear($('#chart-rates')).append(h('figcaption', { text: t('upk.chart.r') }),
    lines([{ name: t('upk.response'), color: '#1f5fa8', values: months.map((m) => m.response_rate) },
      { name: t('upk.resolution'), color: '#5a8f29', values: months.map((m) => m.resolution_rate) },
      { name: t('upk.satisfaction'), color: '#b35900', values: months.map((m) => m.satisfaction_rate) }], months.map(label), { title: t('upk.chart.r') }));
  const b = c.before.figures, a = c.after.figures, d = c.change;
  const row = (k, bv, av, dv) => h('tr', null, h('th', { scope: 'row', text: t(k) }), h('td', { class: 'num', text: bv }), h('td', { class: 'num', text: av }), h('td', { class: 'num', text: dv }));
  clear($('#compare')).append(h('table', { id: 'compare-table' },
    h('thead', null, h('tr', null, th('upk.metric'), h('th', { scope: 'col', class: 'num', text: t('upk.before') + '（' + t('upk.period', { a: c.before.from, b: c.before.to }) + '）' }),
      h('th', { scope: 'col', class: 'num', text: t('upk.after') + '（' + t('upk.period', { a: c.after.from, b: c.after.to }) + '）' }), th('upk.change', 1))),
    h('tbody', null,
      row('upk.complaints', String(b.complaints), String(a.complaints), signed(d.complaints)),
      row('upk.response', pct(b.response_rate), pct(a.response_rate), pts(d.response_rate)),
      row('upk.resolution', pct(b.resolution_rate), pct(a.resolution_rate), pts(d.resolution_rate)),
      row('upk.satisfaction', pct(b.satisfaction_rate), pct(a.satisfaction_rate), pts(d.satisfaction_rate)),
      row('upk.overdue', String(b.overdue), String(a.overdue), signed(d.overdue)))));
  clear($('#monthly')).append(h('table', { id: 'monthly-table' },
    h('thead', null, h('tr', null, th('upk.month'), th('upk.phase'), th('upk.complaints', 1), th('upk.response', 1), th('upk.resolution', 1), th('upk.satisfaction', 1), th('upk.overdue', 1), th('upk.overdue_open', 1))),
    h('tbody', null, ...months.map((m) => h('tr', { class: m.phase === 'before' ? null : 'after', dataset: { phase: m.phase } },
      h('th', { scope: 'row', text: m.month }), h('td', { text: t('upk.ph.' + m.phase) }), ...rateCells(m), num(m.overdue_open))))));
}

/** The hand-over form (supervisors and administrators): completed projects, property managers, recent hand-overs. */
async function loadHandover() {
  if (!mayHandOver()) return;
  const [projects, units, areas, list] = await Promise.all([
    api('/api/v1/registers/project?status=completed&per_page=200&sort=name'), api('/api/v1/units'), api('/api/v1/areas'), api('/api/v1/upkeep/handovers')]);
  st.ho = { projects: projects.items || [], managers: units.filter((u) => u.kind === 'property_manager'), areas: new Map(areas.map((a) => [a.id, a])),
    units: new Map(units.map((u) => [u.id, u])), list: list.items || [] };
  $('#handover-section').hidden = false;
  renderHandover();
}

function renderHandover() {
  const ho = st.ho;
  if (!ho) return;
  const pick = () => h('option', { value: '', text: t('upk.ho.pick') });
  const keepP = $('#ho-project').value, keepU = $('#ho-unit').value;
  clear($('#ho-project')).append(pick(), ...ho.projects.map((p) => h('option', { value: p.id, text: [p.fields.code, p.fields.name].filter(Boolean).join(' ') + (p.area && p.area.name_zh ? ' · ' + name(p.area) : '') })));
  clear($('#ho-unit')).append(pick(), ...ho.managers.map((u) => h('option', { value: u.id, text: name(u) })));
  $('#ho-project').value = keepP; $('#ho-unit').value = keepU;
  if (!$('#ho-date').value) $('#ho-date').value = new Date().toISOString().slice(0, 10);
  const box = clear($('#handovers'));
  if (!ho.projects.length) say($('#ho-msg'), 'info', t('upk.ho.noproj'));
  if (!ho.list.length) { box.append(h('p', { class: 'meta', text: t('upk.ho.none') })); return; }
  box.append(h('table', { id: 'handovers-table' },
    h('thead', null, h('tr', null, th('upk.took'), th('upk.community'), th('upk.manager'), th('upk.ho.note'), th('upk.ho.by'))),
    h('tbody', null, ...ho.list.slice(0, 20).map((x) => {
      const a = ho.areas.get(x.area_id), u = ho.units.get(x.unit_id);
      return h('tr', null, h('td', { text: x.took_over_on }), h('td', { text: a ? name(a) : x.area_id }), h('td', { text: u ? name(u) : x.unit_id }),
        h('td', { text: x.note || '' }), h('td', { text: x.created_by_name || '' }));
    }))));
}

async function submitHandover(e) {
  e.preventDefault();
  const project_id = $('#ho-project').value, unit_id = $('#ho-unit').value, took_over_on = $('#ho-date').value, note = $('#ho-note').value.trim();
  if (!project_id || !unit_id || !took_over_on) { say($('#ho-msg'), 'err', t('upk.ho.need')); return; }
  const btn = e.submitter || $('#handover-form button');
  btn.disabled = true;
  try {
    const r = await api('/api/v1/upkeep/handovers', { json: { project_id, unit_id, took_over_on, ...(note ? { note } : {}) } });
    const a = st.ho.areas.get(r.area_id), u = st.ho.units.get(r.unit_id);
    $('#ho-note').value = '';
    await Promise.all([loadHandover(), route()]);
    say($('#ho-msg'), 'ok', t('upk.ho.done', { c: a ? name(a) : r.area_id, u: u ? name(u) : r.unit_id, d: r.took_over_on, n: (r.rules || []).length }));
  } catch (err2) {
    say($('#ho-msg'), 'err', err2 instanceof ApiError ? err2.human() : t('err.generic'));
  } finally { btn.disabled = false; }
}

function render() { renderList(); renderManager(); renderCommunity(); renderHandover(); }

async function route() {
  const [, kind, id] = (location.hash.match(/^#\/(manager|community)\/([^/?]+)/) || []);
  try {
    if (kind === 'manager') {
      st.manager = await api('/api/v1/upkeep/managers/' + encodeURIComponent(id));
      show('manager'); renderManager();
    } else if (kind === 'community') {
      st.community = await api(`/api/v1/upkeep/communities/${encodeURIComponent(id)}?months=${$('#months').value}`);
      show('community'); renderCommunity();
    } else {
      st.list = await api('/api/v1/upkeep/managers');
      show('list'); renderList();
    }
    clear($('#msg')).className = 'msg';
  } catch (e) { err(e); }
  document.documentElement.dataset.view = st.view;
}

function showUser() {
  const u = user();
  $('#who').textContent = u ? (u.display_name || u.username) + ' · ' + t('role.' + u.role) : '';
}

async function start() {
  wireDialog();
  initLang($('#lang'), () => { showUser(); render(); });
  $('#logout').addEventListener('click', signOut);
  $('#months').addEventListener('change', route);
  $('#handover-form').addEventListener('submit', submitHandover);
  window.addEventListener('hashchange', route);
  if (!user()) await signIn(false);
  showUser();
  await route();
  try { await loadHandover(); } catch (e) { err(e); }
  document.documentElement.dataset.ready = '1';
}
start();
