// /field: the offline field app for inspectors and unit staff. Records of the user's scope are
// kept on the phone (IndexedDB, see field-db.js) and synced with the same protocol as the Rust
// client (field-sync.js); forms come from the served schemas (field-form.js).
import { $, h, clear, say } from './dom.js';
import { t, lang, initLang, fmtTime } from './i18n.js';
import { ApiError } from './api.js';
import { open, kv, setKv } from './field-db.js';
import { FieldStore, SyncStop, kindOf } from './field-sync.js';
import { renderForm } from './field-form.js';
import { fieldLabel, valueLabel } from './field-text.js';
import { renderQueue, renderTicket } from './field-tickets.js';
import { renderOrder, renderOrders, hasOrder, noteMine } from './field-orders.js';

const TYPES = ['inspection', 'hazard', 'building', 'project'];
/** A hazard's fields its order box shows (field-orders.js), left out of the plain field list. */
const IN_ORDER_BOX = new Set(['order_no', 'order_issued_on', 'deadline', 'status', 'responsible_person', 'round', 'extension_requested', 'return_reason', 'rectification_proof']);
let store, ref = { directory: { areas: [], units: [] }, checklists: null }, user = null;
let cache = {};           // type → view rows, refreshed after each change or sync
let retryTimer = null, retryDelay = 30000;
const photoUrls = new Map();

