// Fund supervision /funds (资金监管): every project in the user's scope with its budget,
// received and paid and the supervision flags (idle money, payments ahead of progress); a
// project's ledger (budget and receipts by source, every entry with who recorded it and when)
// with the form to record an entry; the sheet import (dry run names every bad row, then apply)
// and the XLSX export.
import { $, h, clear, say } from './dom.js';
import { t, extend, initLang, lang } from './i18n.js';
import { ApiError } from './api.js';
import { api, user, signIn, signOut, wireDialog } from './auth.js';

extend({
  zh: { 'fnd.title': '资金监管', 'fnd.idle_days': '闲置预警天数', 'fnd.margin': '支付可超进度（百分点）', 'fnd.dl': '导出资金台账 Excel', 'fnd.list': '项目资金',
    'fnd.hint': '金额单位：元。闲置：到位资金超过设定天数未支付（先到位的资金先支付）。超进度：已支付占预算的比例高于项目形象进度。',
    'fnd.ledger': '资金台账', 'fnd.kind': '类型', 'fnd.source': '资金来源', 'fnd.amount': '金额（元）', 'fnd.date': '日期', 'fnd.note': '备注', 'fnd.record': '记录',
    'fnd.k.budget': '预算', 'fnd.k.received': '到位', 'fnd.k.paid': '支付', 'fnd.import': '从 Excel / CSV 导入', 'fnd.import.cols': '列：项目编号、类型（预算/到位/支付）、资金来源、金额(元)、日期、备注',
    'fnd.code': '编号', 'fnd.name': '项目', 'fnd.progress': '形象进度', 'fnd.budget': '预算', 'fnd.received': '到位', 'fnd.paid': '支付', 'fnd.paid_pct': '支付占预算', 'fnd.flags': '预警',
    'fnd.idle': '闲置 {a} 元（自 {s}，{d} 天）', 'fnd.ahead': '支付 {p}% 超进度 {q}%', 'fnd.who': '记录人', 'fnd.when': '记录时间', 'fnd.corr': '更正', 'fnd.open': '台账',
    'fnd.saved': '已记录。', 'fnd.ok': '检查通过：{n} 条记录可导入，{s} 条已存在。', 'fnd.applied': '已导入 {n} 条记录。', 'fnd.bad': '有 {n} 处错误，未导入：', 'fnd.row': '第 {r} 行',
    'fnd.none': '暂无项目。', 'fnd.bysrc': '按来源', 'fnd.total': '合计' },
  en: { 'fnd.title': 'Fund supervision', 'fnd.idle_days': 'Idle after (days)', 'fnd.margin': 'Payments may lead progress by (points)', 'fnd.dl': 'Download ledger (Excel)', 'fnd.list': 'Funds by project',
    'fnd.hint': 'Amounts in yuan. Idle: money received and not paid out for more than the set days (oldest receipts are spent first). Ahead: the paid share of the budget exceeds the project’s physical progress.',
    'fnd.ledger': 'Fund ledger', 'fnd.kind': 'Kind', 'fnd.source': 'Source', 'fnd.amount': 'Amount (yuan)', 'fnd.date': 'Date', 'fnd.note': 'Note', 'fnd.record': 'Record',
    'fnd.k.budget': 'Budget', 'fnd.k.received': 'Received', 'fnd.k.paid': 'Paid', 'fnd.import': 'Import from Excel / CSV', 'fnd.import.cols': 'Columns: 项目编号 (project code), 类型 (预算/到位/支付), 资金来源, 金额(元), 日期, 备注',
    'fnd.code': 'Code', 'fnd.name': 'Project', 'fnd.progress': 'Progress', 'fnd.budget': 'Budget', 'fnd.received': 'Received', 'fnd.paid': 'Paid', 'fnd.paid_pct': 'Paid % of budget', 'fnd.flags': 'Flags',
    'fnd.idle': 'Idle {a} yuan (since {s}, {d} days)', 'fnd.ahead': 'Paid {p}% ahead of progress {q}%', 'fnd.who': 'Recorded by', 'fnd.when': 'Recorded at', 'fnd.corr': 'Corrects', 'fnd.open': 'Ledger',
    'fnd.saved': 'Recorded.', 'fnd.ok': 'Check passed: {n} entries to import, {s} already recorded.', 'fnd.applied': 'Imported {n} entries.', 'fnd.bad': '{n} errors; nothing imported:', 'fnd.row': 'Row {r}',
    'fnd.none': 'No projects.', 'fnd.bysrc': 'By source', 'fnd.total': 'Total' },
});

