// Public disclosure /public (信息公开): aggregate complaint figures per district and category,
// and renovation project progress when the server publishes it. No personal data is shown.
import { $, h, clear, say } from './dom.js';
import { t, extend, initLang, name, lang } from './i18n.js';
import { request, ApiError, items } from './api.js';
import { bars } from './chart.js';
import { mountMap } from './map.js';

extend({
  zh: { 'pub.title': '信息公开', 'pub.intro': '群众诉求办理情况和改造项目进度，按区、按类别统计，不含任何个人信息。', 'pub.stats': '诉求办理情况',
    'pub.projects': '改造项目进度', 'pub.staff': '工作人员入口', 'brd.from': '开始日期', 'brd.to': '结束日期', 'brd.update': '更新',
    'pub.district': '区', 'pub.received': '受理', 'pub.resolved': '办结', 'pub.rate': '办结率', 'pub.median': '办结中位用时（小时）', 'pub.sat': '满意率',
    'pub.total': '合计', 'pub.chart': '各区受理与办结', 'pub.bycat': '{d}：按类别', 'pub.category': '类别', 'pub.none': '所选时段没有数据。',
    'pub.p.name': '项目', 'pub.p.kind': '类型', 'pub.p.plan': '计划', 'pub.p.started': '已开工', 'pub.p.done': '已完成', 'pub.p.progress': '完成进度',
    'prog.shantytown': '棚户区改造', 'prog.dilapidated': '危旧房改造', 'prog.dangerous_housing': '危旧房改造', 'prog.old_community': '老旧小区改造',
    'pub.funds': '资金使用情况（{y}年，万元）', 'pub.f.budget': '预算', 'pub.f.received': '到位', 'pub.f.paid': '支付', 'pub.f.pct': '支付占预算', 'pub.f.prog': '类型',
    'pub.p.status': '状态', 'pst.planned': '计划中', 'pst.in_progress': '施工中', 'pst.completed': '已完工', 'msr.flat': '套', 'msr.household': '户',
    'pub.plan': '年度计划完成情况', 'pub.plan.measure': '指标', 'pub.plan.planned': '年度计划', 'pub.plan.done': '已完成', 'pub.plan.pct': '完成率', 'pub.plan.chart': '各区完成率（{y} 年）' },
  en: { 'pub.title': 'Public figures', 'pub.intro': 'How residents’ complaints are handled and how renovation projects progress, by district and category. No personal data.', 'pub.stats': 'Complaints handled',
    'pub.projects': 'Renovation projects', 'pub.staff': 'Staff sign-in', 'brd.from': 'From', 'brd.to': 'To', 'brd.update': 'Update',
    'pub.district': 'District', 'pub.received': 'Received', 'pub.resolved': 'Resolved', 'pub.rate': 'Resolved %', 'pub.median': 'Median hours to resolve', 'pub.sat': 'Satisfaction',
    'pub.total': 'Total', 'pub.chart': 'Received and resolved per district', 'pub.bycat': '{d}: by category', 'pub.category': 'Category', 'pub.none': 'No data for this period.',
    'pub.p.name': 'Project', 'pub.p.kind': 'Programme', 'pub.p.plan': 'Plan', 'pub.p.started': 'Started', 'pub.p.done': 'Completed', 'pub.p.progress': 'Progress',
    'prog.shantytown': 'Shantytown renovation', 'prog.dilapidated': 'Dilapidated housing', 'prog.dangerous_housing': 'Dilapidated housing', 'prog.old_community': 'Old community renovation',
    'pub.p.status': 'Status', 'pst.planned': 'Planned', 'pst.in_progress': 'In progress', 'pst.completed': 'Completed', 'msr.flat': 'flats', 'msr.household': 'households',
    'pub.funds': 'Use of funds ({y}, 10,000 yuan)', 'pub.f.budget': 'Budget', 'pub.f.received': 'Received', 'pub.f.paid': 'Paid', 'pub.f.pct': 'Paid % of budget', 'pub.f.prog': 'Programme',
    'pub.plan': 'Annual plan: progress', 'pub.plan.measure': 'Measure', 'pub.plan.planned': 'Plan', 'pub.plan.done': 'Done', 'pub.plan.pct': '% of plan', 'pub.plan.chart': '% of plan by district ({y})' },
});

const st = { stats: null, cats: [], projects: null, plan: null, funds: null };
const pct = (v) => (v == null || !isFinite(v) ? '—' : Math.round((v > 1 ? v / 100 : v) * 1000) / 10 + '%');
const ymd = (d) => d.toISOString().slice(0, 10);
const num = (v) => (v == null ? '—' : String(v));
const th = (k, n) => h('th', { scope: 'col', class: n ? 'num' : null, text: t(k) });

