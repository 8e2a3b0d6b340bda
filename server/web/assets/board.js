// Supervisor board /board: overdue and escalated tickets, extension requests, the three rates
// per unit (ranked table + SVG charts + weekly trend), complaints by category and community,
// and sync conflicts waiting for review.
import { $, h, clear, say } from './dom.js';
import { t, extend, initLang, name, fmtTime, lang } from './i18n.js';
import { request, ApiError, items } from './api.js';
import { api, user, signIn, signOut, wireDialog } from './auth.js';
import { bars, lines } from './chart.js';
import { mountMap } from './map.js';

extend({
  zh: { 'brd.title': '督办看板', 'brd.from': '开始日期', 'brd.to': '结束日期', 'brd.rankby': '排名依据', 'brd.update': '更新',
    'brd.response': '响应率', 'brd.resolution': '解决率', 'brd.satisfaction': '满意率', 'brd.overdue': '超期与督办工单', 'brd.ext': '待审批的延期申请',
    'brd.rates': '各单位“三率”排名', 'brd.bycat': '按类别', 'brd.bycom': '按社区（前 15）', 'brd.conflicts': '待复核的同步冲突',
    'brd.rates.hint': '响应率 = 在响应时限内签收 ÷ 派单；解决率 = 确认解决 ÷ 有居民答复的关闭；满意率 = 4–5 星 ÷ 评价数。样本过少的单位不参与排名。',
    'brd.col.rank': '名次', 'brd.col.unit': '单位', 'brd.col.dispatched': '派单', 'brd.col.overdue': '超期', 'brd.col.returns': '退单', 'brd.col.ext': '延期', 'brd.col.median': '办结中位用时（小时）', 'brd.col.proof': '照片核验率',
    'brd.small': '样本不足', 'brd.none': '无', 'brd.nodata': '所选时段没有数据。', 'brd.trend': '每周趋势（全市）',
    'brd.approve': '批准', 'brd.refuse': '不批准', 'brd.refuse.reason': '不批准的原因', 'brd.ext.from': '原时限', 'brd.ext.to': '申请延至', 'brd.ext.done': '已处理延期申请。',
    'brd.conf.off': '无（同步冲突接口尚未启用）', 'brd.count': '{n} 件', 'brd.forbidden': '此页面仅供督办和管理员使用。', 'brd.col.due': '时限',
    'brd.orders': '超期未整改的整改通知', 'brd.orders.n': '{n} 件', 'brd.orders.oldest': '最久已超期 {d} 天', 'brd.orders.link': '查看隐患台账', 'brd.col.orders': '超期整改通知' },
  en: { 'brd.title': 'Supervision board', 'brd.from': 'From', 'brd.to': 'To', 'brd.rankby': 'Rank by', 'brd.update': 'Update',
    'brd.response': 'Response rate', 'brd.resolution': 'Resolution rate', 'brd.satisfaction': 'Satisfaction rate', 'brd.overdue': 'Overdue and escalated tickets', 'brd.ext': 'Extension requests to decide',
    'brd.rates': 'Units ranked by the three rates', 'brd.bycat': 'By category', 'brd.bycom': 'By community (top 15)', 'brd.conflicts': 'Sync conflicts to review',
    'brd.rates.hint': 'Response rate = accepted within the response deadline ÷ dispatched; resolution rate = confirmed solved ÷ closed with a resident answer; satisfaction = 4–5 star ratings ÷ ratings. Units with too small a sample are not ranked.',
    'brd.col.rank': 'Rank', 'brd.col.unit': 'Unit', 'brd.col.dispatched': 'Dispatched', 'brd.col.overdue': 'Overdue', 'brd.col.returns': 'Returns', 'brd.col.ext': 'Extensions', 'brd.col.median': 'Median hours to resolve', 'brd.col.proof': 'Verified proof photos',
    'brd.small': 'sample too small', 'brd.none': 'None', 'brd.nodata': 'No data for this period.', 'brd.trend': 'Weekly trend (whole city)',
    'brd.approve': 'Approve', 'brd.refuse': 'Refuse', 'brd.refuse.reason': 'Reason for refusing', 'brd.ext.from': 'Current deadline', 'brd.ext.to': 'Requested', 'brd.ext.done': 'Extension request decided.',
    'brd.conf.off': 'None (the sync conflicts endpoint is not enabled)', 'brd.count': '{n}', 'brd.forbidden': 'This page is for supervisors and administrators.', 'brd.col.due': 'Due',
    'brd.orders': 'Overdue rectification orders', 'brd.orders.n': '{n}', 'brd.orders.oldest': 'the oldest {d} days past its deadline', 'brd.orders.link': 'Open the hazard register', 'brd.col.orders': 'Overdue orders' },
});

