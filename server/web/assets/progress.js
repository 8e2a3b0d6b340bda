// Progress against plan /progress (计划进度): per district and programme the plan, done, % and
// rank; bars of % per district and a month-by-month line of done against the plan's even pace
// (SVG, no library); the year's plans (editable by supervisors and administrators), the import
// of a plan sheet (dry run names every bad row, then apply) and the change log.
import { $, h, clear, say } from './dom.js';
import { t, extend, initLang, name, lang } from './i18n.js';
import { ApiError } from './api.js';
import { api, user, signIn, signOut, wireDialog } from './auth.js';
import { bars, lines } from './chart.js';
import { mountMap } from './map.js';

extend({
  zh: { 'prg.title': '计划进度', 'prg.year': '年度', 'prg.table': '各区完成情况', 'prg.charts': '图表', 'prg.plans': '年度计划', 'prg.save': '保存计划',
    'prg.import': '从 Excel / CSV 导入计划', 'prg.check': '检查（不导入）', 'prg.apply': '导入', 'prg.log': '修改记录', 'prg.dl.progress': '导出进度 Excel', 'prg.dl.plans': '导出计划 Excel',
    'prg.hint': '完成数由项目台账计算：棚改项目按实际开工日期计入当年新开工（套），按实际完工日期计入基本建成；危房改造按实际完工计入户数；老旧小区按实际开工计入个数和受益户数。',
    'prg.district': '区县', 'prg.measure': '指标', 'prg.planned': '计划', 'prg.done': '完成', 'prg.percent': '完成率', 'prg.rank': '排名', 'prg.city': '全市',
    'prg.pct.chart': '{m}：各区完成率', 'prg.line.chart': '{m}：逐月完成与均衡进度（全市）', 'prg.line.done': '累计完成', 'prg.line.pace': '均衡进度',
    'prg.saved': '计划已保存（{n} 项有变化）。', 'prg.ok': '检查通过：{n} 项计划，没有错误。', 'prg.applied': '已导入，{n} 项有变化。', 'prg.bad': '有 {n} 处错误，未导入：',
    'prg.row': '第 {r} 行', 'prg.col': '列', 'prg.when': '时间', 'prg.who': '修改人', 'prg.old': '原值', 'prg.new': '新值', 'prg.src': '来源', 'prg.nolog': '暂无修改。',
    'prg.readonly': '只有督办和管理员可以修改计划。', 'prg.src.api': '页面/接口', 'prg.src.import': '导入', 'prg.src.sample': '样例数据',
    'prog.shantytown': '棚户区改造', 'prog.dangerous_housing': '危旧房改造', 'prog.old_community': '老旧小区改造' },
  en: { 'prg.title': 'Progress against plan', 'prg.year': 'Year', 'prg.table': 'By district', 'prg.charts': 'Charts', 'prg.plans': 'Annual plans', 'prg.save': 'Save plans',
    'prg.import': 'Import plans from Excel / CSV', 'prg.check': 'Check (no import)', 'prg.apply': 'Import', 'prg.log': 'Changes', 'prg.dl.progress': 'Download progress (Excel)', 'prg.dl.plans': 'Download plans (Excel)',
    'prg.hint': 'Done is computed from the project register: a shantytown project’s flats count as started in the month of its actual start and as basically completed in the month of its actual completion; dangerous housing counts households at completion; old communities count at their actual start.',
    'prg.district': 'District', 'prg.measure': 'Measure', 'prg.planned': 'Plan', 'prg.done': 'Done', 'prg.percent': '% of plan', 'prg.rank': 'Rank', 'prg.city': 'City',
    'prg.pct.chart': '{m}: % of plan by district', 'prg.line.chart': '{m}: done by month against even pace (city)', 'prg.line.done': 'Done (cumulative)', 'prg.line.pace': 'Even pace',
    'prg.saved': 'Plans saved ({n} changed).', 'prg.ok': 'Check passed: {n} targets, no errors.', 'prg.applied': 'Imported; {n} changed.', 'prg.bad': '{n} errors; nothing imported:',
    'prg.row': 'Row {r}', 'prg.col': 'Column', 'prg.when': 'When', 'prg.who': 'Who', 'prg.old': 'Old', 'prg.new': 'New', 'prg.src': 'Source', 'prg.nolog': 'No changes yet.',
    'prg.readonly': 'Only supervisors and administrators can change plans.', 'prg.src.api': 'Page / API', 'prg.src.import': 'Import', 'prg.src.sample': 'Sample data',
    'prog.shantytown': 'Shantytown renovation', 'prog.dangerous_housing': 'Dangerous housing', 'prog.old_community': 'Old communities' },
});

