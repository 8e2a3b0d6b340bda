// Unit console /console: the unit's queue by deadline, a ticket page, and the actions the API allows now.
import { $, h, clear, say } from './dom.js';
import { t, extend, initLang, name, fmtTime, lang } from './i18n.js';
import { request, ApiError, items } from './api.js';
import { api, user, signIn, signOut, wireDialog } from './auth.js';
import { shrink } from './image.js';

extend({
  zh: { 'con.title': '工单处理', 'nav.board': '督办看板', 'con.queue': '待办工单', 'con.queues': '队列', 'con.tab.unit': '本单位', 'con.tab.dispatch': '待派单', 'con.tab.all': '全部',
    'con.f.status': '状态', 'con.f.category': '类别', 'con.f.q': '搜索', 'con.f.overdue': '只看超期', 'con.f.apply': '筛选', 'con.f.any': '全部',
    'con.queue.caption': '按时限排序的工单', 'con.col.due': '时限', 'con.col.no': '编号', 'con.col.what': '内容', 'con.col.status': '状态',
    'con.count': '共 {n} 件', 'con.empty': '没有符合条件的工单。', 'con.pick': '请从左侧选择工单',
    'con.overdue': '超期', 'con.soon': '即将到期', 'con.resp': '响应', 'con.res': '办结',
    'con.ticket': '工单 {no}', 'con.reporter': '反映人', 'con.anon': '匿名', 'con.history': '办理记录', 'con.actions': '可以进行的操作', 'con.noactions': '当前没有可进行的操作。',
    'con.internal': '内部', 'con.by': '经办：',
    'act.accept': '签收', 'act.accept.hint': '签收后开始计算办结时限。',
    'act.reply': '答复居民（居民可见）', 'act.reply.send': '发送答复', 'act.note': '内部备注（居民不可见）', 'act.note.send': '保存备注',
    'act.resolve': '办结', 'act.resolve.result': '办理结果', 'act.resolve.photos': '办结照片', 'act.resolve.need': '此类别办结时必须上传照片。', 'act.resolve.send': '提交办结',
    'act.return': '退单（不属于本单位）', 'act.return.reason': '退单原因', 'act.return.unit': '建议办理单位（选填）', 'act.return.send': '退回派单中心',
    'act.extension': '申请延期', 'act.extension.reason': '延期原因', 'act.extension.due': '新的办结时限', 'act.extension.send': '提交申请',
    'act.dispatch': '派单', 'act.reassign': '转派', 'act.unit': '办理单位', 'act.unit.id': '办理单位编号', 'act.dispatch.send': '派出',
    'act.done': '已完成：{what}', 'act.uploading': '正在上传照片…', 'act.required': '请填写：{what}', 'con.reload': '刷新' },
  en: { 'con.title': 'Tickets', 'nav.board': 'Supervision board', 'con.queue': 'Queue', 'con.queues': 'Queues', 'con.tab.unit': 'My unit', 'con.tab.dispatch': 'To dispatch', 'con.tab.all': 'All',
    'con.f.status': 'Status', 'con.f.category': 'Category', 'con.f.q': 'Search', 'con.f.overdue': 'Overdue only', 'con.f.apply': 'Filter', 'con.f.any': 'Any',
    'con.queue.caption': 'Tickets by deadline', 'con.col.due': 'Due', 'con.col.no': 'No.', 'con.col.what': 'Complaint', 'con.col.status': 'Status',
    'con.count': '{n} tickets', 'con.empty': 'No tickets match.', 'con.pick': 'Choose a ticket from the queue',
    'con.overdue': 'Overdue', 'con.soon': 'Due soon', 'con.resp': 'response', 'con.res': 'resolution',
    'con.ticket': 'Ticket {no}', 'con.reporter': 'Reported by', 'con.anon': 'anonymous', 'con.history': 'History', 'con.actions': 'What you can do now', 'con.noactions': 'No action is possible now.',
    'con.internal': 'internal', 'con.by': 'by ',
    'act.accept': 'Accept', 'act.accept.hint': 'The resolution clock starts when you accept.',
    'act.reply': 'Reply to the resident (public)', 'act.reply.send': 'Send reply', 'act.note': 'Internal note (never public)', 'act.note.send': 'Save note',
    'act.resolve': 'Resolve', 'act.resolve.result': 'Result', 'act.resolve.photos': 'Proof photos', 'act.resolve.need': 'This category needs photos to resolve.', 'act.resolve.send': 'Resolve',
    'act.return': 'Return (not ours)', 'act.return.reason': 'Reason', 'act.return.unit': 'Suggested unit (optional)', 'act.return.send': 'Return to dispatch',
    'act.extension': 'Request an extension', 'act.extension.reason': 'Reason', 'act.extension.due': 'New resolution deadline', 'act.extension.send': 'Request',
    'act.dispatch': 'Dispatch', 'act.reassign': 'Reassign', 'act.unit': 'Unit', 'act.unit.id': 'Unit id', 'act.dispatch.send': 'Send',
    'act.done': 'Done: {what}', 'act.uploading': 'Uploading photos…', 'act.required': 'Please fill in: {what}', 'con.reload': 'Reload' },
});

