// Bulletins /bulletins (工作通报): the list of bulletins (supervisors and administrators see drafts
// and make them; other staff read the issued ones), and one bulletin as a printable A4 document
// at /bulletins/{id}: the bureau's red header, number and date, the tables, an SVG bar chart of
// % of plan by district, the units named and commended. Drafts have Recompute, Issue, Delete.
import { $, h, clear, say } from './dom.js';
import { t, extend, initLang, name, lang, fmtTime } from './i18n.js';
import { ApiError } from './api.js';
import { api, user, signIn, signOut, wireDialog } from './auth.js';
import { bars } from './chart.js';

extend({
  zh: { 'bul.title': '工作通报', 'bul.new': '生成通报草稿', 'bul.kind': '类型', 'bul.kind.monthly': '月通报', 'bul.kind.weekly': '周通报', 'bul.start': '统计周期起始日',
    'bul.ftitle': '标题（选填）', 'bul.remarks': '备注（选填，印在通报末尾）', 'bul.start.hint': '周通报从星期一开始，月通报从每月 1 日开始；尚未开始的周期不能生成。',
    'bul.create': '生成草稿', 'bul.list': '历期通报', 'bul.status': '状态', 'bul.all': '全部', 'bul.st.issued': '已印发', 'bul.st.draft': '草稿',
    'bul.back': '返回列表', 'bul.print': '打印 / 存为 PDF', 'bul.xlsx': '下载 Excel', 'bul.recompute': '重新计算', 'bul.issue': '印发', 'bul.discard': '删除草稿',
    'bul.none': '还没有通报。', 'bul.number': '期号', 'bul.period': '统计周期', 'bul.doctitle': '标题', 'bul.issued_at': '印发时间', 'bul.open': '查看',
    'bul.unnumbered': '（草稿）', 'bul.header': '“三改”工作通报', 'bul.draftmark': '草稿 · 未印发', 'bul.date': '印发日期：{d}', 'bul.computed': '数据计算于 {d}',
    'bul.nodata': '本期无数据：统计周期内没有投诉派单、到期整改通知或项目进展。',
    'bul.s1': '一、总体情况', 'bul.s2': '二、计划完成情况', 'bul.s3': '三、单位考核排名', 'bul.s4': '四、超期情况', 'bul.s5': '五、物业服务企业（后续管理）', 'bul.s6': '六、通报批评与表扬',
    'bul.lead': '{p}，全市投诉派单 {n} 件，响应率 {r}，解决率 {x}，满意率 {s}；到期整改通知 {d} 件，按期整改率 {o}；超期工单 {ot} 件，超期整改通知 {oo} 件。全市计划综合完成率 {pp}。',
    'bul.through': '（统计截至 {d}）', 'bul.district': '区县', 'bul.composite': '综合完成率', 'bul.rank': '排名', 'bul.chart': '各区计划综合完成率（%）',
    'bul.unit': '单位', 'bul.dispatched': '派单', 'bul.resp': '响应率', 'bul.resol': '解决率', 'bul.satis': '满意率', 'bul.orders': '到期整改', 'bul.ontime': '按期整改率',
    'bul.score': '综合得分', 'bul.verdict': '结论', 'bul.v.criticised': '通报批评', 'bul.v.commended': '通报表扬', 'bul.v.small': '样本不足', 'bul.v.none': '—',
    'bul.ot': '超期工单', 'bul.oo': '超期整改通知', 'bul.nooverdue': '本期无超期。', 'bul.nounits': '本期无单位数据。', 'bul.nopm': '暂无进入后续管理的小区。',
    'bul.pm': '物业服务企业', 'bul.communities': '接管小区', 'bul.received': '设施类投诉',
    'bul.criticised': '通报批评：', 'bul.commended': '通报表扬：', 'bul.nobody': '无', 'bul.below': '低于 {c}% 的指标：{k}',
    'bul.rules': '说明：综合得分为各项比率（响应率、解决率、满意率、按期整改率）中有数据项的平均值；样本（派单数与到期整改数之和）少于 {m} 的单位标注“样本不足”，不参与排名；综合得分低于 {c}% 的予以通报批评，不低于 {a}% 的予以通报表扬。',
    'bul.remarks.h': '备注', 'bul.sha': '数据校验码（SHA-256）：{s}', 'bul.created': '草稿已生成。', 'bul.recomputed': '已按最新数据重新计算。',
    'bul.confirm': '印发后通报内容不可更改，并将通过消息推送发给被通报单位和住建局。确认印发？', 'bul.issued': '已印发：{n}，已推送 {m} 条消息。', 'bul.discarded': '草稿已删除。',
    'bul.readonly': '只有督办和管理员可以生成和印发通报；您可以查看已印发的通报。',
    'bul.k.response_rate': '响应率', 'bul.k.resolution_rate': '解决率', 'bul.k.satisfaction_rate': '满意率', 'bul.k.order_on_time_rate': '按期整改率',
    'bul.nav.board': '督办看板', 'bul.nav.funds': '资金监管', 'bul.year': '年度', 'bul.update': '更新', 'bul.city': '全市', 'bul.issue.yes': '确认印发', 'bul.issue.no': '取消',
    'prog.shantytown': '棚户区改造', 'prog.dangerous_housing': '危旧房改造', 'prog.old_community': '老旧小区改造' },
  en: { 'bul.title': 'Bulletins', 'bul.new': 'New draft bulletin', 'bul.kind': 'Kind', 'bul.kind.monthly': 'Monthly', 'bul.kind.weekly': 'Weekly', 'bul.start': 'Period starts',
    'bul.ftitle': 'Title (optional)', 'bul.remarks': 'Remarks (optional, printed at the end)', 'bul.start.hint': 'A weekly bulletin starts on a Monday, a monthly one on the 1st; a period that has not begun cannot be made.',
    'bul.create': 'Make draft', 'bul.list': 'Bulletins', 'bul.status': 'Status', 'bul.all': 'All', 'bul.st.issued': 'Issued', 'bul.st.draft': 'Draft',
    'bul.back': 'Back to the list', 'bul.print': 'Print / save as PDF', 'bul.xlsx': 'Download Excel', 'bul.recompute': 'Recompute', 'bul.issue': 'Issue', 'bul.discard': 'Delete draft',
    'bul.none': 'No bulletins yet.', 'bul.number': 'Number', 'bul.period': 'Period', 'bul.doctitle': 'Title', 'bul.issued_at': 'Issued', 'bul.open': 'Open',
    'bul.unnumbered': '(draft)', 'bul.header': 'Renovation work bulletin', 'bul.draftmark': 'Draft · not issued', 'bul.date': 'Issued on {d}', 'bul.computed': 'Figures computed {d}',
    'bul.nodata': 'No data this period: no complaints dispatched, no rectification orders due and no project progress.',
    'bul.s1': '1. Overview', 'bul.s2': '2. Progress against plan', 'bul.s3': '3. Units ranked', 'bul.s4': '4. Overdue', 'bul.s5': '5. Property managers (upkeep)', 'bul.s6': '6. Named and commended',
    'bul.lead': '{p}: {n} complaints dispatched city-wide; response rate {r}, resolution rate {x}, satisfaction {s}; {d} rectification orders due, {o} rectified on time; {ot} tickets and {oo} orders overdue. City plan completion (mean) {pp}.',
    'bul.through': ' (data up to {d})', 'bul.district': 'District', 'bul.composite': 'Mean % of plan', 'bul.rank': 'Rank', 'bul.chart': '% of plan by district (mean of programmes)',
    'bul.unit': 'Unit', 'bul.dispatched': 'Dispatched', 'bul.resp': 'Response', 'bul.resol': 'Resolution', 'bul.satis': 'Satisfaction', 'bul.orders': 'Orders due', 'bul.ontime': 'On time',
    'bul.score': 'Score', 'bul.verdict': 'Verdict', 'bul.v.criticised': 'Named', 'bul.v.commended': 'Commended', 'bul.v.small': 'Sample too small', 'bul.v.none': '—',
    'bul.ot': 'Overdue tickets', 'bul.oo': 'Overdue orders', 'bul.nooverdue': 'Nothing overdue.', 'bul.nounits': 'No unit data this period.', 'bul.nopm': 'No community is in upkeep yet.',
    'bul.pm': 'Property manager', 'bul.communities': 'Communities', 'bul.received': 'Facility complaints',
    'bul.criticised': 'Named: ', 'bul.commended': 'Commended: ', 'bul.nobody': 'none', 'bul.below': 'Below {c}%: {k}',
    'bul.rules': 'Notes: the score is the mean of the rates with data (response, resolution, satisfaction, orders on time); units with a sample (dispatches plus orders due) below {m} are marked “sample too small” and not ranked; a score below {c}% is named, {a}% or more commended.',
    'bul.remarks.h': 'Remarks', 'bul.sha': 'Data checksum (SHA-256): {s}', 'bul.created': 'Draft made.', 'bul.recomputed': 'Recomputed from the latest data.',
    'bul.confirm': 'Once issued the bulletin cannot change, and its summary goes to the units named and to the bureau. Issue it?', 'bul.issued': 'Issued as {n}; {m} messages queued.', 'bul.discarded': 'Draft deleted.',
    'bul.readonly': 'Only supervisors and administrators make and issue bulletins; you can read the issued ones.',
    'bul.k.response_rate': 'response', 'bul.k.resolution_rate': 'resolution', 'bul.k.satisfaction_rate': 'satisfaction', 'bul.k.order_on_time_rate': 'orders on time',
    'bul.nav.board': 'Supervision board', 'bul.nav.funds': 'Fund supervision', 'bul.year': 'Year', 'bul.update': 'Update', 'bul.city': 'City', 'bul.issue.yes': 'Issue it', 'bul.issue.no': 'Cancel',
    'prog.shantytown': 'Shantytown renovation', 'prog.dangerous_housing': 'Dangerous housing', 'prog.old_community': 'Old communities' },
});