const pick = (o, base) => (lang() === 'en' ? o[base + '_en'] || o[base + '_zh'] : o[base + '_zh'] || o[base + '_en']) || '';
const areaName = (id) => { const a = ref.directory.areas.find((x) => x.id === id); return a ? (lang() === 'en' ? a.path_en : a.path_zh).slice(1).join(' › ') || pick(a, 'name') : ''; };
const unitName = (id) => { const u = ref.directory.units.find((x) => x.id === id); return u ? pick(u, 'name') : ''; };
const byType = (type) => cache[type] || [];
function title(r) {
  const f = r.fields;
  if (r.record_type === 'project') return f.name || '—';
  if (r.record_type === 'building') return f.address || '—';
  if (r.record_type === 'hazard') return (f.description || '—').slice(0, 40);
  const b = byType('building').find((x) => x.id === f.building_id);
  return (b ? b.fields.address : areaName(f.area_id) || '—') + ' · ' + fmtTime(f.inspected_at);
}
function nameOf(field, id) {
  if (!id) return '—';
  if (field === 'area_id') return areaName(id) || id;
  if (field === 'unit_id') return unitName(id) || id;
  for (const type of TYPES) { const r = byType(type).find((x) => x.id === id); if (r) return title(r); }
  return id;
}
function display(f, v) {
  if (v === undefined || v === null || v === '') return '—';
  const k = kindOf(f);
  if (k === 'uuid') return nameOf(f.name, v);
  if (k === 'enum') return valueLabel(v);
  if (k === 'timestamp') return fmtTime(v);
  if (k === 'bool') return v ? '✓' : '✗';
  if (Array.isArray(v)) return v.join('、');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
async function photoUrl(sha) {
  if (photoUrls.has(sha)) return photoUrls.get(sha);
  const p = await store.photo(sha);
  let blob = p && p.blob;
  if (!blob && navigator.onLine) {
    try {
      const { session } = await kv(store.db, ['session']);
      const res = await fetch('/api/v1/attachments/' + sha, { headers: { Authorization: 'Bearer ' + session.access_token } });
      if (res.ok) blob = await res.blob();
    } catch { /* offline: no thumbnail */ }
  }
  const u = blob ? URL.createObjectURL(blob) : null;
  if (u) photoUrls.set(sha, u);
  return u;
}
/** The checklist of an inspection: its project's programme, else the dangerous-building one. */
function checklistFor(values) {
  const lists = (ref.checklists && ref.checklists.checklists) || [];
  if (!lists.length) return null;
  const proj = byType('project').find((p) => p.id === values.project_id) || byType('project').find((p) => p.id === (byType('building').find((b) => b.id === values.building_id) || { fields: {} }).fields.project_id);
  const prog = proj ? proj.fields.programme : 'dangerous_housing';
  return lists.find((c) => c.programme === prog) || lists.find((c) => c.programme === 'dangerous_housing') || lists[0];
}
const ctx = { get directory() { return ref.directory; }, areaName, unitName, byType, title, nameOf, photoUrl, checklistFor, pick, get store() { return store; } };

// ---- status line and sync ----
async function refreshCache() {
  const all = await store.view();
  cache = {};
  for (const r of all) (cache[r.record_type] = cache[r.record_type] || []).push(r);
}
async function status() {
  const c = await store.counts();
  const parts = [t('fld.st.pending', { n: c.pending }), c.last_sync ? t('fld.st.last', { t: fmtTime(c.last_sync) }) : t('fld.st.never'),
    t('fld.st.conflicts', { n: c.conflicts }), t('fld.st.rejected', { n: c.rejected })];
  const line = $('#status-line');
  line.textContent = parts.join(' · ');
  line.dataset.pending = c.pending;
  line.dataset.conflicts = c.conflicts;
  line.dataset.rejected = c.rejected;
  $('#net').hidden = navigator.onLine;
  return c;
}

function onProgress(p) {
  const box = $('#progress-box'), bar = $('#progress'), label = $('#progress-label');
  if (p.phase === 'pull' && p.first) {
    box.hidden = false;
    bar.removeAttribute('value');
    label.textContent = t('fld.first.n', { n: p.received });
    box.dataset.received = p.received;
  } else if (p.phase === 'photos' && p.total) {
    box.hidden = false; bar.max = p.total; bar.value = p.done; label.textContent = t('fld.photos.n', p);
  } else if (p.phase === 'push' && p.total) {
    box.hidden = false; bar.max = p.total; bar.value = p.done; label.textContent = t('fld.push.n', p);
  } else if (p.phase === 'reset') {
    box.hidden = false; bar.removeAttribute('value'); label.textContent = t('fld.reset');
  }
}

async function stopMessage(e) {
  const n = (await store.counts()).pending;
  if (e instanceof SyncStop) {
    if (e.kind === 'login') return null;
    if (e.kind === 'expired') {
      // the token pair is dead: forget it (the device, records and outbox stay) so the sign-in form stays up
      await setKv(store.db, { session: undefined });
      showLogin();
      return ['warn', t('fld.stop.expired', { n })];
    }
    if (e.kind === 'revoked') return ['err', t('fld.stop.revoked', { n })];
    if (e.kind === 'outdated') return ['err', t('fld.stop.outdated', { n })];
    if (e.kind === 'gap') return ['err', t('fld.stop.gap')];
    if (e.kind === 'other_user') return ['err', t('fld.stop.other', { user: e.detail })];
    return ['err', t('fld.stop.garbage')];
  }
  if (e instanceof ApiError && e.transient) {
    const s = Math.round(retryWait(e) / 1000);
    if (e.status === 429) return ['warn', t('fld.stop.busy', { s, n })];
    if (e.status >= 500) return ['warn', t('fld.stop.server', { status: e.status, s, n })];
    return ['warn', t('fld.stop.transient')];
  }
  if (e instanceof ApiError) return ['err', e.human()];
  return ['err', String(e && e.message || e)];
}

/** How long to wait before the next try after a failure: the server's Retry-After (1 s to 10 min), else the growing pause. */
function retryWait(e) {
  if (e instanceof ApiError && e.retryAfter != null) return Math.min(600, Math.max(1, e.retryAfter)) * 1000;
  return retryDelay;
}
/** A duration for a person: days, hours or minutes. */
function span(ms) {
  const m = Math.round(ms / 60000);
  if (m >= 2 * 1440) return t('fld.span.d', { n: Math.round(m / 1440) });
  if (m >= 120) return t('fld.span.h', { n: Math.round(m / 60) });
  return t('fld.span.m', { n: m });
}

async function syncNow() {
  clearTimeout(retryTimer);
  const { session } = await kv(store.db, ['session']);
  if (!session || !navigator.onLine) { await status(); return; }
  const btn = $('#sync-now');
  btn.disabled = true; btn.textContent = t('fld.syncing');
  document.body.dataset.sync = 'running';
  // said only once the pages read what was downloaded (below): a link opened on `done` finds it
  let outcome = 'failed';
  try {
    const r = await store.sync(onProgress);
    retryDelay = 30000;
    outcome = 'done';
    const left = (await store.counts()).pending;
    if (r.clockAhead) say($('#msg'), 'warn', t('fld.clock.ahead', { d: span(r.clockAhead), n: left }));
    else if (r.conflicted || r.rejected) say($('#msg'), 'warn', t('fld.done.issues', { c: r.conflicted, r: r.rejected }));
    else if (r.clockBehind) say($('#msg'), 'warn', t('fld.clock.behind', { d: span(r.clockBehind) }));
    else if (r.reset) say($('#msg'), 'ok', t('fld.done.reset', { n: r.pulled }));
    else if (r.pushed || r.pulled) say($('#msg'), 'ok', t('fld.done', r));
    // changes saved while this sync ran go out right after it
    if (left > 0 && !r.clockAhead) syncSoon();
  } catch (e) {
    const m = await stopMessage(e);
    if (m) say($('#msg'), m[0], m[1]);
    if (!(e instanceof SyncStop)) {
      const wait = retryWait(e);
      if (!(e instanceof ApiError && e.retryAfter != null)) retryDelay = Math.min(retryDelay * 2, 600000);
      retryTimer = setTimeout(syncNow, wait);
    }
  } finally {
    document.body.dataset.syncs = String(Number(document.body.dataset.syncs || 0) + 1);
    btn.disabled = false; btn.textContent = t('fld.sync');
    $('#progress-box').hidden = true;
    store.schemas = (await kv(store.db, ['schemas'])).schemas || store.schemas;
    await loadRef();
    await refreshCache();
    await status();
    // an open form is not drawn again: that would lose what the person typed meanwhile
    if ($('#form-view').hidden) route();
    document.body.dataset.sync = outcome;
  }
}
let soon = null;
const syncSoon = () => { clearTimeout(soon); soon = setTimeout(() => { if (navigator.onLine) syncNow(); }, 800); };

async function loadRef() {
  const r = await kv(store.db, ['schemas', 'directory', 'checklists', 'user']);
  if (r.schemas) store.schemas = r.schemas;
  ref = { directory: r.directory || { areas: [], units: [] }, checklists: r.checklists || null };
  user = r.user || null;
  $('#who').textContent = user ? user.display_name + '（' + user.username + '）' : '';
}

// ---- views ----
function showOnly(id) {
  for (const v of ['login-view', 'home-view', 'tickets-view', 'orders-view', 'ticket-view', 'record-view', 'form-view']) $('#' + v).hidden = v !== id;
}
function showLogin() { showOnly('login-view'); if (user) $('#login-user').value = user.username; }

/** Whether the tickets queue is offered: the server syncs tickets and this person handles them (or has some). */
const handlesTickets = () => Boolean(store.schema('ticket')) && (byType('ticket').length > 0 || (user && ['unit_staff', 'unit_admin'].includes(user.role)));
function ticketsTab(pressed) {
  return h('a', { class: 'btn tk', href: '#/tickets', 'aria-pressed': String(pressed), 'data-type': 'ticket' }, t('fld.t.ticket'),
    h('small', { text: String(byType('ticket').filter((x) => !['resolved', 'closed'].includes(x.fields.status)).length) }));
}
/** Whether the orders list is offered: the phone holds hazards with an order, or the person is unit staff. */
const handlesOrders = () => byType('hazard').some(hasOrder) || Boolean(user && ['unit_staff', 'unit_admin'].includes(user.role));
function ordersTab() {
  const open = byType('hazard').filter((x) => hasOrder(x) && x.fields.status !== 'verified').length;
  return h('a', { class: 'btn tk', href: '#/orders', 'aria-pressed': 'false', 'data-type': 'orders' }, t('fld.t.orders'), h('small', { text: String(open) }));
}
function renderHome(type) {
  showOnly('home-view');
  const nav = clear($('#types'));
  if (handlesTickets()) nav.append(ticketsTab(false));
  if (handlesOrders()) nav.append(ordersTab());
  for (const ty of TYPES) {
    nav.append(h('a', { class: 'btn', href: '#/list/' + ty, 'aria-pressed': String(ty === type), 'data-type': ty },
      t('fld.t.' + ty), h('small', { text: String(byType(ty).length) })));
  }
  $('#list-box').hidden = !type;
  if (!type) return;
  $('#new').dataset.type = type;
  const q = $('#q').value.trim().toLowerCase();
  const rows = byType(type).filter((r) => !q || [title(r), areaName(r.fields.area_id), ...Object.values(r.fields).filter((v) => typeof v === 'string')].join(' ').toLowerCase().includes(q));
  $('#count').textContent = rows.length ? t('fld.count', { n: rows.length }) : t('fld.none');
  const list = clear($('#list'));
  const schema = store.schema(type);
  for (const r of rows.slice(0, 200)) {
    const sub = [];
    if (r.record_type !== 'building' || r.fields.area_id) sub.push(areaName(r.fields.area_id));
    for (const k of ['status', 'severity', 'safety_grade', 'grade']) if (r.fields[k]) sub.push(valueLabel(r.fields[k]));
    list.append(h('li', { 'data-id': r.id }, h('a', { href: '#/r/' + r.id }, h('strong', { text: title(r) }),
      h('span', { class: 'meta', text: sub.filter(Boolean).join(' · ') }),
      r.pending ? h('span', { class: 'pending', text: ' ' + t('fld.rec.pending', { n: r.pending }) }) : null)));
  }
  if (!schema) $('#new').hidden = true; else $('#new').hidden = false;
}

/** A project's fund summary (the read-only `fund_summary` record the server syncs to the roles
 *  that may see funds): budget, received and paid in yuan, and the supervision flags. */
function fundBox(f) {
  const yuan = (v) => (v == null ? '—' : Number(v).toLocaleString('en-US') + (lang() === 'en' ? ' yuan' : ' 元'));
  const fl = f.flags || {};
  const flags = [fl.idle && t('fld.fund.idle', { a: Number(fl.idle.amount).toLocaleString('en-US'), d: fl.idle.days }),
    fl.ahead_of_progress && t('fld.fund.ahead', { p: fl.ahead_of_progress.paid_percent, q: fl.ahead_of_progress.progress_percent })].filter(Boolean);
  return h('section', { id: 'rec-funds', class: 'card' }, h('h3', { text: t('fld.fund') }),
    h('dl', { class: 'kv' },
      h('dt', { text: t('fld.fund.budget') }), h('dd', { 'data-fund': 'budget', text: yuan(f.budget) }),
      h('dt', { text: t('fld.fund.received') }), h('dd', { 'data-fund': 'received', text: yuan(f.received) }),
      h('dt', { text: t('fld.fund.paid') }), h('dd', { 'data-fund': 'paid', text: yuan(f.paid) + (f.paid_percent == null ? '' : '（' + f.paid_percent + '%）') }),
      h('dt', { text: t('fld.fund.flags') }), h('dd', { 'data-fund': 'flags', text: flags.length ? flags.join('；') : t('fld.fund.none') })));
}

async function renderRecord(id) {
  const r = [...Object.values(cache)].flat().find((x) => x.id === id);
  if (!r) { location.hash = '#/'; return; }
  showOnly('record-view');
  const schema = store.schema(r.record_type);
  $('#rec-title').textContent = t('fld.t.' + r.record_type) + '：' + title(r);
  $('#rec-back').href = '#/list/' + r.record_type;
  $('#rec-state').textContent = r.pending ? t('fld.rec.pending', { n: r.pending }) : r.server_version == null ? t('fld.rec.local') : t('fld.rec.synced', { v: r.server_version });
  const dl = clear($('#rec-fields'));
  const photos = clear($('#rec-photos'));
  for (const f of schema.fields) {
    const v = r.fields[f.name];
    if (kindOf(f) === 'string_set' && f.kind.string_set.sha256) {
      (v || []).forEach((sha, i) => { const img = h('img', { alt: fieldLabel(f) + ' ' + (i + 1), 'data-sha': sha }); photos.append(img); photoUrl(sha).then((u) => { if (u) img.src = u; }); });
      continue;
    }
    if (f.name === 'checklist' || (r.record_type === 'hazard' && IN_ORDER_BOX.has(f.name))) continue;
    dl.append(h('dt', { text: fieldLabel(f) }), h('dd', { 'data-field': f.name, text: display(f, v) }));
  }
  const issues = clear($('#rec-issues'));
  for (const c of (await store.conflicts()).filter((c) => c.record_id === id)) {
    const f = schema.fields.find((x) => x.name === c.field);
    issues.append(h('div', { class: 'issue', 'data-conflict': c.field },
      h('strong', { text: t('fld.conflict', { field: f ? fieldLabel(f) : c.field }) }),
      h('dl', { class: 'kv' }, h('dt', { text: t('fld.conflict.yours') }), h('dd', { class: 'device-value', text: f ? display(f, c.device_value) : JSON.stringify(c.device_value) }),
        h('dt', { text: t('fld.conflict.server') }), h('dd', { class: 'server-value', text: f ? display(f, c.server_value) : JSON.stringify(c.server_value) }),
        h('dt', { text: t('fld.conflict.kept') }), h('dd', { text: t('fld.conflict.kept.' + c.winner) })),
      mayDecide(f) ? h('div', { class: 'pick' },
        h('button', { type: 'button', class: 'btn', 'data-pick': 'device', text: t('fld.conflict.pick.device'), onclick: () => decideConflict(c, 'device') }),
        h('button', { type: 'button', class: 'btn sec', 'data-pick': 'server', text: t('fld.conflict.pick.server'), onclick: () => decideConflict(c, 'server') }))
        : h('p', { class: 'meta', text: t('fld.conflict.hint') })));
  }
  for (const x of (await store.rejections()).filter((x) => x.record_id === id)) {
    const sent = Object.entries(x.fields || {}).map(([k, v]) => { const f = schema.fields.find((y) => y.name === k); return (f ? fieldLabel(f) : k) + '：' + (f ? display(f, v && v.add ? v.add : v) : JSON.stringify(v)); }).join('；');
    issues.append(h('div', { class: 'issue bad', 'data-rejected': x.code },
      h('strong', { text: t('fld.rejected', { why: lang() === 'en' ? x.message_en : x.message_zh }) }),
      h('p', { class: 'meta', text: t('fld.rejected.sent') + '：' + sent })));
  }
  await renderOrder(ctx, r, user, onHazardAction);
  const edit = $('#rec-edit');
  edit.hidden = schema.create_only;
  edit.onclick = () => { location.hash = '#/edit/' + id; };
  const old = $('#rec-new-hazard'); if (old) old.remove();
  const oldFunds = $('#rec-funds'); if (oldFunds) oldFunds.remove();
  const funds = r.record_type === 'project' && byType('fund_summary').find((x) => x.fields.project_id === id);
  if (funds) $('#rec-fields').after(fundBox(funds.fields));
  if (r.record_type === 'inspection') {
    const q = new URLSearchParams({ inspection_id: id, area_id: r.fields.area_id || '', building_id: r.fields.building_id || '', unit_id: r.fields.unit_id || '' });
    edit.after(h('a', { class: 'btn sec big', id: 'rec-new-hazard', href: '#/new/hazard?' + q, text: t('fld.new.hazard') }));
  }
}

async function showQueue() {
  renderHome(null);
  const nav = $('#types');
  nav.querySelector('a[data-type=ticket]')?.setAttribute('aria-pressed', 'true');
  $('#tickets-view').hidden = false;
  await renderQueue(ctx);
}

async function showOrders() {
  renderHome(null);
  $('#types').querySelector('a[data-type=orders]')?.setAttribute('aria-pressed', 'true');
  $('#orders-view').hidden = false;
  await renderOrders(ctx);
}

/** Queues one step on hazard `hz`'s order as a `hazard_action` record (works offline). */
async function onHazardAction(hz, extra) {
  const fields = { hazard_id: hz.id, unit_id: hz.fields.unit_id, area_id: hz.fields.area_id, acted_at: new Date().toISOString(), ...extra };
  const id = uuidv7();
  await store.enqueue('hazard_action', id, 'upsert', null, fields);
  await noteMine(store.db, id);
  await refreshCache();
  await status();
  say($('#msg'), 'ok', navigator.onLine ? t('fld.saved.sent') : t('fld.ho.saved'));
  await route();
  syncSoon();
}

/** Queues an accept, reply or resolve of `ticket` as a `ticket_action` record (works offline). */
async function onTicketAction(ticket, action, message, photos) {
  const fields = { ticket_id: ticket.id, unit_id: ticket.fields.unit_id, action, acted_at: new Date().toISOString() };
  if (message) fields.message = message;
  if (photos && photos.length) fields.photos = { add: photos, remove: [] };
  await store.enqueue('ticket_action', uuidv7(), 'upsert', null, fields);
  await refreshCache();
  await status();
  say($('#msg'), 'ok', navigator.onLine ? t('fld.saved.sent') : t('fld.tk.saved'));
  await route();
  syncSoon();
}

/** Whether this person may decide a conflict of field `f` (the server checks again: resolve.rs). */
function mayDecide(f) {
  if (!user) return false;
  if (['supervisor', 'admin'].includes(user.role)) return true;
  const pol = f ? (typeof f.policy === 'string' ? f.policy : Object.keys(f.policy)[0]) : 'lww';
  return pol !== 'server_authoritative' && pol !== 'monotonic';
}

/** Decides conflict `c` on the server with the side picked, then drops it here and syncs. */
async function decideConflict(c, pick) {
  if (!navigator.onLine) { say($('#msg'), 'warn', t('fld.conflict.offline')); return; }
  try {
    const open = await store.authed('/api/v1/sync/conflicts?status=all&record_id=' + encodeURIComponent(c.record_id));
    const mine = (open || []).filter((x) => x.field === c.field && x.device_hlc === c.device_hlc);
    const target = mine.find((x) => x.status === 'open');
    if (target) await store.authed('/api/v1/sync/conflicts/' + target.id + '/resolve', { json: { pick } });
    await store.dropConflict(c.key);
    say($('#msg'), 'ok', target ? t('fld.conflict.done') : t('fld.conflict.gone'));
    await syncNow();
  } catch (e) {
    const m = await stopMessage(e);
    if (m) say($('#msg'), m[0], m[1]);
  }
}

function defaults(type) {
  const myUnit = user && ref.directory.units.some((u) => u.id === user.unit_id) ? user.unit_id : undefined;
  const d = { unit_id: myUnit };
  if (type === 'inspection') { d.inspector = user ? user.display_name : ''; d.inspected_at = new Date().toISOString(); }
  if (type === 'hazard') d.status = 'open';
  if (type === 'project') d.status = 'planned';
  return d;
}

function uuidv7() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
  b[6] = (b[6] & 0x0f) | 0x70; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return x.slice(0, 8) + '-' + x.slice(8, 12) + '-' + x.slice(12, 16) + '-' + x.slice(16, 20) + '-' + x.slice(20);
}