const STATUSES = ['dispatching', 'dispatched', 'accepted', 'resolved', 'reopened', 'escalated', 'closed'];
const SOON_MS = 24 * 3600e3;
const st = { queue: 'unit', tickets: [], current: null, cats: [], units: null };
const isDispatcher = () => ['dispatcher', 'supervisor', 'admin'].includes((user() || {}).role);

/** The deadline that matters now, or null once the unit's part is done. */
export function dueOf(tk) {
  if (['dispatching', 'dispatched'].includes(tk.status)) return tk.response_due || tk.resolution_due || null;
  if (['accepted', 'reopened', 'escalated'].includes(tk.status)) return tk.resolution_due || null;
  return null;
}
function dueBadge(due) {
  if (!due) return null;
  const left = new Date(due) - Date.now();
  if (left < 0) return h('span', { class: 'badge bad', text: t('con.overdue') });
  if (left < SOON_MS) return h('span', { class: 'badge warn', text: t('con.soon') });
  return null;
}
const catName = (c) => (c && typeof c === 'object') ? name(c) : name(st.cats.find((x) => x.code === c)) || c || '';

function setupFilters() {
  const s = $('#f-status'), c = $('#f-category');
  const sv = s.value, cv = c.value;
  clear(s).append(h('option', { value: '', text: t('con.f.any') }), ...STATUSES.map((x) => h('option', { value: x, text: t('status.' + x) })));
  clear(c).append(h('option', { value: '', text: t('con.f.any') }), ...st.cats.map((x) => h('option', { value: x.code, text: name(x) })));
  s.value = sv; c.value = cv;
}

async function loadQueue() {
  const q = new URLSearchParams({ queue: st.queue, limit: '500' });
  if ($('#f-status').value) q.set('status', $('#f-status').value);
  if ($('#f-category').value) q.set('category', $('#f-category').value);
  if ($('#f-overdue').checked) q.set('overdue', 'true');
  if ($('#f-q').value.trim()) q.set('q', $('#f-q').value.trim());
  try {
    st.tickets = items(await api('/api/v1/tickets?' + q));
    if ($('#msg').classList.contains('err')) say($('#msg'), 'info');
  } catch (e) {
    say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic'));
    return;
  }
  renderQueue();
}

function renderQueue() {
  const sorted = [...st.tickets].sort((a, b) => {
    const da = dueOf(a), db = dueOf(b);
    if (!da && !db) return String(b.created_at).localeCompare(String(a.created_at));
    if (!da) return 1; if (!db) return -1;
    return new Date(da) - new Date(db);
  });
  // A redraw keeps the keyboard where it was: the focused ticket's link is focused again.
  const tbody = $('#queue tbody');
  const focusedId = tbody.contains(document.activeElement) ? document.activeElement.closest('tr')?.dataset.id : null;
  const tb = clear(tbody);
  $('#queue-count').textContent = sorted.length ? t('con.count', { n: sorted.length }) : t('con.empty');
  for (const tk of sorted) {
    const due = dueOf(tk);
    const tr = h('tr', { dataset: { id: tk.id } },
      h('td', null, due ? h('div', { text: fmtTime(due) }) : '—', dueBadge(due)),
      h('td', { class: 'nw' }, h('a', { href: '#t=' + encodeURIComponent(tk.id), text: tk.ticket_no || tk.id, 'aria-current': st.current && st.current.id === tk.id ? 'true' : null })),
      h('td', null, h('div', { class: 'meta', text: [catName(tk.category), tk.area && name(tk.area)].filter(Boolean).join(' · ') }),
        h('div', { text: short(tk.description || tk.summary || '', 60) })),
      h('td', { class: 'nw', text: t('status.' + tk.status) }));
    tb.append(tr);
  }
  if (focusedId) [...tb.rows].find((r) => r.dataset.id === focusedId)?.querySelector('a')?.focus();
}
const short = (s, n) => ([...s].length > n ? [...s].slice(0, n).join('') + '…' : s);