const PROGRAMMES = ['shantytown', 'dangerous_housing', 'old_community'];
const pct = (v) => (v == null ? '—' : Number(v).toFixed(1) + '%');
const supervises = () => { const u = user(); return !!u && ['admin', 'supervisor'].includes(u.role); };
const err = (e) => say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic'));
const kindLabel = (k) => t('bul.kind.' + k);
const label = (d) => (lang() === 'en' ? d.period.label_en : d.period.label_zh);
const st = { current: null };

function table(id, heads, rows, numFrom = 2) {
  return h('div', { class: 'tablewrap' }, h('table', { id },
    h('thead', null, h('tr', null, ...heads.map((k, i) => h('th', { scope: 'col', class: i >= numFrom ? 'num' : null, text: t(k) })))),
    h('tbody', null, ...rows)));
}

function verdict(s) {
  const key = s.verdict ? s.verdict : s.small_sample ? 'small' : 'none';
  return h('td', { class: s.verdict ? 'verdict-' + s.verdict : null, text: t('bul.v.' + key) });
}

// ---- the list

async function loadList() {
  const q = new URLSearchParams();
  for (const [k, id] of [['kind', '#f-kind'], ['status', '#f-status'], ['year', '#f-year']]) if ($(id).value) q.set(k, $(id).value);
  let r;
  try { r = await api('/api/v1/bulletins?' + q); } catch (e) { err(e); return; }
  const box = clear($('#list'));
  if (!r.items.length) { box.append(h('p', { class: 'meta', text: t('bul.none') })); }
  else {
    box.append(table('bulletin-list', ['bul.number', 'bul.kind', 'bul.period', 'bul.doctitle', 'bul.status', 'bul.issued_at', 'bul.open'], r.items.map((b) => h('tr', { dataset: { id: b.id, status: b.status } },
      h('td', { class: 'nw', text: b.number || t('bul.unnumbered') }), h('td', { text: kindLabel(b.kind) }),
      h('td', { text: (b.summary && (lang() === 'en' ? b.summary.label_en : b.summary.label_zh)) || b.period_start }),
      h('td', { text: b.title }), h('td', null, h('span', { class: 'badge ' + (b.status === 'issued' ? 'ok' : 'warn'), text: t('bul.st.' + b.status) })),
      h('td', { class: 'nw', text: b.issued_at ? fmtTime(new Date(b.issued_at).toISOString()) : '—' }),
      h('td', null, h('a', { href: '/bulletins/' + b.id, text: t('bul.open') })))), 99));
  }
  document.documentElement.dataset.ready = '1';
}

