// The inspection checklists (检查表) on /registers, administrators only: one per programme, as
// the field app serves them to inspectors (GET /api/v1/checklists). An administrator edits the
// name and the items (key, Chinese and English text; add, move, remove) and saves with
// PUT /api/v1/checklists/{programme}; the server checks the whole list and changes nothing while
// any place is wrong (422 invalid_checklist, each place named). Devices get the new version at
// their next sync. Its own file: the page script stays as it is.
import { $, h, clear, say } from './dom.js';
import { t, extend, name, lang } from './i18n.js';
import { ApiError } from './api.js';
import { api, user } from './auth.js';

extend({
  zh: { 'chk.title': '检查表（外业排查）', 'chk.hint': '外业人员在“排查/检查”中逐项填写的检查内容，按改造类型各一张；保存后，外业端下次同步即使用新版本。',
    'chk.prog': '改造类型', 'chk.name_zh': '检查表名称', 'chk.name_en': '英文名称', 'chk.key': '编号', 'chk.label_zh': '检查内容', 'chk.label_en': '英文', 'chk.up': '上移', 'chk.down': '下移',
    'chk.remove': '删除', 'chk.add': '添加检查项', 'chk.save': '保存检查表', 'chk.saved': '已保存，第 {v} 版。', 'chk.meta': '第 {v} 版 · {who} 修改于 {at}', 'chk.bad': '检查表有误，未作任何修改：',
    'chk.prog.dangerous_housing': '危旧房改造', 'chk.prog.old_community': '老旧小区改造', 'chk.prog.shantytown': '棚户区改造', 'chk.item': '第 {n} 项', 'chk.items': '检查项', 'chk.meta0': '第 {v} 版 · {who}（内置默认）' },
  en: { 'chk.title': 'Inspection checklists (field)', 'chk.hint': 'What inspectors check item by item in an inspection, one list per programme; the field app uses a saved version at its next sync.',
    'chk.prog': 'Programme', 'chk.name_zh': 'Checklist name', 'chk.name_en': 'English name', 'chk.key': 'Key', 'chk.label_zh': 'What to check', 'chk.label_en': 'English', 'chk.up': 'Up', 'chk.down': 'Down',
    'chk.remove': 'Remove', 'chk.add': 'Add an item', 'chk.save': 'Save the checklist', 'chk.saved': 'Saved: version {v}.', 'chk.meta': 'Version {v} · changed by {who} at {at}', 'chk.bad': 'The checklist has errors; nothing was changed:',
    'chk.prog.dangerous_housing': 'Dangerous housing', 'chk.prog.old_community': 'Old communities', 'chk.prog.shantytown': 'Shantytowns', 'chk.item': 'Item {n}', 'chk.items': 'Items', 'chk.meta0': 'Version {v} · {who} (built-in default)' },
});

const st = { lists: [], programme: null, draft: null };
const box = () => $('#checklists-box');

function pick(programme) {
  const c = st.lists.find((x) => x.programme === programme) || st.lists[0];
  st.programme = c.programme;
  st.draft = { name_zh: c.name_zh, name_en: c.name_en, items: c.items.map((i) => ({ ...i })) };
  render();
}

function move(i, d) {
  const items = st.draft.items;
  const j = i + d;
  if (j < 0 || j >= items.length) return;
  [items[i], items[j]] = [items[j], items[i]];
  render();
}

function itemRow(it, i) {
  const input = (key, label, width) => h('input', { type: 'text', value: it[key] || '', 'aria-label': t(label) + ' ' + (i + 1), size: width, dataset: { k: key },
    oninput: (e) => { it[key] = e.target.value; } });
  const n = st.draft.items.length;
  return h('tr', { dataset: { i: String(i) } },
    h('td', { class: 'num', text: String(i + 1) }),
    h('td', null, input('id', 'chk.key', 14)), h('td', null, input('label_zh', 'chk.label_zh', 24)), h('td', null, input('label_en', 'chk.label_en', 24)),
    h('td', null,
      h('button', { type: 'button', class: 'btn sec', text: t('chk.up'), disabled: i === 0, onclick: () => move(i, -1) }), ' ',
      h('button', { type: 'button', class: 'btn sec', text: t('chk.down'), disabled: i === n - 1, onclick: () => move(i, 1) }), ' ',
      h('button', { type: 'button', class: 'btn sec', text: t('chk.remove'), onclick: () => { st.draft.items.splice(i, 1); render(); } })));
}