function renderForm_(type, id, query) {
  const current = id ? [...Object.values(cache)].flat().find((x) => x.id === id) : null;
  if (id && !current) { location.hash = '#/'; return; }
  const rtype = current ? current.record_type : type;
  const schema = store.schema(rtype);
  if (!schema) { location.hash = '#/'; return; }
  showOnly('form-view');
  $('#form-title').textContent = (current ? t('fld.edit') : t('fld.new')) + ' · ' + t('fld.t.' + rtype);
  $('#form-back').href = current ? '#/r/' + current.id : '#/list/' + rtype;
  const prefill = { ...defaults(rtype) };
  for (const [k, v] of query) if (v) prefill[k] = v;
  renderForm($('#form'), schema, current, prefill, ctx, async (changed) => {
    const fields = {};
    for (const [k, v] of Object.entries(changed)) {
      const f = schema.fields.find((x) => x.name === k);
      if (kindOf(f) === 'string_set') {
        const had = new Set(current ? current.fields[k] || [] : []), want = new Set(v);
        fields[k] = { add: [...want].filter((x) => !had.has(x)), remove: [...had].filter((x) => !want.has(x)) };
      } else fields[k] = v;
    }
    const rid = current ? current.id : uuidv7();
    await store.enqueue(rtype, rid, 'upsert', current ? current.server_version : null, fields);
    await refreshCache();
    await status();
    say($('#msg'), 'ok', navigator.onLine ? t('fld.saved.sent') : t('fld.saved'));
    location.hash = '#/r/' + rid;
    syncSoon();
  });
}