const PROGRAMMES = ['shantytown', 'dangerous_housing', 'old_community'];
const st = { progress: null, plans: null, changes: [], file: null };
const pct = (v) => (v == null ? '—' : v + '%');
const num = (v) => (v == null ? '—' : String(v));
const mlabel = (m) => (lang() === 'en' ? m.label_en : m.label_zh);
const canEdit = () => { const u = user(); return !!u && ['admin', 'supervisor'].includes(u.role); };
const err = (e) => say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic'));

async function load() {
  const y = $('#year').value;
  say($('#msg'), 'info');
  try {
    [st.progress, st.plans, st.changes] = await Promise.all([
      api(`/api/v1/progress?year=${y}`), api(`/api/v1/plans?year=${y}`), api(`/api/v1/plans/changes?year=${y}`).then((r) => r.items),
    ]);
  } catch (e) { err(e); return; }
  render();
  document.documentElement.dataset.ready = '1';
}

function render() { renderTables(); renderCharts(); renderPlans(); renderLog(); applyMapFilter(); }

function renderTables() {
  const box = clear($('#tables')), p = st.progress;
  for (const prog of PROGRAMMES) {
    const measures = Object.entries(p.measures).filter(([, m]) => m.programme === prog);
    const row = (label, programmes, cls, code) => measures.map(([key, m], i) => {
      const x = programmes[prog].measures[key];
      return h('tr', { class: cls, dataset: { measure: key, district: code } }, i === 0 ? h('th', { scope: 'row', rowspan: String(measures.length), text: label }) : null,
        h('td', { text: mlabel(m) }), h('td', { class: 'num', text: num(x.planned) }), h('td', { class: 'num', dataset: { k: 'done' }, text: num(x.done) }),
        h('td', { class: 'num', dataset: { k: 'percent' }, text: pct(x.percent) }), h('td', { class: 'num', text: num(x.rank) }));
    });
    box.append(h('h3', { text: t('prog.' + prog) }), h('div', { class: 'tablewrap' }, h('table', { dataset: { programme: prog } },
      h('thead', null, h('tr', null, ...['prg.district', 'prg.measure', 'prg.planned', 'prg.done', 'prg.percent', 'prg.rank'].map((k, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : null, text: t(k) })))),
      h('tbody', null, ...p.districts.flatMap((d) => row(name(d), d.programmes, null, d.code)), ...row(t('prg.city'), p.city.programmes, 'total', 'city')))));
  }
}

