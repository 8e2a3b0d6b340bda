// Import on /registers (台账导入): choose an XLSX or CSV file, check it (a dry run: every bad row
// in a table — row, column, reason in the page language), then apply it. The server matches rows
// by 项目编号 / 房屋编号 (or 记录编号) and applies them as office changes through sync.
import { $, h, clear, say } from './dom.js';
import { t, extend, lang } from './i18n.js';

extend({
  zh: { 'reg.imp.title': '从 Excel / CSV 导入', 'reg.imp.help': '表头与“导出 Excel”相同；按项目编号/房屋编号（或记录编号）匹配：已有的记录更新，新编号新建，空单元格不修改。先检查，没有错误后再导入。',
    'reg.imp.file': '选择文件（.xlsx 或 .csv）', 'reg.imp.check': '检查（不导入）', 'reg.imp.apply': '导入', 'reg.imp.row': '行', 'reg.imp.col': '列', 'reg.imp.reason': '原因',
    'reg.imp.bad': '有 {n} 处错误，未导入任何数据：', 'reg.imp.more': '（仅列出前 {n} 处）',
    'reg.imp.ok': '检查通过：新建 {c} 条，更新 {u} 条，{s} 条无变化。', 'reg.imp.done': '已导入：新建 {c} 条，更新 {u} 条，{s} 条无变化。设备同步后可见。', 'reg.imp.nofile': '请先选择文件。' },
  en: { 'reg.imp.title': 'Import from Excel / CSV', 'reg.imp.help': 'Headers as in “Download Excel”; rows match by project / building code (or record id): known records are updated, new codes created, empty cells change nothing. Check first, then import when there are no errors.',
    'reg.imp.file': 'Choose a file (.xlsx or .csv)', 'reg.imp.check': 'Check (no import)', 'reg.imp.apply': 'Import', 'reg.imp.row': 'Row', 'reg.imp.col': 'Column', 'reg.imp.reason': 'Reason',
    'reg.imp.bad': '{n} errors; nothing imported:', 'reg.imp.more': '(only the first {n} listed)',
    'reg.imp.ok': 'Check passed: {c} to create, {u} to update, {s} unchanged.', 'reg.imp.done': 'Imported: {c} created, {u} updated, {s} unchanged. Devices get them when they sync.', 'reg.imp.nofile': 'Choose a file first.' },
});

const imp = { last: null, checkedFor: null };

function render() {
  const box = clear($('#import-result'));
  const r = imp.last;
  if (!r) { $('#import-summary').textContent = ''; return; }
  const counts = { c: r.body.created ?? 0, u: r.body.updated ?? 0, s: r.body.unchanged ?? 0 };
  if (r.ok) { $('#import-summary').textContent = t(r.applied ? 'reg.imp.done' : 'reg.imp.ok', counts); return; }
  const list = Array.isArray(r.body.errors) ? r.body.errors : [];
  if (!list.length) {
    $('#import-summary').textContent = (lang() === 'en' ? r.body.message_en || r.body.title : r.body.message_zh || r.body.detail || r.body.title) || t('err.generic');
    return;
  }
  const total = r.body.errors_total ?? list.length;
  $('#import-summary').textContent = t('reg.imp.bad', { n: total }) + (total > list.length ? ' ' + t('reg.imp.more', { n: list.length }) : '');
  box.append(h('table', { id: 'import-errors' },
    h('thead', null, h('tr', null, h('th', { scope: 'col', text: t('reg.imp.row') }), h('th', { scope: 'col', text: t('reg.imp.col') }), h('th', { scope: 'col', text: t('reg.imp.reason') }))),
    h('tbody', null, ...list.map((x) => h('tr', { dataset: { row: String(x.row), column: x.column || '', code: x.code || '' } },
      h('td', { class: 'num', text: String(x.row) }), h('td', { text: x.column || '—' }), h('td', { text: lang() === 'en' ? x.message_en : x.message_zh }))))));
}

async function send(register, dryRun, onApplied) {
  const f = $('#import-file').files[0];
  if (!f) { say($('#msg'), 'err', t('reg.imp.nofile')); return; }
  const sess = JSON.parse(sessionStorage.getItem('anju.session') || 'null');
  let res;
  try {
    res = await fetch(`/api/v1/registers/${register()}/import?dry_run=${dryRun}`, { method: 'POST', body: await f.arrayBuffer(),
      headers: { 'Content-Type': 'application/octet-stream', Authorization: 'Bearer ' + (sess && sess.access_token), 'Accept-Language': lang() === 'en' ? 'en' : 'zh-CN' } });
  } catch { say($('#msg'), 'err', t('err.network')); return; }
  const body = await res.json().catch(() => ({}));
  imp.last = { ok: res.ok, applied: res.ok && !dryRun, body };
  imp.checkedFor = res.ok && dryRun ? f : null;
  $('#import-apply').disabled = !imp.checkedFor;
  say($('#msg'), 'info');
  render();
  if (res.ok && !dryRun) await onApplied();
}

/** Wires the import box of the page: `register()` names the current tab, `onApplied` reloads. */
export function wireImport(register, onApplied) {
  $('#import-form').addEventListener('submit', (e) => { e.preventDefault(); send(register, true, onApplied); });
  $('#import-apply').addEventListener('click', () => send(register, false, onApplied));
  $('#import-file').addEventListener('change', () => { imp.last = null; imp.checkedFor = null; $('#import-apply').disabled = true; render(); });
  $('#lang').addEventListener('click', () => setTimeout(render, 0));
}

/** Forgets the last check (another tab was chosen). */
export function resetImport() {
  imp.last = null; imp.checkedFor = null;
  if ($('#import-apply')) $('#import-apply').disabled = true;
  if ($('#import-result')) render();
}