let routeSeq = 0;
async function route() {
  // a later navigation wins: a route still waiting for the store must not paint over it
  const my = ++routeSeq;
  const { session } = await kv(store.db, ['session']);
  if (my !== routeSeq) return;
  if (!session && !$('#login-view').hidden) return;
  if (!session) { showLogin(); return; }
  const [path, qs] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const query = new URLSearchParams(qs || '');
  if (parts[0] === 'list' && TYPES.includes(parts[1])) { await setKv(store.db, { tab: parts[1] }); if (my === routeSeq) renderHome(parts[1]); }
  else if (parts[0] === 'tickets') { await setKv(store.db, { tab: 'tickets' }); if (my === routeSeq) await showQueue(); }
  else if (parts[0] === 'orders') { await setKv(store.db, { tab: 'orders' }); if (my === routeSeq) await showOrders(); }
  else if (parts[0] === 't' && parts[1]) { showOnly('ticket-view'); if (!(await renderTicket(ctx, parts[1], onTicketAction))) location.hash = '#/tickets'; }
  else if (parts[0] === 'r' && parts[1]) await renderRecord(parts[1]);
  else if (parts[0] === 'new' && TYPES.includes(parts[1])) renderForm_(parts[1], null, query);
  else if (parts[0] === 'edit' && parts[1]) renderForm_(null, parts[1], query);
  else {
    const { tab } = await kv(store.db, ['tab']);
    if (my !== routeSeq) return;
    if (tab === 'tickets' || (!tab && handlesTickets())) await showQueue(); else if (tab === 'orders') await showOrders(); else renderHome(tab || 'inspection');
  }
}