const RATES = [['response_rate', 'brd.response'], ['resolution_rate', 'brd.resolution'], ['satisfaction_rate', 'brd.satisfaction']];
const COLORS = ['#0b5cad', '#1b6e2e', '#a4001d'];
const st = { stats: [], weeks: [], summary: null, cats: [], ext: [] };
const pct = (v) => (v == null || !isFinite(v) ? '—' : (Math.round(rate(v) * 1000) / 10) + '%');
const rate = (v) => (v == null ? null : v > 1 ? v / 100 : v);
const ymd = (d) => d.toISOString().slice(0, 10);

function period() { return { from: $('#from').value, to: $('#to').value }; }

async function loadRates() {
  const { from, to } = period();
  st.stats = items(await api(`/api/v1/stats/units?from=${from}&to=${to}`));
  renderRates();
  // weekly trend: up to 12 seven-day slices ending at `to`
  const end = new Date(to + 'T00:00:00Z'), start = new Date(from + 'T00:00:00Z');
  const slices = [];
  for (let e = end; e >= start && slices.length < 12; e = new Date(e - 7 * 864e5)) {
    const s = new Date(Math.max(start, e - 6 * 864e5));
    slices.unshift([ymd(s), ymd(e)]);
  }
  st.weeks = await Promise.all(slices.map(([f, tt]) => api(`/api/v1/stats/units?from=${f}&to=${tt}`).then((r) => ({ f, tt, rows: items(r) }), () => ({ f, tt, rows: [] }))));
  renderTrend();
}

function ranked() {
  const key = $('#rank').value;
  return [...st.stats].sort((a, b) => {
    if (!!a.small_sample !== !!b.small_sample) return a.small_sample ? 1 : -1;
    const va = rate(a[key]), vb = rate(b[key]);
    if (va == null && vb == null) return 0; if (va == null) return 1; if (vb == null) return -1;
    return vb - va;
  });
}