async function create(e) {
  e.preventDefault();
  const btn = $('#b-create');
  btn.disabled = true;
  try {
    const b = await api('/api/v1/bulletins', { json: { kind: $('#b-kind').value, period_start: $('#b-start').value, title: $('#b-title').value || undefined, remarks: $('#b-remarks').value || undefined } });
    history.pushState(null, '', '/bulletins/' + b.id);
    show(b);
    say($('#msg'), 'ok', t('bul.created'));
  } catch (ex) { err(ex); } finally { btn.disabled = false; }
}

// ---- one bulletin

function progressSection(d) {
  const p = d.progress;
  const rows = [...p.districts, p.city].map((x) => h('tr', { class: x.area_id ? null : 'total' }, h('th', { scope: 'row', text: x.area_id ? name(x) : t('bul.city') }),
    ...PROGRAMMES.flatMap((k) => { const m = x.programmes[k] || {}; return [h('td', { class: 'num', text: `${m.done ?? 0} / ${m.planned ?? '—'}` }), h('td', { class: 'num', text: pct(m.percent) })]; }),
    h('td', { class: 'num', text: pct(x.percent) }), h('td', { class: 'num', text: x.rank ?? '—' })));
  const heads = h('tr', null, h('th', { scope: 'col', text: t('bul.district') }), ...PROGRAMMES.map((k) => h('th', { scope: 'col', colspan: '2', class: 'num', text: t('prog.' + k) })),
    h('th', { scope: 'col', class: 'num', text: t('bul.composite') }), h('th', { scope: 'col', class: 'num', text: t('bul.rank') }));
  const items = p.districts.map((x) => ({ label: name(x), value: x.percent }));
  const top = Math.max(100, ...items.map((i) => i.value || 0));
  return [h('h3', { text: t('bul.s2') }),
    h('div', { class: 'tablewrap' }, h('table', { id: 'progress-table' }, h('thead', null, heads), h('tbody', null, ...rows))),
    h('figure', { class: 'chart' }, h('figcaption', { text: t('bul.chart') }), bars(items, { title: t('bul.chart'), max: top, fmt: (v) => v.toFixed(1) + '%' }))];
}

