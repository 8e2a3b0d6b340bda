// Registers /registers (改造台账): one tab per record type, filters, sorting and paging done by the
// server, XLSX/CSV downloads, a record page (every field, links, history, open conflicts with a
// button per value) and office create/edit, which the server pushes through sync like a device.
import { $, $$, h, clear, say } from './dom.js';
import { t, extend, initLang, name, lang } from './i18n.js';
import { ApiError } from './api.js';
import { api, user, signIn, signOut, wireDialog } from './auth.js';
import { wireImport, resetImport } from './registers_import.js';

extend({
  zh: { 'reg.title': '改造台账', 'reg.tabs': '台账', 'reg.f.district': '区县', 'reg.f.street': '街道', 'reg.f.community': '社区', 'reg.f.unit': '责任单位',
    'reg.f.programme': '改造类型', 'reg.f.status': '状态', 'reg.f.grade': '安全等级', 'reg.f.severity': '严重程度', 'reg.f.from': '起始日期', 'reg.f.to': '截止日期',
    'reg.f.q': '搜索', 'reg.f.q.ph': '名称、地址、描述…', 'reg.f.overdue': '只看超期', 'reg.search': '查询', 'reg.reset': '重置', 'reg.new': '新建',
    'reg.xlsx': '导出 Excel', 'reg.csv': '导出 CSV', 'reg.prev': '上一页', 'reg.next': '下一页', 'reg.back': '← 返回列表', 'reg.fields': '全部字段',
    'reg.edit': '修改', 'reg.conflicts': '待处理的冲突', 'reg.links': '关联记录', 'reg.history': '修改历史', 'reg.all': '全部',
    'reg.count': '共 {n} 条', 'reg.page': '第 {p} / {n} 页', 'reg.none': '没有符合条件的记录。', 'reg.overdue': '超期', 'reg.area': '所属区域',
    'reg.save': '保存', 'reg.saved': '已保存，设备同步后可见。', 'reg.conflict.saved': '已保存；有字段与他人的修改冲突，见“待处理的冲突”。',
    'reg.created': '已新建。', 'reg.noconf': '无', 'reg.nolinks': '无', 'reg.server': '服务器上的值', 'reg.device': '设备提交的值', 'reg.keep': '采用此值',
    'reg.resolved': '冲突已处理。', 'reg.src.device': '设备', 'reg.src.office': '办公室', 'reg.src.system': '系统', 'reg.src.review': '冲突复核',
    'reg.created.v': '新建', 'reg.parent': '上级', 'reg.child': '下级', 'reg.updated': '更新时间', 'reg.sort': '按此列排序' },
  en: { 'reg.title': 'Renovation registers', 'reg.tabs': 'Registers', 'reg.f.district': 'District', 'reg.f.street': 'Street', 'reg.f.community': 'Community', 'reg.f.unit': 'Responsible unit',
    'reg.f.programme': 'Programme', 'reg.f.status': 'Status', 'reg.f.grade': 'Safety grade', 'reg.f.severity': 'Severity', 'reg.f.from': 'From', 'reg.f.to': 'To',
    'reg.f.q': 'Search', 'reg.f.q.ph': 'Name, address, description…', 'reg.f.overdue': 'Overdue only', 'reg.search': 'Search', 'reg.reset': 'Reset', 'reg.new': 'New',
    'reg.xlsx': 'Download Excel', 'reg.csv': 'Download CSV', 'reg.prev': 'Previous', 'reg.next': 'Next', 'reg.back': '← Back to the list', 'reg.fields': 'All fields',
    'reg.edit': 'Edit', 'reg.conflicts': 'Open conflicts', 'reg.links': 'Linked records', 'reg.history': 'History', 'reg.all': 'All',
    'reg.count': '{n} records', 'reg.page': 'Page {p} of {n}', 'reg.none': 'No records match.', 'reg.overdue': 'Overdue', 'reg.area': 'Area',
    'reg.save': 'Save', 'reg.saved': 'Saved; devices get it when they sync.', 'reg.conflict.saved': 'Saved; a field conflicts with someone else’s edit, see “Open conflicts”.',
    'reg.created': 'Created.', 'reg.noconf': 'None', 'reg.nolinks': 'None', 'reg.server': 'Server value', 'reg.device': 'Device value', 'reg.keep': 'Keep this value',
    'reg.resolved': 'Conflict resolved.', 'reg.src.device': 'Device', 'reg.src.office': 'Office', 'reg.src.system': 'System', 'reg.src.review': 'Conflict review',
    'reg.created.v': 'Created', 'reg.parent': 'Parent', 'reg.child': 'Child', 'reg.updated': 'Updated', 'reg.sort': 'Sort by this column' },
});