function renderRates() {
  const box = clear($('#rates'));
  if (!st.stats.length) { box.append(h('p', { class: 'meta', text: t('brd.nodata') })); }
  else {
    let rank = 0;
    const tbl = h('table', { id: 'rates-table' },
      h('caption', { class: 'sr', text: t('brd.rates') }),
      h('thead', null, h('tr', null, ...['brd.col.rank', 'brd.col.unit', 'brd.col.dispatched', 'brd.response', 'brd.resolution', 'brd.satisfaction', 'brd.col.overdue', 'brd.col.orders', 'brd.col.returns', 'brd.col.ext', 'brd.col.median', 'brd.col.proof']
        .map((k, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : null, text: t(k) })))),
      h('tbody', null, ...ranked().map((u) => h('tr', { dataset: { unitId: String(u.unit_id) } },
        h('td', { text: u.small_sample ? '—' : String(++rank) }),
        h('td', null, name(u), u.small_sample ? h('span', null, ' ', h('span', { class: 'badge warn', text: t('brd.small') })) : null),
        h('td', { class: 'num', dataset: { k: 'dispatched' }, text: String(u.dispatched ?? 0) }),
        ...RATES.map(([k]) => h('td', { class: 'num', dataset: { k, v: String(u[k] ?? '') }, text: pct(u[k]) })),
        h('td', { class: 'num', text: String(u.overdue ?? 0) }),
        h('td', { class: 'num', dataset: { k: 'orders_overdue' } }, u.orders_overdue ? h('span', { class: 'badge bad', title: t('brd.orders.oldest', { d: u.orders_overdue_oldest_days ?? 0 }), text: String(u.orders_overdue) }) : '0'),
        h('td', { class: 'num', text: String(u.returns ?? 0) }),
        h('td', { class: 'num', text: String(u.extensions ?? 0) }),
        h('td', { class: 'num', text: u.median_hours_to_resolve == null ? '—' : String(Math.round(u.median_hours_to_resolve * 10) / 10) }),
        // The share of checked proof photos that were verified (已核验), with how many were checked.
        h('td', { class: 'num', dataset: { k: 'proof_verified_rate' }, text: u.proofs_checked ? pct(u.proof_verified_rate) + ' (' + u.proofs_checked + ')' : '—' })))));
    box.append(tbl);
  }
  RATES.forEach(([k, label], i) => {
    const fig = clear($('#chart-' + k.split('_')[0]));
    const list = [...st.stats].sort((a, b) => (rate(b[k]) ?? -1) - (rate(a[k]) ?? -1));
    fig.append(h('figcaption', { text: t(label) }),
      bars(list.map((u) => ({ label: name(u), value: rate(u[k]), note: u.small_sample ? '*' : '' })), { title: t(label), max: 1, fmt: pct, lowBelow: 0.6 }));
  });
}

function renderTrend() {
  const fig = clear($('#chart-trend'));
  const sum = (rows, k) => rows.reduce((n, r) => n + (Number(r[k]) || 0), 0);
  const ratio = (a, b) => (b > 0 ? a / b : null);
  const series = [
    { name: t('brd.response'), color: COLORS[0], values: st.weeks.map((w) => ratio(sum(w.rows, 'accepted_in_time'), sum(w.rows, 'dispatched'))) },
    { name: t('brd.resolution'), color: COLORS[1], values: st.weeks.map((w) => ratio(sum(w.rows, 'confirmed_solved'), sum(w.rows, 'closed_answered'))) },
    { name: t('brd.satisfaction'), color: COLORS[2], values: st.weeks.map((w) => ratio(sum(w.rows, 'satisfied'), sum(w.rows, 'ratings'))) },
  ];
  fig.append(h('figcaption', { text: t('brd.trend') }), lines(series, st.weeks.map((w) => w.f.slice(5)), { title: t('brd.trend') }));
}

function ticketTable(list) {
  if (!list.length) return h('p', { class: 'meta', text: t('brd.none') });
  return h('div', { class: 'tablewrap' }, h('table', null,
    h('thead', null, h('tr', null, ...['con.col.no', 'trk.unit', 'con.col.what', 'brd.col.due', 'con.col.status'].map((k) => h('th', { scope: 'col', text: t(k) })))),
    h('tbody', null, ...list.map((tk) => h('tr', null,
      h('td', null, h('a', { href: '/console#t=' + encodeURIComponent(tk.id), text: tk.ticket_no || tk.id })),
      h('td', { text: tk.unit ? name(tk.unit) : '—' }),
      h('td', { text: [...String(tk.description || tk.summary || '')].slice(0, 40).join('') }),
      h('td', { text: fmtTime(['dispatching', 'dispatched'].includes(tk.status) ? tk.response_due : tk.resolution_due) }),
      h('td', null, h('span', { class: 'badge ' + (tk.status === 'escalated' ? 'bad' : 'warn'), text: t('status.' + tk.status) })))))));
}