function renderCharts() {
  const box = clear($('#charts')), p = st.progress;
  const months = Array.from({ length: 12 }, (_, i) => String(i + 1) + (lang() === 'en' ? '' : '月'));
  for (const prog of PROGRAMMES) {
    const key = p.city.programmes[prog].measure, m = p.measures[key];
    const items = p.districts.map((d) => ({ label: name(d), value: d.programmes[prog].percent }));
    const top = Math.max(100, ...items.map((i) => i.value || 0));
    box.append(h('figure', { class: 'chart' }, h('figcaption', { text: t('prg.pct.chart', { m: mlabel(m) }) }),
      bars(items, { title: t('prg.pct.chart', { m: mlabel(m) }), max: top, fmt: (v) => v + '%' })));
    const city = p.city.programmes[prog].measures[key];
    const scale = Math.max(1, city.planned || 0, city.done || 0);
    box.append(h('figure', { class: 'chart' }, h('figcaption', { text: t('prg.line.chart', { m: mlabel(m) }) }),
      lines([{ name: t('prg.line.done'), color: '#0b5cad', values: city.monthly.map((v) => v / scale) },
        { name: t('prg.line.pace'), color: '#b35900', values: city.even_pace.map((v) => (v == null ? null : v / scale)) }], months,
      { title: t('prg.line.chart', { m: mlabel(m) }), fmt: (v) => String(Math.round(v * scale)) })));
  }
}

function renderPlans() {
  const box = clear($('#plan-table')), pl = st.plans, edit = canEdit();
  box.append(h('table', { id: 'plan-inputs' },
    h('thead', null, h('tr', null, h('th', { scope: 'col', text: t('prg.district') }), ...pl.measures.map((m) => h('th', { scope: 'col', class: 'num', text: mlabel(m) })))),
    h('tbody', null, ...pl.districts.map((d) => h('tr', null, h('th', { scope: 'row', text: name(d) }),
      ...pl.measures.map((m) => h('td', { class: 'num' }, h('input', { type: 'number', min: '0', step: '1', class: 'plan', disabled: !edit,
        'aria-label': name(d) + ' ' + mlabel(m), dataset: { district: d.code, measure: m.measure, orig: d.targets[m.measure] ?? '' }, value: d.targets[m.measure] ?? '' }))))))));
  $('#plan-save').hidden = !edit; $('#import-form').hidden = !edit;
  if (!edit) box.append(h('p', { class: 'meta', text: t('prg.readonly') }));
}