async function openTicket(id, keepFocus) {
  try {
    st.current = await api('/api/v1/tickets/' + encodeURIComponent(id));
  } catch (e) {
    say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic'));
    return;
  }
  renderDetail();
  renderQueue();
  if (!keepFocus) $('#detail-h').focus();
}

/** 已核验 / 未核验 of the latest resolution's photos, with each photo's reason and distance. */
function proofNote(p) {
  const en = lang() === 'en';
  const each = (p.photos || []).map((x, i) => h('li', { class: 'meta', text: (i + 1) + '. ' + (en ? x.message_en : x.message_zh)
    + (x.distance_m != null ? ' (' + Math.round(x.distance_m) + (en ? ' m' : ' 米') + ')' : '') }));
  return h('div', { class: 'proof' },
    h('span', { class: 'badge ' + (p.verified ? 'ok' : 'warn'), text: en ? p.label_en : p.label_zh }),
    h('ul', null, ...each));
}

function photoLinks(urls) {
  return h('div', { class: 'photos' }, ...(urls || []).map((u, i) => h('a', { href: u, target: '_blank', rel: 'noopener' }, h('img', { src: u, alt: t('res.photo.n', { n: i + 1 }), loading: 'lazy' }))));
}

function renderDetail() {
  const tk = st.current;
  $('#detail-h').textContent = t('con.ticket', { no: tk.ticket_no });
  const body = clear($('#detail-body'));
  const due = dueOf(tk);
  body.append(
    h('p', null, h('span', { class: 'badge info', text: t('status.' + tk.status) }), ' ', dueBadge(due)),
    h('dl', { class: 'kv' },
      h('dt', { text: t('trk.category') }), h('dd', { text: catName(tk.category) }),
      h('dt', { text: t('trk.where') }), h('dd', { text: [tk.area && name(tk.area), tk.address].filter(Boolean).join(' · ') || '—' }),
      h('dt', { text: t('trk.unit') }), h('dd', { text: tk.unit ? name(tk.unit) : '—' }),
      h('dt', { text: t('con.reporter') }), h('dd', { text: tk.reporter ? [tk.reporter.name, tk.reporter.phone].filter(Boolean).join(' · ') || t('con.anon') : t('con.anon') }),
      h('dt', { text: t('trk.created') }), h('dd', { text: fmtTime(tk.created_at) }),
      h('dt', { text: t('trk.respdue') }), h('dd', { text: fmtTime(tk.response_due) }),
      h('dt', { text: t('trk.resdue') }), h('dd', { text: fmtTime(tk.resolution_due) }),
      h('dt', { text: t('trk.supporters') }), h('dd', { text: t('res.supporters', { n: (Number(tk.supporters) || 0) + 1 }) })),
    h('h3', { text: t('trk.report') }),
    h('p', { class: 'card report', text: tk.description || '' }),
    photoLinks(tk.photos));

  const acts = h('section', { class: 'actions', 'aria-labelledby': 'acts-h' }, h('h3', { id: 'acts-h', text: t('con.actions') }));
  const allowed = tk.actions || [];
  if (!allowed.length) acts.append(h('p', { class: 'meta', text: t('con.noactions') }));
  for (const a of allowed) { const f = actionForm(a, tk); if (f) acts.append(f); }
  body.append(acts);

  const hist = h('ol', { class: 'timeline' });
  let proofShown = false;
  for (const ev of [...(tk.events || [])].reverse()) {
    const li = h('li', { class: ev.public === false ? 'internal' : null },
      h('strong', { text: t('ev.' + ev.kind) }), ' ',
      ev.public === false ? h('span', { class: 'badge warn', text: t('con.internal') }) : null, ' ',
      h('time', { class: 'meta', datetime: ev.at, text: fmtTime(ev.at) }),
      actorName(ev.actor) ? h('span', { class: 'meta', text: ' · ' + t('con.by') + actorName(ev.actor) }) : null,
      ev.unit && !ev.text ? h('span', { class: 'meta', text: ' · ' + name(ev.unit) }) : null);
    if (ev.text) li.append(h('p', { text: ev.text }));
    if (ev.reason) li.append(h('p', { class: 'meta', text: t('trk.reason') + ev.reason }));
    if (ev.photos && ev.photos.length) li.append(photoLinks(ev.photos));
    if (ev.kind === 'resolved' && !proofShown && tk.proof) { li.append(proofNote(tk.proof)); proofShown = true; }
    hist.append(li);
  }
  body.append(h('h3', { text: t('con.history') }), hist);
}