async function load() {
  say($('#msg'), 'info');
  try {
    st.stats = await request(`/api/v1/public/stats?from=${$('#from').value}&to=${$('#to').value}`);
  } catch (e) {
    say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic'));
    return;
  }
  render();
}

function render() {
  renderStats();
  applyMapFilter();
}

function renderStats() {
  const ds = (st.stats && st.stats.districts) || [];
  const box = clear($('#stats'));
  const fig = clear($('#chart'));
  const cats = clear($('#bycat'));
  if (!ds.length) { box.append(h('p', { class: 'meta', text: t('pub.none') })); return; }
  const tot = ds.reduce((a, d) => ({ received: a.received + (d.received || 0), resolved: a.resolved + (d.resolved || 0) }), { received: 0, resolved: 0 });
  box.append(h('table', null,
    h('thead', null, h('tr', null, th('pub.district'), th('pub.received', 1), th('pub.resolved', 1), th('pub.rate', 1), th('pub.median', 1), th('pub.sat', 1))),
    h('tbody', null, ...ds.map((d) => h('tr', { dataset: { district: String(d.area_id || '') } },
      h('th', { scope: 'row', text: name(d) }),
      h('td', { class: 'num', text: num(d.received) }), h('td', { class: 'num', text: num(d.resolved) }),
      h('td', { class: 'num', text: d.received ? pct(d.resolved / d.received) : '—' }),
      h('td', { class: 'num', text: d.median_hours_to_resolve == null ? '—' : String(Math.round(d.median_hours_to_resolve * 10) / 10) }),
      h('td', { class: 'num', text: pct(d.satisfaction_rate) })))),
    h('tfoot', null, h('tr', null, h('th', { scope: 'row', text: t('pub.total') }), h('td', { class: 'num', text: String(tot.received) }), h('td', { class: 'num', text: String(tot.resolved) }),
      h('td', { class: 'num', text: tot.received ? pct(tot.resolved / tot.received) : '—' }), h('td'), h('td')))));
  const max = Math.max(1, ...ds.map((d) => d.received || 0));
  const rows = ds.flatMap((d) => [{ label: name(d) + ' · ' + t('pub.received'), value: d.received || 0 }, { label: name(d) + ' · ' + t('pub.resolved'), value: d.resolved || 0, alt: true }]);
  fig.append(h('figcaption', { text: t('pub.chart') }), bars(rows, { title: t('pub.chart'), max, fmt: String }));
  for (const d of ds) {
    if (!d.by_category || !d.by_category.length) continue;
    cats.append(h('details', { class: 'card' }, h('summary', { text: t('pub.bycat', { d: name(d) }) }),
      h('div', { class: 'tablewrap' }, h('table', null,
        h('thead', null, h('tr', null, th('pub.category'), th('pub.received', 1), th('pub.resolved', 1))),
        h('tbody', null, ...d.by_category.map((c) => h('tr', null,
          h('th', { scope: 'row', text: name(st.cats.find((x) => x.code === c.code)) || c.code }),
          h('td', { class: 'num', text: num(c.received) }), h('td', { class: 'num', text: num(c.resolved) }))))))));
  }
}

async function loadProjects() {
  try { const r = await request('/api/v1/public/projects'); st.projects = Array.isArray(r && r.projects) ? r.projects : items(r); } catch { st.projects = null; }
  renderProjects();
}
function renderProjects() {
  const sec = $('#projects');
  sec.hidden = !st.projects || !st.projects.length;
  if (sec.hidden) return;
  const box = clear($('#proj'));
  box.append(h('table', null,
    h('thead', null, h('tr', null, th('pub.p.name'), th('trk.where'), th('pub.p.kind'), th('pub.p.status'), th('pub.p.plan', 1), th('pub.p.done', 1), th('pub.p.progress'))),
    h('tbody', null, ...st.projects.map((p) => {
      // {name, programme, area_name, measure: flat|household, planned_units, completed_units, progress_percent, status}
      const plan = p.planned_units ?? null, done = p.completed_units ?? null;
      const ratio = p.progress_percent != null ? p.progress_percent / 100 : plan ? (done || 0) / plan : null;
      const measure = p.measure ? ' ' + t('msr.' + p.measure) : '';
      const bar = h('span');
      if (ratio != null) bar.style.width = Math.min(100, Math.round(ratio * 100)) + '%';
      const kind = p.programme || '';
      return h('tr', null,
        h('th', { scope: 'row', text: p.name || '' }),
        h('td', { text: p.area_name || '' }),
        h('td', { text: kind ? t('prog.' + kind) : '' }),
        h('td', { text: p.status ? t('pst.' + p.status) : '' }),
        h('td', { class: 'num', text: plan == null ? '—' : plan + measure }),
        h('td', { class: 'num', text: done == null ? '—' : done + measure }),
        h('td', null, h('div', { class: 'progress', role: 'img', 'aria-label': pct(ratio) }, bar), h('span', { class: 'meta', text: pct(ratio) })));
    }))));
}