function renderLog() {
  const box = clear($('#plan-log'));
  if (!st.changes.length) { box.append(h('p', { class: 'meta', text: t('prg.nolog') })); return; }
  const dname = (id) => name(st.plans.districts.find((d) => d.area_id === id)) || id;
  const mname = (k) => mlabel(st.plans.measures.find((m) => m.measure === k) || { label_zh: k, label_en: k });
  box.append(h('table', { id: 'plan-log-table' }, h('thead', null, h('tr', null, ...['prg.when', 'prg.who', 'prg.district', 'prg.measure', 'prg.old', 'prg.new', 'prg.src'].map((k) => h('th', { scope: 'col', text: t(k) })))),
    h('tbody', null, ...st.changes.slice(0, 100).map((c) => h('tr', null,
      h('td', { class: 'nw', text: new Date(c.changed_at).toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai' }) }),
      h('td', { text: c.changed_by_name }), h('td', { text: dname(c.area_id) }), h('td', { text: mname(c.measure) }),
      h('td', { class: 'num', text: num(c.old_target) }), h('td', { class: 'num', text: num(c.new_target) }), h('td', { text: t('prg.src.' + c.source) }))))));
}

async function savePlans(e) {
  e.preventDefault();
  const entries = [...document.querySelectorAll('#plan-inputs input')].filter((i) => i.value !== '' && i.value !== String(i.dataset.orig))
    .map((i) => ({ district: i.dataset.district, measure: i.dataset.measure, target: Number(i.value) }));
  try {
    const r = await api('/api/v1/plans', { method: 'PUT', json: { year: Number($('#year').value), entries } });
    await load(); say($('#msg'), 'ok', t('prg.saved', { n: r.changed }));
  } catch (ex) { showErrors(ex); }
}

function showErrors(e) {
  const list = e instanceof ApiError && Array.isArray(e.problem.errors) ? e.problem.errors : null;
  if (!list) { err(e); return; }
  const box = clear($('#import-result'));
  say($('#msg'), 'err', t('prg.bad', { n: list.length }));
  box.append(h('ul', { class: 'list', id: 'import-errors' }, ...list.map((x) => h('li', { dataset: { row: String(x.row ?? x.entry) } },
    h('strong', { text: x.row != null ? t('prg.row', { r: x.row }) : '#' + (x.entry + 1) }), x.column ? ' · ' + t('prg.col') + ' ' + x.column : '', '：',
    lang() === 'en' ? x.message_en : x.message_zh))));
}

async function sendImport(dryRun) {
  const f = $('#import-file').files[0];
  if (!f) return;
  const sess = JSON.parse(sessionStorage.getItem('anju.session') || 'null');
  const res = await fetch(`/api/v1/plans/import?dry_run=${dryRun}`, { method: 'POST', body: await f.arrayBuffer(),
    headers: { 'Content-Type': 'application/octet-stream', Authorization: 'Bearer ' + (sess && sess.access_token), 'Accept-Language': lang() === 'en' ? 'en' : 'zh-CN' } });
  const body = await res.json().catch(() => ({}));
  clear($('#import-result'));
  if (!res.ok) { $('#import-apply').disabled = true; showErrors(new ApiError(res.status, body, null)); return; }
  if (dryRun) { $('#import-apply').disabled = false; say($('#msg'), 'ok', t('prg.ok', { n: body.targets })); }
  else { $('#import-apply').disabled = true; await load(); say($('#msg'), 'ok', t('prg.applied', { n: body.changed })); }
}

async function download(path, file) {
  const sess = JSON.parse(sessionStorage.getItem('anju.session') || 'null');
  const res = await fetch(path, { headers: { Authorization: 'Bearer ' + (sess && sess.access_token) } });
  if (!res.ok) { say($('#msg'), 'err', t('err.generic')); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: file });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function showUser() {
  const u = user();
  $('#who').textContent = u ? (u.display_name || u.username) + ' · ' + t('role.' + u.role) : '';
}

async function start() {
  wireDialog();
  $('#year').value = String(new Date(Date.now() + 8 * 3600e3).getUTCFullYear());
  initLang($('#lang'), () => { showUser(); if (st.progress) render(); if (map) map.relabel(); });
  $('#logout').addEventListener('click', signOut);
  $('#yearform').addEventListener('submit', (e) => { e.preventDefault(); load(); if (map) map.reload(); });
  $('#plan-form').addEventListener('submit', savePlans);
  $('#import-form').addEventListener('submit', (e) => { e.preventDefault(); sendImport(true); });
  $('#import-file').addEventListener('change', () => { $('#import-apply').disabled = true; clear($('#import-result')); });
  $('#import-apply').addEventListener('click', () => sendImport(false));
  $('#dl-progress').addEventListener('click', () => download(`/api/v1/progress.xlsx?year=${$('#year').value}`, `progress-${$('#year').value}.xlsx`));
  $('#dl-plans').addEventListener('click', () => download(`/api/v1/plans.xlsx?year=${$('#year').value}`, `plans-${$('#year').value}.xlsx`));
  if (!user()) await signIn(false);
  showUser();
  map = mountMap($('#map-box'), { fetch: api, levels: ['district'], figures: ['plan_percent', 'open_tickets', 'overdue_tickets', 'open_hazards', 'cd_buildings'],
    year: () => $('#year').value, onSelect: (a) => { st.mapDistrict = a ? a.code : null; applyMapFilter(); } });
  await Promise.all([load(), map.reload()]);
}

// The map: a clicked district's rows are highlighted and the other districts' rows hidden (the
// city total stays); clicking it again shows every district.
let map = null;
function applyMapFilter() {
  const code = st.mapDistrict;
  for (const tr of document.querySelectorAll('#tables tr[data-district]')) {
    const d = tr.dataset.district;
    tr.classList.toggle('map-hl', !!code && d === code);
    tr.hidden = !!code && d !== code && d !== 'city';
  }
}
start();