/** Who did it: staff by name ({kind: staff, name}); residents and the system are not named. */
const actorName = (a) => (a && typeof a === 'object' ? (a.kind === 'staff' ? a.name || '' : '') : a || '');

let uid = 0;
function field(labelKey, control, hint) {
  const id = 'fld' + (++uid);
  control.id = id;
  return h('div', null, h('label', { for: id, text: t(labelKey) }), hint ? h('p', { class: 'hint', text: hint }) : null, control);
}

function unitPicker(optional) {
  if (st.units && st.units.length) {
    return h('select', { name: 'unit' }, h('option', { value: '', text: optional ? '—' : t('res.pick') }),
      ...st.units.map((u) => h('option', { value: String(u.id), text: name(u) })));
  }
  return h('input', { type: 'text', name: 'unit', inputmode: 'numeric' });
}

/** One small form per action; each keeps its text until the API says it was done. */
function actionForm(action, tk) {
  const msg = h('div', { class: 'msg', role: 'alert' });
  const form = h('form', { dataset: { action } });
  const submitBtn = (key, cls) => h('button', { type: 'submit', class: 'btn' + (cls ? ' ' + cls : ''), text: t(key) });
  let build;
  switch (action) {
    case 'accept':
      form.append(h('p', { class: 'hint', text: t('act.accept.hint') }), submitBtn('act.accept'));
      build = () => ['accept', {}];
      break;
    case 'reply': {
      const ta = h('textarea', { name: 'text', maxlength: '2000' });
      form.append(field('act.reply', ta), submitBtn('act.reply.send'));
      build = () => ta.value.trim() ? ['reply', { text: ta.value.trim(), public: true }] : need('act.reply', ta);
      break;
    }
    case 'note': {
      const ta = h('textarea', { name: 'text', maxlength: '2000' });
      form.append(field('act.note', ta), submitBtn('act.note.send', 'sec'));
      build = () => ta.value.trim() ? ['note', { text: ta.value.trim() }] : need('act.note', ta);
      break;
    }
    case 'resolve': {
      const ta = h('textarea', { name: 'result', maxlength: '2000' });
      const file = h('input', { type: 'file', accept: 'image/*', multiple: true, name: 'photos' });
      const thumbs = h('ul', { class: 'thumbs' });
      const blobs = [];
      const needPhoto = tk.category && tk.category.needs_photo_proof;
      file.addEventListener('change', async () => {
        for (const f of Array.from(file.files)) {
          if (blobs.length >= 6) break;
          try { blobs.push(await shrink(f)); } catch { say(msg, 'err', t('res.photos.bad', { name: f.name })); }
        }
        file.value = '';
        clear(thumbs);
        blobs.forEach((b, i) => thumbs.append(h('li', null, h('img', { src: URL.createObjectURL(b), alt: t('res.photo.n', { n: i + 1 }) }),
          h('button', { type: 'button', class: 'btn sec', text: t('res.photo.remove'), 'aria-label': t('res.photo.remove.n', { n: i + 1 }), onclick: (e) => { blobs.splice(i, 1); e.target.closest('li').remove(); } }))));
      });
      form.append(h('h4', { text: t('act.resolve') }), field('act.resolve.result', ta), field('act.resolve.photos', file, needPhoto ? t('act.resolve.need') : null), thumbs, submitBtn('act.resolve.send'));
      build = async () => {
        if (!ta.value.trim()) return need('act.resolve.result', ta);
        if (needPhoto && !blobs.length) { say(msg, 'err', t('act.resolve.need')); file.focus(); return null; }
        const ids = [];
        if (blobs.length) say(msg, 'info', t('act.uploading'));
        for (const b of blobs) ids.push((await request('/api/v1/uploads', { body: b, headers: { 'Content-Type': b.type || 'image/jpeg' } })).id);
        return ['resolve', ids.length ? { result: ta.value.trim(), photos: ids } : { result: ta.value.trim() }];
      };
      break;
    }
    case 'return': {
      const ta = h('textarea', { name: 'reason', maxlength: '1000' });
      const unit = unitPicker(true);
      form.append(h('h4', { text: t('act.return') }), field('act.return.reason', ta), field('act.return.unit', unit), submitBtn('act.return.send', 'sec'));
      build = () => {
        if (!ta.value.trim()) return need('act.return.reason', ta);
        const b = { reason: ta.value.trim() };
        if (unit.value) b.suggested_unit_id = idValue(unit.value);
        return ['return', b];
      };
      break;
    }
    case 'request_extension': {
      const ta = h('textarea', { name: 'reason', maxlength: '1000' });
      const when = h('input', { type: 'datetime-local', name: 'resolution_due' });
      form.append(h('h4', { text: t('act.extension') }), field('act.extension.reason', ta), field('act.extension.due', when), submitBtn('act.extension.send', 'sec'));
      build = () => {
        if (!ta.value.trim()) return need('act.extension.reason', ta);
        if (!when.value) return need('act.extension.due', when);
        return ['extension', { reason: ta.value.trim(), resolution_due: cityTime(when.value) }];
      };
      break;
    }
    case 'dispatch':
    case 'reassign': {
      const unit = unitPicker(false);
      form.append(h('h4', { text: t('act.' + action) }), field(st.units && st.units.length ? 'act.unit' : 'act.unit.id', unit), submitBtn('act.dispatch.send'));
      build = () => unit.value ? ['dispatch', { unit_id: idValue(unit.value) }] : need('act.unit', unit);
      break;
    }
    default:
      return null;
  }
  function need(key, el) { say(msg, 'err', t('act.required', { what: t(key) })); el.focus(); return null; }
  form.append(msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btns = form.querySelectorAll('button');
    btns.forEach((b) => { b.disabled = true; });
    try {
      const spec = await build();
      if (!spec) return;
      const [path, body] = spec;
      st.current = await api('/api/v1/tickets/' + encodeURIComponent(tk.id) + '/' + path, { json: body });
      renderDetail();
      say($('#msg'), 'ok', t('act.done', { what: t(action === 'request_extension' ? 'act.extension' : 'act.' + action) }));
      $('#detail-h').focus();
      loadQueue();
    } catch (err) {
      say(msg, 'err', err instanceof ApiError ? err.human() : t('err.generic'));
    } finally { btns.forEach((b) => { b.disabled = false; }); }
  });
  return form;
}
/** A unit id as the API gave it (number or string); typed ids that look numeric are sent as numbers. */
const idValue = (v) => { const u = (st.units || []).find((x) => String(x.id) === v); return u ? u.id : (/^\d+$/.test(v) ? Number(v) : v); };
/** A datetime-local value read as the city's time (UTC+8, no daylight saving). */
const cityTime = (v) => (v.length === 16 ? v + ':00' : v) + '+08:00';