function unitsSection(d) {
  if (!d.units.length) return [h('h3', { text: t('bul.s3') }), h('p', { class: 'meta', text: t('bul.nounits') })];
  return [h('h3', { text: t('bul.s3') }), table('units-table', ['bul.rank', 'bul.unit', 'bul.dispatched', 'bul.resp', 'bul.resol', 'bul.satis', 'bul.orders', 'bul.ontime', 'bul.score', 'bul.verdict'],
    d.units.map((u) => h('tr', { dataset: { unit: u.unit_id } }, h('td', { text: u.standing.rank ?? '—' }), h('td', { text: name(u) }), h('td', { class: 'num', text: u.dispatched }),
      h('td', { class: 'num', text: pct(u.response_rate) }), h('td', { class: 'num', text: pct(u.resolution_rate) }), h('td', { class: 'num', text: pct(u.satisfaction_rate) }),
      h('td', { class: 'num', text: u.orders.due }), h('td', { class: 'num', text: pct(u.orders.on_time_rate) }), h('td', { class: 'num', text: pct(u.standing.score) }), verdict(u.standing))))];
}

function overdueSection(d) {
  const out = [h('h3', { text: t('bul.s4') })];
  if (!d.overdue.length) return [...out, h('p', { class: 'meta', text: t('bul.nooverdue') })];
  return [...out, table('overdue-table', ['bul.unit', 'bul.ot', 'bul.oo'], d.overdue.map((o) => h('tr', null, h('td', { text: name(o) }), h('td', { class: 'num', text: o.overdue_tickets }), h('td', { class: 'num', text: o.overdue_orders }))), 1)];
}