// Enum values people read (the schemas carry the wire values).
const VALUES = {
  zh: { shantytown: '棚户区改造', dangerous_housing: '危旧房改造', old_community: '老旧小区改造', planned: '计划', in_progress: '在建', completed: '完工',
    open: '待整改', rectified: '已整改', verified: '已复核', low: '低', medium: '中', high: '高', critical: '严重', flat: '套', household: '户',
    brick_concrete: '砖混', brick_wood: '砖木', reinforced_concrete: '钢筋混凝土', masonry: '砌体', wood: '木', steel: '钢', other: '其他',
    repair_reinforce: '维修加固', shantytown_plan: '纳入棚改', gradual_renovation: '逐步改造', true: '是', false: '否' },
  en: { shantytown: 'Shantytown', dangerous_housing: 'Dangerous housing', old_community: 'Old community', planned: 'Planned', in_progress: 'In progress', completed: 'Completed',
    open: 'Open', rectified: 'Rectified', verified: 'Verified', low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical', flat: 'flats', household: 'households',
    brick_concrete: 'Brick-concrete', brick_wood: 'Brick-wood', reinforced_concrete: 'Reinforced concrete', masonry: 'Masonry', wood: 'Wood', steel: 'Steel', other: 'Other',
    repair_reinforce: 'Repair and reinforce', shantytown_plan: 'Shantytown plan', gradual_renovation: 'Gradual renovation', true: 'Yes', false: 'No' },
};
const val = (v) => (v == null ? '—' : (VALUES[lang() === 'en' ? 'en' : 'zh'][String(v)] ?? String(v)));

// The columns of each register's table (beyond the area).
const COLUMNS = {
  project: ['name', 'programme', 'status', 'planned_units', 'completed_units', 'actual_start', 'progress_percent'],
  building: ['address', 'safety_grade', 'structure', 'year_built', 'floors', 'households', 'disposition'],
  inspection: ['inspected_at', 'inspector', 'grade', 'findings'],
  hazard: ['description', 'severity', 'status', 'order_no', 'deadline'],
};

const st = { cat: null, reg: 'project', page: 1, sort: null, order: null, total: 0, per: 20, record: null };
const schemaOf = (reg) => (st.cat.registers.find((r) => r.name === reg) || {}).schema || { fields: [] };
const label = (reg, field) => { const f = schemaOf(reg).fields.find((x) => x.name === field); return f ? (lang() === 'en' ? field.replace(/_/g, ' ') : f.label_zh) : field; };
const regLabel = (r) => (lang() === 'en' ? r.label_en : r.label_zh);
const areaById = (id) => st.cat.areas.find((a) => a.id === id);
const unitById = (id) => st.cat.units.find((u) => u.id === id);

function options(sel, list, keep) {
  const cur = keep ? sel.value : '';
  clear(sel).append(h('option', { value: '', text: t('reg.all') }), ...list.map(([v, text]) => h('option', { value: v, text })));
  sel.value = list.some(([v]) => v === cur) ? cur : '';
}

function fillAreaFilters(keep) {
  const kids = (parent, kind) => st.cat.areas.filter((a) => a.kind === kind && (!parent || a.parent_id === parent)).map((a) => [a.id, name(a)]);
  options($('#f-district'), kids(null, 'district'), keep);
  options($('#f-street'), kids($('#f-district').value || null, 'street'), keep);
  options($('#f-community'), kids($('#f-street').value || null, 'community'), keep);
}