async function loadUnits() {
  for (const [path, map] of [['/api/v1/units', (u) => u], ['/api/v1/stats/units', (u) => ({ id: u.unit_id, name_zh: u.name_zh, name_en: u.name_en })]]) {
    try { st.units = items(await api(path)).map(map); if (st.units.length) return; } catch { /* next source */ }
  }
  st.units = [];
}

function setQueue(q) {
  st.queue = q;
  for (const [id, v] of [['#tab-unit', 'unit'], ['#tab-dispatch', 'dispatch'], ['#tab-all', 'all']]) $(id).setAttribute('aria-pressed', String(v === q));
  loadQueue();
}

function route() {
  const m = location.hash.match(/^#t=(.+)$/);
  if (m) openTicket(decodeURIComponent(m[1]));
}

function showUser() {
  const u = user();
  $('#who').textContent = u ? (u.display_name || u.username) + ' · ' + t('role.' + u.role) : '';
  const d = isDispatcher();
  $('#tab-dispatch').hidden = !d; $('#tab-all').hidden = !d;
  $('#nav-board').hidden = !(u && ['supervisor', 'admin'].includes(u.role));
}

async function start() {
  wireDialog();
  initLang($('#lang'), () => { showUser(); setupFilters(); renderQueue(); if (st.current) renderDetail(); });
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); loadQueue(); });
  $('#tab-unit').addEventListener('click', () => setQueue('unit'));
  $('#tab-dispatch').addEventListener('click', () => setQueue('dispatch'));
  $('#tab-all').addEventListener('click', () => setQueue('all'));
  $('#logout').addEventListener('click', signOut);
  addEventListener('hashchange', route);
  try { st.cats = await request('/api/v1/categories'); } catch { st.cats = []; }
  setupFilters();
  if (!user()) await signIn(false);
  showUser();
  if (isDispatcher() && !(user() || {}).unit_id) setQueue('dispatch'); else await loadQueue();
  await loadUnits();
  route();
  document.documentElement.dataset.ready = '1';
}
start();