async function loadPlan() {
  try { st.plan = await request('/api/v1/public/progress'); } catch { st.plan = null; }
  renderPlan();
}
function renderPlan() {
  const p = st.plan, sec = $('#plan');
  sec.hidden = !p || !p.districts || !p.districts.length;
  if (sec.hidden) return;
  setTimeout(applyMapFilter);
  const progs = ['shantytown', 'dangerous_housing', 'old_community'];
  const mname = (k) => { const m = p.measures[k]; return m ? (lang() === 'en' ? m.label_en : m.label_zh) : k; };
  clear($('#plan-table')).append(h('table', { id: 'public-plan' },
    h('thead', null, h('tr', null, th('pub.district'), th('pub.plan.measure'), th('pub.plan.planned', 1), th('pub.plan.done', 1), th('pub.plan.pct', 1))),
    h('tbody', null, ...p.districts.flatMap((d) => progs.map((g) => {
      const x = d.programmes[g];
      return h('tr', { dataset: { district: String(d.area_id || '') } }, h('th', { scope: 'row', text: name(d) }), h('td', { text: mname(x.measure) }),
        h('td', { class: 'num', text: num(x.planned) }), h('td', { class: 'num', text: num(x.done) }), h('td', { class: 'num', text: x.percent == null ? '—' : x.percent + '%' }));
    })))));
  const rows = p.districts.flatMap((d) => progs.map((g) => ({ label: name(d) + ' · ' + t('prog.' + g), value: d.programmes[g].percent })));
  const max = Math.max(100, ...rows.map((r) => r.value || 0));
  clear($('#plan-chart')).append(h('figcaption', { text: t('pub.plan.chart', { y: p.year }) }), bars(rows, { title: t('pub.plan.chart', { y: p.year }), max, fmt: (v) => v + '%' }));
}

async function loadFunds() {
  try { st.funds = await request('/api/v1/public/funds'); } catch { st.funds = null; }
  renderFunds();
}
// Yuan as 万元 with two decimals.
const wan = (v) => (v == null ? '—' : (v / 10000).toFixed(2));
function renderFunds() {
  const f = st.funds, sec = $('#funds');
  sec.hidden = !f || !f.districts || !f.districts.length;
  if (sec.hidden) return;
  $('#funds-h').textContent = t('pub.funds', { y: f.year });
  const progs = ['shantytown', 'dangerous_housing', 'old_community'];
  const row = (label, g, x, district) => h('tr', { dataset: { district: String(district || '') } }, h('th', { scope: 'row', text: label }), h('td', { text: g ? t('prog.' + g) : '' }),
    h('td', { class: 'num', text: wan(x.budget) }), h('td', { class: 'num', text: wan(x.received) }), h('td', { class: 'num', text: wan(x.paid) }),
    h('td', { class: 'num', text: x.paid_percent == null ? '—' : x.paid_percent + '%' }));
  clear($('#funds-table')).append(h('table', { id: 'public-funds' },
    h('thead', null, h('tr', null, th('pub.district'), th('pub.f.prog'), th('pub.f.budget', 1), th('pub.f.received', 1), th('pub.f.paid', 1), th('pub.f.pct', 1))),
    h('tbody', null, ...f.districts.flatMap((d) => progs.map((g) => row(name(d), g, d.programmes[g], d.area_id)))),
    h('tfoot', null, row(t('pub.total'), null, f.city.total))));
}

async function start() {
  const to = new Date(Date.now() + 8 * 3600e3);
  $('#to').value = ymd(to);
  $('#from').value = ymd(to).slice(0, 4) + '-01-01';
  initLang($('#lang'), () => { render(); renderProjects(); renderPlan(); renderFunds(); applyMapFilter(); map.relabel(); });
  $('#period').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  try { st.cats = await request('/api/v1/categories'); } catch { st.cats = []; }
  map = mountMap($('#map-box'), { public: true, onSelect: (a) => { mapDistrict = a ? a.area_id : null; applyMapFilter(); } });
  await Promise.all([load(), loadProjects(), loadPlan(), loadFunds(), map.reload()]);
  document.documentElement.dataset.ready = '1';
}

// The map (districts only): a clicked district's figures are shown alone and highlighted in
// the complaint and plan tables; clicking it again shows every district.
let map = null;
let mapDistrict = null;
function applyMapFilter() {
  for (const tr of document.querySelectorAll('#stats tbody tr[data-district], #plan-table tbody tr[data-district], #funds-table tbody tr[data-district]')) {
    tr.classList.toggle('map-hl', !!mapDistrict && tr.dataset.district === mapDistrict);
    tr.hidden = !!mapDistrict && tr.dataset.district !== mapDistrict;
  }
}
start();