function fillFilters(keep) {
  fillAreaFilters(keep);
  options($('#f-unit'), st.cat.units.map((u) => [u.id, name(u)]), keep);
  const enumOf = (reg, field) => { const f = schemaOf(reg).fields.find((x) => x.name === field); return f && f.kind && f.kind.enum ? f.kind.enum : []; };
  options($('#f-programme'), enumOf('project', 'programme').map((v) => [v, val(v)]), keep);
  options($('#f-status'), enumOf(st.reg === 'hazard' ? 'hazard' : 'project', 'status').map((v) => [v, val(v)]), keep);
  options($('#f-grade'), ['A', 'B', 'C', 'D'].map((v) => [v, v]), keep);
  options($('#f-severity'), enumOf('hazard', 'severity').map((v) => [v, val(v)]), keep);
  for (const el of $$('[data-for]')) el.hidden = !el.dataset.for.split(' ').includes(st.reg);
}

function renderTabs() {
  const box = clear($('#tabs'));
  for (const r of st.cat.registers) {
    box.append(h('button', { type: 'button', class: 'btn sec', 'aria-pressed': String(r.name === st.reg), dataset: { reg: r.name }, text: regLabel(r),
      onclick: () => { st.reg = r.name; st.page = 1; st.sort = null; st.order = null; renderTabs(); fillFilters(false); resetImport(); load(); } }));
  }
}

function query() {
  const p = new URLSearchParams();
  const area = $('#f-community').value || $('#f-street').value || $('#f-district').value;
  const add = (k, v) => { if (v) p.set(k, v); };
  add('area', area); add('unit', $('#f-unit').value); add('q', $('#f-q').value.trim());
  const visible = (id) => !$(id).closest('[data-for]') || !$(id).closest('[data-for]').hidden;
  if (visible('#f-programme')) add('programme', $('#f-programme').value);
  if (visible('#f-status')) add('status', $('#f-status').value);
  if (visible('#f-grade')) add('grade', $('#f-grade').value);
  if (visible('#f-severity')) add('severity', $('#f-severity').value);
  if (visible('#f-from')) { add('from', $('#f-from').value); add('to', $('#f-to').value); }
  if (visible('#f-overdue') && $('#f-overdue').checked) p.set('overdue', 'true');
  if (st.sort) { p.set('sort', st.sort); p.set('order', st.order || 'asc'); }
  return p;
}