async function loadOverdue() {
  const [a, b] = await Promise.all([
    api('/api/v1/tickets?queue=all&overdue=true&limit=200').then(items, () => []),
    api('/api/v1/tickets?queue=all&status=escalated&limit=200').then(items, () => []),
  ]);
  const seen = new Set(), list = [];
  for (const tk of [...b, ...a]) if (!seen.has(tk.id)) { seen.add(tk.id); list.push(tk); }
  st.overdue = list;
  renderOverdue();
}
function renderOverdue() {
  clear($('#overdue')).append(ticketTable((st.overdue || []).filter((tk) => inMapArea(tk.area && tk.area.id))));
}

async function loadExtensions() {
  try { st.ext = items(await api('/api/v1/extensions?status=pending')); } catch (e) { say($('#ext'), 'err', e instanceof ApiError ? e.human() : t('err.generic')); return; }
  renderExtensions();
}
function renderExtensions() {
  const box = clear($('#ext'));
  box.className = '';
  if (!st.ext.length) { box.append(h('p', { class: 'meta', text: t('brd.none') })); return; }
  const ul = h('ul', { class: 'list' });
  st.ext.forEach((x, i) => {
    const msg = h('div', { class: 'msg', role: 'alert' });
    const reason = h('input', { type: 'text', id: 'refuse-' + i, maxlength: '500' });
    const decide = async (verb) => {
      const body = verb === 'refuse' && reason.value.trim() ? { reason: reason.value.trim() } : {};
      try {
        await api(`/api/v1/extensions/${encodeURIComponent(x.id)}/${verb}`, { json: body });
        say($('#msg'), 'ok', t('brd.ext.done'));
        loadExtensions(); loadRates().catch(() => {});
      } catch (e) { say(msg, 'err', e instanceof ApiError ? e.human() : t('err.generic')); }
    };
    const no = x.ticket_no || (x.ticket && x.ticket.ticket_no) || x.ticket_id;
    ul.append(h('li', { dataset: { id: String(x.id) } },
      h('p', null, h('a', { href: '/console#t=' + encodeURIComponent(x.ticket_id || (x.ticket && x.ticket.id) || ''), text: no }),
        ' · ', x.unit ? name(x.unit) : (x.unit_name || '')),
      h('p', { text: x.reason || '' }),
      h('p', { class: 'meta', text: t('brd.ext.from') + ' ' + fmtTime(x.current_due || x.old_due) + ' → ' + t('brd.ext.to') + ' ' + fmtTime(x.requested_due || x.resolution_due || x.new_due) }),
      h('label', { for: 'refuse-' + i, text: t('brd.refuse.reason') }), reason,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn', text: t('brd.approve'), onclick: () => decide('approve') }),
        h('button', { type: 'button', class: 'btn sec', text: t('brd.refuse'), onclick: () => decide('refuse') })),
      msg));
  });
  box.append(ul);
}

// Counts come from the server (every ticket of the period), never from a capped list here.
async function loadBreakdown() {
  const { from, to } = period();
  st.summary = await api(`/api/v1/stats/summary?from=${from}&to=${to}`);
  renderBreakdown();
}
// Rectification orders overdue now (整改通知超期未整改), counted by the server for the whole city.
function renderOrders() {
  const s = st.summary || {};
  const n = Number(s.orders_overdue) || 0;
  const box = clear($('#orders-overdue'));
  box.dataset.n = String(n);
  box.append(h('p', null, h('strong', { class: n ? 'badge bad' : 'badge', text: t('brd.orders.n', { n }) })),
    n ? h('p', { class: 'meta', text: t('brd.orders.oldest', { d: s.orders_overdue_oldest_days ?? 0 }) }) : null,
    h('p', null, h('a', { href: '/registers', text: t('brd.orders.link') })));
}
function renderBreakdown() {
  renderOrders();
  const s = st.summary || {};
  const pairs = (list) => (list || []).filter((r) => r.received > 0).map((r) => [name(r) || r.id, r.received]);
  const cat = pairs(s.by_category);
  const com = pairs((s.by_community || []).filter((r) => r.id && inMapArea(r.id))).slice(0, 15);
  for (const [id, rows, label] of [['#bycat', cat, 'brd.bycat'], ['#bycom', com, 'brd.bycom']]) {
    const fig = clear($(id));
    fig.dataset.total = String(rows.reduce((n, r) => n + r[1], 0));
    if (!rows.length) { fig.append(h('p', { class: 'meta', text: t('brd.nodata') })); continue; }
    const max = Math.max(...rows.map((r) => r[1]));
    fig.append(bars(rows.map(([k, v]) => ({ label: k, value: v })), { title: t(label), max, fmt: (v) => String(v) }));
  }
}