function managersSection(d) {
  const out = [h('h3', { text: t('bul.s5') })];
  if (!d.property_managers.length) return [...out, h('p', { class: 'meta', text: t('bul.nopm') })];
  return [...out, table('pm-table', ['bul.rank', 'bul.pm', 'bul.communities', 'bul.received', 'bul.resp', 'bul.resol', 'bul.satis', 'bul.score', 'bul.verdict'],
    d.property_managers.map((m) => h('tr', null, h('td', { text: m.standing.rank ?? '—' }), h('td', { text: name(m) }), h('td', { text: m.communities.map((c) => c.name_zh).join('、') }),
      h('td', { class: 'num', text: m.received }), h('td', { class: 'num', text: pct(m.response_rate) }), h('td', { class: 'num', text: pct(m.resolution_rate) }),
      h('td', { class: 'num', text: pct(m.satisfaction_rate) }), h('td', { class: 'num', text: pct(m.standing.score) }), verdict(m.standing))), 3)];
}

function namedSection(d) {
  const th = d.thresholds;
  const list = (v, cls) => (v.length ? h('ul', { class: 'named ' + cls }, ...v.map((n) => h('li', null, h('strong', { text: name(n) }), ` ${pct(n.score)}`,
    n.below.length && cls === 'criticised' ? '（' + t('bul.below', { c: th.criticise_below, k: n.below.map((k) => t('bul.k.' + k)).join('、') }) + '）' : ''))) : h('p', { text: t('bul.nobody') }));
  return [h('h3', { text: t('bul.s6') }), h('p', { class: 'verdict-criticised', text: t('bul.criticised') }), list(d.criticised, 'criticised'),
    h('p', { class: 'verdict-commended', text: t('bul.commended') }), list(d.commended, 'commended'),
    h('p', { class: 'meta', text: t('bul.rules', { m: th.min_sample, c: th.criticise_below, a: th.commend_at }) })];
}

function render(b) {
  const d = b.data, paper = clear($('#paper')), tt = d.totals;
  const when = b.issued_at ? fmtTime(new Date(b.issued_at).toISOString()) : null;
  if (b.status !== 'issued') paper.append(h('div', { class: 'draftmark', text: t('bul.draftmark') }));
  paper.append(h('p', { class: 'issuer', text: (lang() === 'en' ? d.issuer_en : d.issuer_zh) + ' ' + t('bul.header') }),
    h('div', { class: 'doc-no' }, h('span', { id: 'doc-number', text: b.number || t('bul.unnumbered') }), h('span', { text: when ? t('bul.date', { d: when }) : t('bul.computed', { d: fmtTime(b.computed_at_local) }) })),
    h('hr', { class: 'redline' }), h('h2', { class: 'doc-title', text: b.title }),
    h('p', { class: 'period', text: label(d) + (d.period.complete ? '' : t('bul.through', { d: d.period.through })) }),
    h('h3', { text: t('bul.s1') }));
  if (!d.has_data) paper.append(h('p', { class: 'nodata', id: 'nodata', text: t('bul.nodata') }));
  else paper.append(h('p', { class: 'lead', text: t('bul.lead', { p: label(d), n: tt.dispatched, r: pct(tt.response_rate), x: pct(tt.resolution_rate), s: pct(tt.satisfaction_rate), d: tt.orders_due, o: pct(tt.order_on_time_rate), ot: tt.overdue_tickets, oo: tt.overdue_orders, pp: pct(tt.plan_percent) }) }));
  paper.append(...progressSection(d), ...unitsSection(d), ...overdueSection(d), ...managersSection(d), ...namedSection(d));
  if (b.remarks) paper.append(h('h3', { text: t('bul.remarks.h') }), h('p', { class: 'lead', text: b.remarks }));
  paper.append(h('p', { class: 'sign', text: lang() === 'en' ? d.issuer_en : d.issuer_zh }), h('p', { class: 'sign', text: when || '' }),
    h('p', { class: 'foot', text: t('bul.computed', { d: fmtTime(b.computed_at_local) }) + ' · ' + t('bul.sha', { s: b.data_sha256 }) }));
  const draft = b.status === 'draft' && supervises();
  for (const id of ['#recompute', '#issue', '#discard']) $(id).hidden = !draft;
}