function render() {
  const el = box();
  if (!el || !st.draft) return;
  const c = st.lists.find((x) => x.programme === st.programme);
  const msg = $('#chk-msg');
  const keep = msg ? [msg.className, Array.from(msg.childNodes)] : null;
  const sel = h('select', { id: 'chk-prog', onchange: (e) => pick(e.target.value) },
    ...st.lists.map((x) => h('option', { value: x.programme, text: t('chk.prog.' + x.programme), selected: x.programme === st.programme })));
  const f = (id, label, key) => h('div', null, h('label', { for: id, text: t(label) }),
    h('input', { type: 'text', id, value: st.draft[key], oninput: (e) => { st.draft[key] = e.target.value; } }));
  clear(el).append(
    h('h2', { id: 'chk-h', text: t('chk.title') }), h('p', { class: 'hint', text: t('chk.hint') }),
    h('div', { class: 'row' }, h('div', null, h('label', { for: 'chk-prog', text: t('chk.prog') }), sel), f('chk-name-zh', 'chk.name_zh', 'name_zh'), f('chk-name-en', 'chk.name_en', 'name_en')),
    h('p', { class: 'meta', id: 'chk-meta', text: c ? (c.updated_at > 0 ? t('chk.meta', { v: c.version, who: c.updated_by_name || c.updated_by, at: new Date(c.updated_at).toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN') }) : t('chk.meta0', { v: c.version, who: c.updated_by_name || c.updated_by })) : '' }),
    h('div', { class: 'tablewrap' }, h('table', { id: 'chk-items' },
      h('thead', null, h('tr', null, ...['#', 'chk.key', 'chk.label_zh', 'chk.label_en', ''].map((k) => h('th', { scope: 'col', text: k.startsWith('chk.') ? t(k) : k })))),
      h('tbody', null, ...st.draft.items.map(itemRow)))),
    h('p', null,
      h('button', { type: 'button', class: 'btn sec', id: 'chk-add', text: t('chk.add'), onclick: () => { st.draft.items.push({ id: '', label_zh: '', label_en: '' }); render(); } }), ' ',
      h('button', { type: 'button', class: 'btn', id: 'chk-save', text: t('chk.save'), onclick: save })),
    h('div', { id: 'chk-msg', class: 'msg', role: 'status' }));
  if (keep) { const m = $('#chk-msg'); m.className = keep[0]; m.append(...keep[1]); }
}

/** `items[2].label_zh` → 第 3 项 · 检查内容 (the server names the place by the body's path). */
function where(at) {
  const m = /^items\[(\d+)\]\.(\w+)$/.exec(at || '');
  if (m) return t('chk.item', { n: Number(m[1]) + 1 }) + ' · ' + t({ id: 'chk.key', label_zh: 'chk.label_zh', label_en: 'chk.label_en' }[m[2]] || 'chk.key');
  return { name_zh: t('chk.name_zh'), name_en: t('chk.name_en'), items: t('chk.items') }[at] || at;
}

async function save() {
  const btn = $('#chk-save');
  btn.disabled = true;
  try {
    const saved = await api('/api/v1/checklists/' + encodeURIComponent(st.programme), { method: 'PUT', json: st.draft });
    st.lists = st.lists.map((x) => (x.programme === saved.programme ? saved : x));
    pick(saved.programme);
    say($('#chk-msg'), 'ok', t('chk.saved', { v: saved.version }));
  } catch (e) {
    const errors = (e instanceof ApiError && Array.isArray(e.problem.errors) && e.problem.errors) || [];
    say($('#chk-msg'), 'err', e instanceof ApiError ? (errors.length ? t('chk.bad') : e.human()) : t('err.generic'),
      errors.length ? h('ul', null, ...errors.map((x) => h('li', { text: where(x.at) + '：' + name({ name_zh: x.message_zh, name_en: x.message_en }) }))) : null);
  } finally { btn.disabled = false; }
}

async function start() {
  const u = user();
  if (!u || u.role !== 'admin') return;
  const r = await api('/api/v1/checklists');
  st.lists = (r && r.checklists) || [];
  if (!st.lists.length) return;
  box().hidden = false;
  pick(st.lists[0].programme);
}

// After the page script has signed in and drawn the list (it marks the page ready).
const root = document.documentElement;
const go = () => { start().catch(() => {}); };
if (root.dataset.ready === '1') go();
else new MutationObserver((_, obs) => { if (root.dataset.ready === '1') { obs.disconnect(); go(); } }).observe(root, { attributes: true, attributeFilter: ['data-ready'] });