const st = { list: null, ledger: null, project: null, sources: [] };
const num = (v) => (v == null ? '—' : Number(v).toLocaleString('en-US'));
const th = (k, n) => h('th', { scope: 'col', class: n ? 'num' : null, text: t(k) });
const err = (e) => say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic'));
const srcName = (code) => { const s = st.sources.find((x) => x.source === code); return s ? (lang() === 'en' ? s.label_en : s.label_zh) : (code || ''); };
const thresholds = () => `idle_days=${$('#idle').value}&ahead_margin=${$('#margin').value}`;

function flagText(f) {
  const out = [];
  if (f.idle) out.push(t('fnd.idle', { a: num(f.idle.amount), s: f.idle.since, d: f.idle.days }));
  if (f.ahead_of_progress) out.push(t('fnd.ahead', { p: f.ahead_of_progress.paid_percent, q: f.ahead_of_progress.progress_percent }));
  return out.join('；');
}

async function load() {
  try { st.list = await api(`/api/v1/funds?${thresholds()}`); } catch (e) { err(e); return; }
  st.sources = st.list.sources || [];
  renderList();
  if (st.project) await openLedger(st.project);
}

function renderList() {
  const box = clear($('#list'));
  const items = (st.list && st.list.items) || [];
  if (!items.length) { box.append(h('p', { class: 'meta', text: t('fnd.none') })); return; }
  box.append(h('table', { id: 'funds-list' },
    h('thead', null, h('tr', null, th('fnd.code'), th('fnd.name'), th('fnd.progress', 1), th('fnd.budget', 1), th('fnd.received', 1), th('fnd.paid', 1), th('fnd.paid_pct', 1), th('fnd.flags'), h('th'))),
    h('tbody', null, ...items.map((p) => {
      const b = h('button', { type: 'button', class: 'btn sec', text: t('fnd.open'), dataset: { project: p.project_id } });
      b.addEventListener('click', () => openLedger(p.project_id));
      return h('tr', { class: p.flags.idle || p.flags.ahead_of_progress ? 'flagged' : null, dataset: { project: p.project_id } },
        h('td', { text: p.code || '' }), h('th', { scope: 'row', text: p.name || '' }), h('td', { class: 'num', text: p.progress_percent + '%' }),
        h('td', { class: 'num', text: num(p.totals.budget) }), h('td', { class: 'num', text: num(p.totals.received) }), h('td', { class: 'num', text: num(p.totals.paid) }),
        h('td', { class: 'num', text: p.paid_percent == null ? '—' : p.paid_percent + '%' }), h('td', { class: 'flags', text: flagText(p.flags) }), h('td', null, b));
    }))));
}

async function openLedger(id) {
  st.project = id;
  try { st.ledger = await api(`/api/v1/funds/projects/${id}?${thresholds()}`); } catch (e) { err(e); return; }
  renderLedger();
}

function renderLedger() {
  const l = st.ledger;
  $('#ledger-section').hidden = !l;
  if (!l) return;
  const f = l.funds;
  $('#ledger-h').textContent = t('fnd.ledger') + ' · ' + (f.code || '') + ' ' + (f.name || '');
  const srcs = [...new Set([...Object.keys(f.totals.budget_by_source), ...Object.keys(f.totals.received_by_source)])];
  clear($('#ledger-sum')).append(h('table', { id: 'ledger-sources' },
    h('thead', null, h('tr', null, th('fnd.bysrc'), th('fnd.budget', 1), th('fnd.received', 1))),
    h('tbody', null, ...srcs.map((s) => h('tr', null, h('th', { scope: 'row', text: srcName(s) }), h('td', { class: 'num', text: num(f.totals.budget_by_source[s] || 0) }), h('td', { class: 'num', text: num(f.totals.received_by_source[s] || 0) })))),
    h('tfoot', null, h('tr', null, h('th', { scope: 'row', text: t('fnd.total') + ' · ' + t('fnd.paid') + ' ' + num(f.totals.paid) }), h('td', { class: 'num', text: num(f.totals.budget) }), h('td', { class: 'num', text: num(f.totals.received) })))),
    h('p', { class: 'flags', text: flagText(f.flags) }));
  clear($('#entries')).append(h('table', { id: 'ledger-entries' },
    h('thead', null, h('tr', null, th('fnd.date'), th('fnd.kind'), th('fnd.source'), th('fnd.amount', 1), th('fnd.note'), th('fnd.who'), th('fnd.when'), th('fnd.corr'))),
    h('tbody', null, ...l.entries.map((e) => h('tr', null, h('td', { text: e.entry_date }), h('td', { text: t('fnd.k.' + e.kind) }), h('td', { text: srcName(e.source) }),
      h('td', { class: 'num', text: num(e.amount) }), h('td', { text: e.note }), h('td', { text: e.recorded_by_name }),
      h('td', { text: new Date(e.recorded_at + 8 * 3600e3).toISOString().slice(0, 16).replace('T', ' ') }), h('td', { text: e.corrects ? e.corrects.slice(-8) : '' }))))));
  const sel = $('#e-source');
  if (!sel.options.length) for (const s of st.sources) sel.append(h('option', { value: s.source, text: srcName(s.source) }));
}