async function loadConflicts() {
  const box = clear($('#conflicts'));
  let list;
  try { list = items(await api('/api/v1/sync/conflicts')); }
  catch (e) { box.append(h('p', { class: 'meta', text: e instanceof ApiError && e.status === 404 ? t('brd.conf.off') : t('brd.none') })); return; }
  if (!list.length) { box.append(h('p', { class: 'meta', text: t('brd.none') })); return; }
  box.append(h('ul', { class: 'list' }, ...list.map((c) => h('li', null,
    h('p', null, h('strong', { text: [c.record_type, c.record_id].filter(Boolean).join(' #') }), ' ', c.field ? h('code', { text: c.field }) : null),
    h('p', { class: 'meta', text: fmtTime(c.created_at) + (c.device_author ? ' · ' + c.device_author : '') }),
    h('p', { text: JSON.stringify({ winner: c.winner, server: c.server_value, device: c.device_value }) })))));
}

async function refreshAll() {
  say($('#msg'), 'info');
  const jobs = [loadRates(), loadOverdue(), loadExtensions(), loadBreakdown(), loadConflicts()];
  const res = await Promise.allSettled(jobs);
  const bad = res.find((r) => r.status === 'rejected');
  if (bad) say($('#msg'), 'err', bad.reason instanceof ApiError ? bad.reason.human() : t('err.generic'));
  document.documentElement.dataset.ready = '1';
}

function showUser() {
  const u = user();
  $('#who').textContent = u ? (u.display_name || u.username) + ' · ' + t('role.' + u.role) : '';
  if (u && !['supervisor', 'admin'].includes(u.role)) say($('#msg'), 'warn', t('brd.forbidden'));
}

async function start() {
  wireDialog();
  const to = new Date(Date.now() + 8 * 3600e3), from = new Date(to - 29 * 864e5);
  $('#to').value = ymd(to); $('#from').value = ymd(from);
  initLang($('#lang'), () => { showUser(); renderRates(); renderTrend(); renderExtensions(); renderBreakdown(); renderOverdue(); if (map) map.relabel(); });
  $('#period').addEventListener('submit', (e) => { e.preventDefault(); refreshAll(); });
  $('#rank').addEventListener('change', renderRates);
  $('#logout').addEventListener('click', signOut);
  try { st.cats = await request('/api/v1/categories'); } catch { st.cats = []; }
  if (!user()) await signIn(false);
  showUser();
  try { for (const a of await request('/api/v1/areas')) areaParent.set(a.id, a.parent_id); } catch { /* the filter then matches exact areas only */ }
  map = mountMap($('#map-box'), { fetch: api, onSelect: (a) => { st.area = a ? a.area_id : null; renderOverdue(); renderBreakdown(); } });
  await Promise.all([refreshAll(), map.reload()]);
}

// The map: a clicked area narrows the overdue list and the by-community chart to the tickets
// filed in it (or in an area below it); clicking it again shows the whole city.
let map = null;
const areaParent = new Map();
function inMapArea(id) {
  if (!st.area) return true;
  for (let cur = id, i = 0; cur && i < 10; cur = areaParent.get(cur), i++) if (cur === st.area) return true;
  return false;
}
start();