function show(b) {
  st.current = b;
  $('#confirm-box').hidden = true;
  $('#index').hidden = true; $('#doc').hidden = false;
  document.title = (b.number ? b.number + ' ' : '') + b.title;
  render(b);
  document.documentElement.dataset.ready = '1';
}

async function openBulletin(id) {
  try { show(await api('/api/v1/bulletins/' + encodeURIComponent(id))); } catch (e) { err(e); $('#doc').hidden = false; $('#index').hidden = true; }
}

async function act(path, opts, done) {
  const b = st.current;
  for (const id of ['#recompute', '#issue', '#discard']) $(id).disabled = true;
  try { const r = await api(`/api/v1/bulletins/${b.id}${path}`, opts); done(r); } catch (e) { err(e); }
  finally { for (const id of ['#recompute', '#issue', '#discard']) $(id).disabled = false; }
}

async function download() {
  const b = st.current;
  const sess = JSON.parse(sessionStorage.getItem('anju.session') || 'null');
  const res = await fetch(`/api/v1/bulletins/${b.id}/xlsx`, { headers: { Authorization: 'Bearer ' + (sess && sess.access_token) } });
  if (!res.ok) { say($('#msg'), 'err', t('err.generic')); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: `${b.number || b.kind + '-' + b.period_start}.xlsx` });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function showUser() {
  const u = user();
  $('#who').textContent = u ? (u.display_name || u.username) + ' · ' + t('role.' + u.role) : '';
}

function route() {
  const m = location.pathname.match(/^\/bulletins\/([^/]+)$/) || (location.hash.length > 1 ? [null, location.hash.slice(1)] : null);
  if (m) return openBulletin(decodeURIComponent(m[1]));
  $('#doc').hidden = true; $('#index').hidden = false; st.current = null;
  return loadList();
}

async function start() {
  wireDialog();
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  $('#b-start').value = today.slice(0, 8) + '01';
  initLang($('#lang'), () => { showUser(); if (st.current) render(st.current); else if (!$('#index').hidden) loadList(); });
  $('#logout').addEventListener('click', signOut);
  $('#new-form').addEventListener('submit', create);
  $('#filter').addEventListener('submit', (e) => { e.preventDefault(); loadList(); });
  $('#print').addEventListener('click', () => window.print());
  $('#xlsx').addEventListener('click', download);
  $('#recompute').addEventListener('click', () => act('/recompute', { method: 'POST' }, (r) => { show(r); say($('#msg'), 'ok', t('bul.recomputed')); }));
  // Issuing cannot be undone: the page asks once more in place (no browser dialog).
  $('#issue').addEventListener('click', () => { $('#confirm-box').hidden = false; $('#issue-yes').focus(); });
  $('#issue-no').addEventListener('click', () => { $('#confirm-box').hidden = true; });
  $('#issue-yes').addEventListener('click', () => {
    $('#confirm-box').hidden = true;
    act('/issue', { method: 'POST' }, (r) => { show(r); say($('#msg'), 'ok', t('bul.issued', { n: r.number, m: r.notified.messages })); });
  });
  $('#discard').addEventListener('click', () => act('', { method: 'DELETE' }, () => { history.pushState(null, '', '/bulletins'); route(); say($('#msg'), 'ok', t('bul.discarded')); }));
  $('#back').addEventListener('click', (e) => { e.preventDefault(); history.pushState(null, '', '/bulletins'); route(); });
  window.addEventListener('popstate', route);
  if (!user()) await signIn(false);
  showUser();
  $('#create').hidden = !supervises();
  if (!supervises()) say($('#msg'), 'info', t('bul.readonly'));
  await route();
}
start();