async function load() {
  say($('#msg'), 'info');
  const p = query(); p.set('page', String(st.page)); p.set('per_page', String(st.per));
  let r;
  try { r = await api(`/api/v1/registers/${st.reg}?${p}`); } catch (e) { say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic')); return; }
  st.total = r.total;
  renderTable(r.items);
  document.documentElement.dataset.ready = '1';
}

function cell(field, v) {
  if (field === 'inspected_at' && v) return String(v).slice(0, 16).replace('T', ' ');
  if (typeof v === 'boolean' || (typeof v === 'string' && VALUES.zh[v])) return val(v);
  return v == null ? '—' : String(v);
}

function renderTable(rows) {
  const cols = COLUMNS[st.reg];
  $('#count').textContent = t('reg.count', { n: st.total });
  const pages = Math.max(1, Math.ceil(st.total / st.per));
  $('#pageno').textContent = t('reg.page', { p: st.page, n: pages });
  $('#prev').disabled = st.page <= 1; $('#next').disabled = st.page >= pages;
  const box = clear($('#table'));
  if (!rows.length) { box.append(h('p', { class: 'meta', text: t('reg.none') })); return; }
  const sortBtn = (field, text) => h('button', { type: 'button', class: 'linkish', title: t('reg.sort'), dataset: { sort: field },
    onclick: () => { st.order = st.sort === field && st.order === 'asc' ? 'desc' : 'asc'; st.sort = field; st.page = 1; load(); } },
  text + (st.sort === field ? (st.order === 'desc' ? ' ▼' : ' ▲') : ''));
  box.append(h('table', { id: 'reg-table', dataset: { reg: st.reg } },
    h('caption', { class: 'sr', text: t('reg.title') }),
    h('thead', null, h('tr', null, ...cols.map((c) => h('th', { scope: 'col', 'aria-sort': st.sort === c ? (st.order === 'desc' ? 'descending' : 'ascending') : null }, sortBtn(c, label(st.reg, c)))),
      h('th', { scope: 'col', text: t('reg.area') }))),
    h('tbody', null, ...rows.map((r) => h('tr', { dataset: { id: r.id } },
      ...cols.map((c, i) => h('td', { class: typeof r.fields[c] === 'number' ? 'num' : null },
        i === 0 ? h('a', { href: `#/${st.reg}/${r.id}`, text: cell(c, r.fields[c]) }) : cell(c, r.fields[c]),
        i === 0 && r.overdue ? h('span', null, ' ', h('span', { class: 'badge bad', text: t('reg.overdue') })) : null)),
      h('td', { text: r.area ? [name(r.area.street), name(r.area.community)].filter(Boolean).join(' · ') : '—' }))))));
}

async function download(ext) {
  const sess = JSON.parse(sessionStorage.getItem('anju.session') || 'null');
  const res = await fetch(`/api/v1/registers/${st.reg}.${ext}?${query()}`, { headers: { Authorization: 'Bearer ' + (sess && sess.access_token) } });
  if (!res.ok) { say($('#msg'), 'err', t('err.generic')); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: `${st.reg}.${ext}` });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- record page ----

function input(reg, f, value) {
  const id = 'e-' + f.name, k = f.kind || {};
  let el;
  if (k.enum) el = h('select', { id }, h('option', { value: '', text: '—' }), ...k.enum.map((v) => h('option', { value: v, text: val(v) })));
  else if (f.name === 'area_id') el = h('select', { id }, h('option', { value: '', text: '—' }), ...st.cat.areas.filter((a) => a.kind === 'community').map((a) => h('option', { value: a.id, text: name(a) })));
  else if (f.name === 'unit_id') el = h('select', { id }, h('option', { value: '', text: '—' }), ...st.cat.units.map((u) => h('option', { value: u.id, text: name(u) })));
  else if (k.integer || k.decimal) el = h('input', { id, type: 'number', step: k.decimal ? 'any' : '1' });
  else if (k === 'date') el = h('input', { id, type: 'date' });
  else if (k === 'bool') el = h('select', { id }, h('option', { value: '', text: '—' }), h('option', { value: 'true', text: val(true) }), h('option', { value: 'false', text: val(false) }));
  else if (k.text && k.text.max_chars > 300) el = h('textarea', { id });
  else el = h('input', { id, type: 'text' });
  el.value = value == null ? '' : String(value);
  el.dataset.field = f.name; el.dataset.orig = el.value;
  return h('div', null, h('label', { for: id, text: label(reg, f.name) + (f.required ? ' *' : '') }), el);
}

const ORDER_OWNED = ['status', 'round', 'rectified_at', 'verified_at', 'return_reason', 'extension_requested'];
const editable = (f) => { const k = f.kind || {}; return !(k.string_set || k.json_object); };

function formValues(form, reg, onlyChanged) {
  const out = {};
  for (const el of $$('[data-field]', form)) {
    if (onlyChanged && el.value === el.dataset.orig) continue;
    const f = schemaOf(reg).fields.find((x) => x.name === el.dataset.field), k = f.kind || {};
    let v = el.value.trim();
    if (v === '') { if (onlyChanged) out[f.name] = null; continue; }
    if (k.integer) v = parseInt(v, 10); else if (k.decimal) v = parseFloat(v); else if (k === 'bool') v = v === 'true';
    out[f.name] = v;
  }
  return out;
}

function outcomeMessage(r) { return r && r.result && r.result.outcome === 'conflict' ? ['warn', t('reg.conflict.saved')] : ['ok', t('reg.saved')]; }

async function showRecord(reg, id) {
  $('#list-view').hidden = true; $('#new-view').hidden = true; $('#record-view').hidden = false;
  let r;
  try { r = await api(`/api/v1/registers/${reg}/${id}`); } catch (e) { say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic')); return; }
  st.record = r;
  const title = r.fields.find((f) => ['name', 'address', 'description', 'inspector'].includes(f.name) && f.value);
  $('#rec-title').textContent = (lang() === 'en' ? reg : r.label_zh) + ' · ' + (title ? title.value : id);
  const dl = clear($('#rec-fields'));
  for (const f of r.fields) {
    const shown = f.name === 'area_id' ? name(areaById(f.value)) : f.name === 'unit_id' ? name(unitById(f.value)) : Array.isArray(f.value) ? f.value.join('; ') : (f.value && typeof f.value === 'object') ? JSON.stringify(f.value) : cell(f.name, f.value);
    dl.append(h('dt', { text: lang() === 'en' ? f.name.replace(/_/g, ' ') : f.label_zh }), h('dd', { dataset: { field: f.name }, text: shown || '—' }));
  }
  const form = clear($('#edit-form'));
  const values = Object.fromEntries(r.fields.map((f) => [f.name, f.value]));
  // A hazard's status and the fields its order's actions write are not edited here (registers-orders.js).
  for (const f of schemaOf(reg).fields.filter(editable).filter((f) => reg !== 'hazard' || !ORDER_OWNED.includes(f.name))) form.append(input(reg, f, values[f.name]));
  form.append(h('p', null, h('button', { type: 'submit', class: 'btn', text: t('reg.save') })));
  form.onsubmit = async (e) => {
    e.preventDefault();
    try {
      const res = await api(`/api/v1/registers/${reg}/${id}`, { method: 'PATCH', json: { base_version: r.record.version, fields: formValues(form, reg, true) } });
      const [kind, text] = outcomeMessage(res);
      await showRecord(reg, id); say($('#msg'), kind, text);
    } catch (err) { say($('#msg'), 'err', err instanceof ApiError ? err.human() : t('err.generic')); }
  };
  renderConflicts(reg, id, r.conflicts);
  const links = clear($('#rec-links'));
  if (!r.links.length) links.append(h('li', { class: 'meta', text: t('reg.nolinks') }));
  for (const l of r.links) {
    const x = l.record;
    const reglabel = (st.cat.registers.find((g) => g.name === x.record_type) || {});
    links.append(h('li', null, h('span', { class: 'badge info', text: t(l.relation === 'parent' ? 'reg.parent' : 'reg.child') }), ' ',
      regLabel(reglabel) || x.record_type, ' · ', h('a', { href: `#/${x.record_type}/${x.id}`, text: x.title || x.id }),
      x.grade ? ' · ' + x.grade : '', x.status ? ' · ' + val(x.status) : '', x.overdue ? h('span', null, ' ', h('span', { class: 'badge bad', text: t('reg.overdue') })) : null));
  }
  const hist = clear($('#rec-history'));
  for (const v of [...r.history].reverse()) {
    const who = [t('reg.src.' + v.who.source), v.who.user, v.who.device].filter(Boolean).join(' · ');
    hist.append(h('li', { dataset: { version: String(v.version), source: v.who.source } },
      h('p', null, h('strong', { text: who }), ' ', h('span', { class: 'meta', text: new Date(v.at).toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai' }) + ' · v' + v.version })),
      h('ul', null, ...v.changes.map((c) => h('li', null, (lang() === 'en' ? c.field.replace(/_/g, ' ') : c.label_zh) + '：',
        c.old == null ? h('em', { text: t('reg.created.v') }) : h('del', { text: show(c.field, c.old) }), ' → ', h('ins', { text: show(c.field, c.new) }))))));
  }
  document.documentElement.dataset.ready = '1';
}

function show(field, v) {
  if (field === 'area_id') return name(areaById(v)) || String(v);
  if (field === 'unit_id') return name(unitById(v)) || String(v);
  if (v && typeof v === 'object') return Array.isArray(v) ? v.join('; ') : JSON.stringify(v);
  return cell(field, v);
}

function renderConflicts(reg, id, list) {
  const box = clear($('#rec-conflicts'));
  if (!list.length) { box.append(h('p', { class: 'meta', text: t('reg.noconf') })); return; }
  for (const c of list) {
    const pick = (value) => async () => {
      try { await api(`/api/v1/sync/conflicts/${c.id}/resolve`, { json: { value } }); await showRecord(reg, id); say($('#msg'), 'ok', t('reg.resolved')); } catch (e) { say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic')); }
    };
    const side = (key, value, who) => h('div', { class: 'card' }, h('p', { class: 'meta', text: t(key) + (who ? ' · ' + [t('reg.src.' + who.source), who.user, who.device].filter(Boolean).join(' · ') : '') }),
      h('p', null, h('strong', { text: show(c.field, value) })), h('button', { type: 'button', class: 'btn sec', dataset: { pick: key === 'reg.server' ? 'server' : 'device' }, text: t('reg.keep'), onclick: pick(value) }));
    box.append(h('div', { class: 'card conflict', dataset: { conflict: c.id } }, h('h4', { text: lang() === 'en' ? c.field : c.label_zh }),
      h('div', { class: 'grid2' }, side('reg.server', c.server_value, c.server_who), side('reg.device', c.device_value, c.device_who))));
  }
}

function showNew() {
  $('#list-view').hidden = true; $('#record-view').hidden = true; $('#new-view').hidden = false;
  const reg = st.reg, form = clear($('#new-form'));
  $('#new-title').textContent = t('reg.new') + ' · ' + regLabel(st.cat.registers.find((r) => r.name === reg));
  for (const f of schemaOf(reg).fields.filter(editable)) form.append(input(reg, f, null));
  form.append(h('p', null, h('button', { type: 'submit', class: 'btn', text: t('reg.save') })));
  form.onsubmit = async (e) => {
    e.preventDefault();
    try {
      const res = await api(`/api/v1/registers/${reg}`, { json: { fields: formValues(form, reg, false) } });
      location.hash = `#/${reg}/${res.id}`; say($('#msg'), 'ok', t('reg.created'));
    } catch (err) { say($('#msg'), 'err', err instanceof ApiError ? err.human() : t('err.generic')); }
  };
  document.documentElement.dataset.ready = '1';
}

function route() {
  const m = location.hash.match(/^#\/(\w+)\/([0-9a-f-]{36})$/);
  if (m) { showRecord(m[1], m[2]); return; }
  $('#record-view').hidden = true; $('#new-view').hidden = true; $('#list-view').hidden = false;
  load();
}

function showUser() {
  const u = user();
  $('#who').textContent = u ? (u.display_name || u.username) + ' · ' + t('role.' + u.role) : '';
}

async function start() {
  wireDialog();
  initLang($('#lang'), () => { showUser(); renderTabs(); fillFilters(true); route(); });
  $('#logout').addEventListener('click', signOut);
  if (!user()) await signIn(false);
  showUser();
  try { st.cat = await api('/api/v1/registers'); } catch (e) { say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic')); return; }
  const want = new URLSearchParams(location.search).get('register');
  if (want && st.cat.registers.some((r) => r.name === want)) st.reg = want;
  renderTabs(); fillFilters(false);
  $('#f-district').addEventListener('change', () => { $('#f-street').value = ''; $('#f-community').value = ''; fillAreaFilters(true); });
  $('#f-street').addEventListener('change', () => { $('#f-community').value = ''; fillAreaFilters(true); });
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); st.page = 1; if (location.hash) location.hash = ''; else load(); });
  $('#f-reset').addEventListener('click', () => { $('#filters').reset(); fillFilters(false); st.page = 1; load(); });
  $('#prev').addEventListener('click', () => { st.page = Math.max(1, st.page - 1); load(); });
  $('#next').addEventListener('click', () => { st.page += 1; load(); });
  $('#dl-xlsx').addEventListener('click', () => download('xlsx'));
  $('#dl-csv').addEventListener('click', () => download('csv'));
  $('#new').addEventListener('click', showNew);
  wireImport(() => st.reg, load);
  $('#back').addEventListener('click', (e) => { e.preventDefault(); location.hash = ''; });
  $('#new-back').addEventListener('click', (e) => { e.preventDefault(); route(); });
  window.addEventListener('hashchange', route);
  route();
}
start();