async function record(ev) {
  ev.preventDefault();
  const kind = $('#e-kind').value;
  const body = { kind, amount: Number($('#e-amount').value), date: $('#e-date').value, note: $('#e-note').value };
  if (kind !== 'paid') body.source = $('#e-source').value;
  try { await api(`/api/v1/funds/projects/${st.project}/entries`, { json: body }); } catch (e) { err(e); return; }
  $('#e-amount').value = ''; $('#e-note').value = '';
  await load();
  say($('#msg'), 'ok', t('fnd.saved'));
}

function session() { return JSON.parse(sessionStorage.getItem('anju.session') || 'null'); }

async function sendImport(dryRun) {
  const f = $('#import-file').files[0];
  if (!f) return;
  const sess = session();
  const res = await fetch(`/api/v1/funds/import?dry_run=${dryRun}`, { method: 'POST', body: await f.arrayBuffer(),
    headers: { 'Content-Type': 'application/octet-stream', Authorization: 'Bearer ' + (sess && sess.access_token), 'Accept-Language': lang() === 'en' ? 'en' : 'zh-CN' } });
  const body = await res.json().catch(() => ({}));
  const out = clear($('#import-result'));
  if (!res.ok) {
    $('#import-apply').disabled = true;
    const errs = body.errors || [];
    say($('#msg'), 'err', errs.length ? t('fnd.bad', { n: errs.length }) : new ApiError(res.status, body, null).human());
    out.append(h('ul', null, ...errs.map((e) => h('li', { text: t('fnd.row', { r: e.row }) + ' · ' + e.column + '：' + (lang() === 'en' ? e.message_en : e.message_zh) }))));
    return;
  }
  if (dryRun) { $('#import-apply').disabled = false; say($('#msg'), 'ok', t('fnd.ok', { n: body.entries, s: body.skipped })); }
  else { $('#import-apply').disabled = true; await load(); say($('#msg'), 'ok', t('fnd.applied', { n: body.recorded })); }
}

async function download() {
  const sess = session();
  const res = await fetch('/api/v1/funds.xlsx', { headers: { Authorization: 'Bearer ' + (sess && sess.access_token) } });
  if (!res.ok) { say($('#msg'), 'err', t('err.generic')); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: 'funds.xlsx' });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function showUser() {
  const u = user();
  $('#who').textContent = u ? (u.display_name || u.username) + ' · ' + t('role.' + u.role) : '';
}

async function start() {
  wireDialog();
  $('#e-date').value = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  initLang($('#lang'), () => { showUser(); renderList(); renderLedger(); });
  $('#logout').addEventListener('click', signOut);
  $('#thform').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  $('#entry-form').addEventListener('submit', record);
  $('#import-form').addEventListener('submit', (e) => { e.preventDefault(); sendImport(true); });
  $('#import-file').addEventListener('change', () => { $('#import-apply').disabled = true; clear($('#import-result')); });
  $('#import-apply').addEventListener('click', () => sendImport(false));
  $('#dl').addEventListener('click', download);
  if (!user()) await signIn(false);
  showUser();
  await load();
  document.documentElement.dataset.ready = '1';
}
start();