async function onLogin(e) {
  e.preventDefault();
  const btn = $('#login-submit');
  if (!navigator.onLine) { say($('#msg'), 'warn', t('fld.login.offline')); return; }
  btn.disabled = true;
  try {
    await store.login($('#login-user').value.trim(), $('#login-pass').value);
    $('#login-pass').value = '';
    say($('#msg'), 'info');
    await loadRef();
    $('#login-view').hidden = true;
    location.hash = '#/';
    await route();
    await syncNow();
  } catch (err) {
    if (err instanceof SyncStop) { const m = await stopMessage(err); if (m) say($('#msg'), m[0], m[1]); }
    else if (err instanceof ApiError && (err.status === 401 || err.status === 400 || err.status === 422)) say($('#msg'), 'err', t('fld.login.bad'));
    else if (err instanceof ApiError && err.code === 'device_revoked') say($('#msg'), 'err', t('fld.stop.revoked', { n: (await store.counts()).pending }));
    else say($('#msg'), 'err', err instanceof ApiError ? err.human() : String(err));
  } finally { btn.disabled = false; }
}

async function logout() {
  const { session } = await kv(store.db, ['session']);
  if (session) { try { await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: session.refresh_token }) }); } catch { /* offline: the token expires */ } }
  // the outbox and the records stay: the next sign-in of the same person carries on
  await setKv(store.db, { session: undefined });
  showLogin();
}

async function main() {
  initLang($('#lang'), () => { status(); route(); });
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/field-sw.js', { scope: '/field' }).catch(() => {});
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  try { store = new FieldStore(await open()); } catch (e) { say($('#msg'), 'err', t('fld.full')); return; }
  await loadRef();
  await refreshCache();
  await status();
  $('#login-form').addEventListener('submit', onLogin);
  $('#logout').addEventListener('click', logout);
  $('#sync-now').addEventListener('click', () => syncNow());
  $('#q').addEventListener('input', () => route());
  $('#new').addEventListener('click', () => { location.hash = '#/new/' + $('#new').dataset.type; });
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => { status(); syncNow(); });
  window.addEventListener('offline', () => status());
  setInterval(() => { if (navigator.onLine && document.visibilityState === 'visible') syncNow(); }, 120000);
  await route();
  document.body.dataset.ready = '1';
  performance.mark('anju-interactive');
  syncNow();
}
main();
