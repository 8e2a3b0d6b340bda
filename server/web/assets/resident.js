// Resident page: file a complaint from a phone, online or not.
import { $, h, clear, say } from './dom.js';
import { t, initLang, lang, name, CITY_TZ } from './i18n.js';
import { request, ApiError } from './api.js';
import { icon } from './icons.js';
import { shrink } from './image.js';

const Outbox = self.AnjuOutbox;
const MAX_PHOTOS = 6;
const DRAFT = 'anju.draft';
const state = { cats: [], areas: [], byId: new Map(), kids: new Map(), lat: null, lon: null, photos: [], busy: false };

const form = $('#form'), desc = $('#desc'), phone = $('#phone');

export function normalisePhone(v) {
  const d = String(v || '').replace(/[\s-]/g, '').replace(/^(\+?86)/, '');
  return d;
}
export const validPhone = (v) => /^1[3-9]\d{9}$/.test(normalisePhone(v));

// ---------- categories ----------
async function loadCategories() {
  const box = $('#cats');
  try {
    state.cats = await request('/api/v1/categories');
  } catch (e) {
    say(box, 'err', t('res.cats.fail'), ' ', h('button', { type: 'button', class: 'btn sec', text: t('common.retry'), onclick: loadCategories }));
    return;
  }
  renderCategories();
}
function renderCategories() {
  const box = $('#cats');
  const chosen = (form.querySelector('input[name=category]:checked') || {}).value || draft().category;
  box.className = 'cats';
  clear(box);
  for (const c of state.cats) {
    const id = 'cat-' + c.code;
    const input = h('input', { type: 'radio', name: 'category', id, value: c.code, required: true });
    if (c.code === chosen) input.checked = true;
    box.append(h('div', { class: 'cat' }, input, h('label', { for: id }, icon(c.icon), h('span', { text: name(c) }))));
  }
  // the form can be used from here on: what weight.mjs reports as "interactive"
  if (performance.mark && !performance.getEntriesByName('anju-interactive').length) performance.mark('anju-interactive');
}

// ---------- areas ----------
async function loadAreas() {
  try {
    state.areas = await request('/api/v1/areas');
  } catch (e) {
    say($('#loc-status'), 'err', t('res.areas.fail'));
    return;
  }
  state.byId = new Map(state.areas.map((a) => [String(a.id), a]));
  state.kids = new Map();
  for (const a of state.areas) {
    const k = a.parent_id == null ? '' : String(a.parent_id);
    if (!state.kids.has(k)) state.kids.set(k, []);
    state.kids.get(k).push(a);
  }
  const d = draft();
  fillSelect($('#district'), state.areas.filter((a) => a.kind === 'district'));
  if (d.area_id) selectArea(String(d.area_id)); else onDistrict();
}
function fillSelect(sel, list, keep) {
  const prev = keep ? sel.value : '';
  clear(sel);
  sel.append(h('option', { value: '', text: t('res.pick') }));
  for (const a of list) sel.append(h('option', { value: String(a.id), text: name(a) }));
  sel.disabled = list.length === 0;
  if (prev && list.some((a) => String(a.id) === prev)) sel.value = prev;
}
const childrenOf = (id, kind) => (state.kids.get(String(id)) || []).filter((a) => !kind || a.kind === kind);
function onDistrict() {
  const d = $('#district').value;
  fillSelect($('#street'), d ? childrenOf(d, 'street') : []);
  fillSelect($('#community'), []);
  changed();
}
function onStreet() {
  const s = $('#street').value;
  fillSelect($('#community'), s ? childrenOf(s, 'community') : []);
  changed();
}
/** Sets the three selects to a community (walking up the tree). */
function selectArea(id) {
  const chain = [];
  let a = state.byId.get(String(id));
  while (a) { chain.unshift(a); a = a.parent_id == null ? null : state.byId.get(String(a.parent_id)); }
  const d = chain.find((x) => x.kind === 'district'), s = chain.find((x) => x.kind === 'street'), c = chain.find((x) => x.kind === 'community');
  if (d) { $('#district').value = String(d.id); fillSelect($('#street'), childrenOf(d.id, 'street')); }
  if (s) { $('#street').value = String(s.id); fillSelect($('#community'), childrenOf(s.id, 'community')); }
  if (c) $('#community').value = String(c.id);
  changed();
}
function inRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
function communityAt(lat, lon) {
  for (const a of state.areas) {
    const p = a.kind === 'community' && a.polygon;
    if (!p || p.type !== 'Polygon' || !p.coordinates || !p.coordinates.length) continue;
    if (inRing(lon, lat, p.coordinates[0]) && !p.coordinates.slice(1).some((hole) => inRing(lon, lat, hole))) return a;
  }
  return null;
}
function locate() {
  const st = $('#loc-status');
  if (!navigator.geolocation) { say(st, 'err', t('res.loc.none')); return; }
  say(st, 'info', t('res.loc.wait'));
  navigator.geolocation.getCurrentPosition((pos) => {
    state.lat = +pos.coords.latitude.toFixed(6);
    state.lon = +pos.coords.longitude.toFixed(6);
    const c = communityAt(state.lat, state.lon);
    if (c) selectArea(c.id);
    say(st, 'ok', t('res.loc.ok'), c ? ' ' + name(c) : ' ' + t('res.loc.server'));
    changed();
  }, (err) => {
    say(st, 'err', err.code === 1 ? t('res.loc.denied') : t('res.loc.fail'));
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

// ---------- similar complaints ----------
let similarSeq = 0;
async function loadSimilar() {
  const cat = (form.querySelector('input[name=category]:checked') || {}).value;
  const area = $('#community').value;
  const sec = $('#similar'), ul = $('#similar-list');
  if (!cat || !area || !navigator.onLine) { sec.hidden = true; return; }
  const seq = ++similarSeq;
  let list;
  try { list = await request('/api/v1/complaints/similar?category=' + encodeURIComponent(cat) + '&area_id=' + encodeURIComponent(area)); }
  catch { list = []; }
  if (seq !== similarSeq) return;
  clear(ul);
  sec.hidden = !list || list.length === 0;
  for (const it of list || []) {
    const msg = h('p', { class: 'msg', role: 'status' });
    const btn = h('button', { type: 'button', class: 'btn sec', text: t('res.metoo') });
    btn.addEventListener('click', () => meToo(it.ticket_no, btn, msg));
    ul.append(h('li', null,
      h('p', { text: it.summary }),
      h('p', { class: 'meta' }, it.ticket_no, ' · ', fmt(it.created_at), ' · ', t('status.' + it.status), ' · ', t('res.supporters', { n: (Number(it.supporters) || 0) + 1 })),
      btn, msg));
  }
}
async function meToo(ticketNo, btn, msg) {
  const body = {};
  if ($('#name').value.trim()) body.name = $('#name').value.trim();
  if (phone.value.trim()) {
    if (!validPhone(phone.value)) { checkPhone(); phone.focus(); return; }
    body.phone = normalisePhone(phone.value);
  }
  btn.disabled = true;
  try {
    const r = await request('/api/v1/complaints/' + encodeURIComponent(ticketNo) + '/support', { json: body, headers: { 'Idempotency-Key': Outbox.uuid() } });
    showDone(r, true);
  } catch (e) {
    say(msg, 'err', e instanceof ApiError ? e.human() : t('err.generic'));
  } finally { btn.disabled = false; }
}

// ---------- photos ----------
async function addPhotos(files) {
  const msg = $('#photo-msg');
  say(msg, 'info');
  for (const f of Array.from(files)) {
    if (state.photos.length >= MAX_PHOTOS) { say(msg, 'warn', t('res.photos.max')); break; }
    try {
      const blob = await shrink(f);
      state.photos.push(blob);
    } catch {
      say(msg, 'err', t('res.photos.bad', { name: f.name }));
    }
  }
  renderThumbs();
}
function renderThumbs() {
  const ul = clear($('#thumbs'));
  state.photos.forEach((b, i) => {
    const url = URL.createObjectURL(b);
    const img = h('img', { src: url, alt: t('res.photo.n', { n: i + 1 }) });
    img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
    ul.append(h('li', null, img, h('button', { type: 'button', class: 'btn sec', text: t('res.photo.remove'), 'aria-label': t('res.photo.remove.n', { n: i + 1 }),
      onclick: () => { state.photos.splice(i, 1); renderThumbs(); $('#photos').focus(); } })));
  });
  $('#photos').disabled = state.photos.length >= MAX_PHOTOS;
}

// ---------- draft (what was typed survives a closed tab) ----------
function draft() { try { return JSON.parse(localStorage.getItem(DRAFT) || '{}'); } catch { return {}; } }
function saveDraft() {
  const d = { category: (form.querySelector('input[name=category]:checked') || {}).value, description: desc.value, address: $('#address').value,
    name: $('#name').value, phone: phone.value, area_id: $('#community').value || null };
  try { localStorage.setItem(DRAFT, JSON.stringify(d)); } catch { /* private mode */ }
}
function restoreDraft() {
  const d = draft();
  desc.value = d.description || '';
  $('#address').value = d.address || '';
  $('#name').value = d.name || '';
  phone.value = d.phone || '';
  count();
}
function changed() { saveDraft(); loadSimilar(); }
function count() { $('#desc-count').textContent = [...desc.value].length + '/2000'; }
function checkPhone() {
  const ok = !phone.value.trim() || validPhone(phone.value);
  phone.setAttribute('aria-invalid', ok ? 'false' : 'true');
  $('#phone-err').textContent = ok ? '' : t('res.phone.bad');
  $('#phone-err').className = ok ? 'hint' : 'hint msg err';
  return ok;
}

// ---------- submit ----------
function collect() {
  const cat = (form.querySelector('input[name=category]:checked') || {}).value;
  const text = desc.value.trim();
  const problems = [];
  if (!cat) problems.push([t('res.err.cat'), form.querySelector('input[name=category]')]);
  const n = [...text].length;
  if (n < 5 || n > 2000) problems.push([t('res.err.desc'), desc]);
  const area = $('#community').value;
  if (!area && state.lat == null) problems.push([t('res.err.where'), $('#district')]);
  if (!checkPhone()) problems.push([t('res.phone.bad'), phone]);
  if (problems.length) return { problems };
  const body = { category: cat, description: text };
  if (area) { const a = state.byId.get(area); body.area_id = a ? a.id : area; } // the id as the API gave it (number or string)
  if (state.lat != null) { body.lat = state.lat; body.lon = state.lon; }
  const addr = $('#address').value.trim(); if (addr) body.address = addr;
  const nm = $('#name').value.trim(); if (nm) body.name = nm;
  if (phone.value.trim()) body.phone = normalisePhone(phone.value);
  return { body };
}
async function submit(ev) {
  ev.preventDefault();
  if (state.busy) return;
  const msg = $('#form-msg');
  const { body, problems } = collect();
  if (problems) {
    say(msg, 'err', problems.map((p) => p[0]).join(' '));
    if (problems[0][1]) problems[0][1].focus();
    return;
  }
  state.busy = true;
  const btn = $('#submit');
  btn.disabled = true;
  say(msg, 'info', t('res.sending'));
  try {
    // Kept on the phone first: from here on, nothing the resident typed can be lost.
    const rec = await Outbox.add(body, state.photos.slice(), lang() === 'en' ? 'en' : 'zh-CN');
    registerSync();
    await Outbox.flush(true).catch(() => {});
    const now = await Outbox.get(rec.id);
    if (now && now.state === 'sent') {
      now.seen = true; await Outbox.put(now);
      resetForm(); say(msg, 'info');
      showDone(now.result, false);
    } else if (now && now.state === 'failed') {
      await Outbox.del(rec.id); // the form still holds everything; the resident corrects and resends
      say(msg, 'err', failText(now.error));
    } else {
      resetForm();
      say(msg, 'warn', queuedText(now && now.error));
      $('#outbox').scrollIntoView({ block: 'start' });
    }
  } catch (e) {
    // No IndexedDB on this browser (some private modes): send straight away. The form keeps
    // everything until the server has answered, and a second tap reuses the same key.
    try {
      const r = await sendDirect(body);
      resetForm(); say(msg, 'info');
      showDone(r, false);
    } catch (err) {
      say(msg, 'err', err instanceof ApiError ? err.human() : t('res.store.fail'));
    }
  } finally {
    state.busy = false; btn.disabled = false;
    renderOutbox(); schedule();
  }
}
async function sendDirect(body) {
  state.directKey = state.directKey || (Outbox ? Outbox.uuid() : crypto.randomUUID());
  const ids = [];
  for (const b of state.photos) ids.push((await request('/api/v1/uploads', { body: b, headers: { 'Content-Type': b.type || 'image/jpeg' } })).id);
  const r = await request('/api/v1/complaints', { json: ids.length ? { ...body, photos: ids } : body, headers: { 'Idempotency-Key': state.directKey } });
  state.directKey = null;
  return r;
}
function queuedText(err) {
  const s = err ? err.status : 0;
  return s === 429 ? t('res.queued.429') : s >= 500 ? t('res.queued.5xx') : t('res.queued');
}
function failText(err) {
  if (!err) return t('err.generic');
  if (err.status === 429) return t('err.429');
  if (err.status >= 500 || err.status === 0) return t('err.5xx');
  const extra = err.errors ? Object.entries(err.errors).map(([k, v]) => k + ': ' + (Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : JSON.stringify(v))).join('; ') : '';
  return [err.title || t('err.generic'), err.detail, extra].filter(Boolean).join(' — ');
}
function resetForm() {
  form.reset();
  state.photos = []; state.lat = null; state.lon = null;
  renderThumbs(); count();
  localStorage.removeItem(DRAFT);
  $('#loc-status').textContent = '';
  $('#similar').hidden = true;
  onDistrict();
}
function showDone(r, support) {
  $('#done').hidden = false;
  form.hidden = true;
  $('#done-h').textContent = support ? t('res.done.support') : t('res.done');
  $('#done-code').textContent = r.tracking_code;
  $('#done-link').href = '/t/' + encodeURIComponent(r.tracking_code);
  const unit = r.unit ? name(r.unit) : '';
  $('#done-unit').textContent = [unit && t('res.done.unit', { unit }), r.resolution_due && t('res.done.due', { due: fmt(r.resolution_due) })].filter(Boolean).join(' ');
  $('#done').focus();
}
async function copyCode() {
  const code = $('#done-code').textContent;
  try { await navigator.clipboard.writeText(code); }
  catch {
    const r = document.createRange(); r.selectNodeContents($('#done-code'));
    const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r);
    try { document.execCommand('copy'); } catch { /* the text is selected; the resident can copy it */ }
  }
  $('#copy-msg').textContent = t('res.copied');
}

// ---------- outbox list ----------
async function renderOutbox() {
  let recs = [];
  try { recs = await Outbox.all(); } catch { return; }
  recs.sort((a, b) => b.created - a.created);
  const shown = recs.filter((r) => r.state !== 'sent' || (Date.now() - r.created) < 90 * 864e5).slice(0, 10);
  const ul = clear($('#outbox-list'));
  $('#outbox').hidden = shown.length === 0;
  for (const r of shown) {
    const li = h('li', { dataset: { state: r.state, id: r.id } });
    const summary = h('p', { text: r.body.description.length > 80 ? r.body.description.slice(0, 80) + '…' : r.body.description });
    if (r.state === 'pending') {
      li.append(h('span', { class: 'badge warn', text: t('res.waiting') }), summary,
        h('p', { class: 'meta', text: (r.attempts ? queuedText(r.error) + ' ' + t('res.attempts', { n: r.attempts }) : t('res.waiting.hint')) }),
        h('button', { type: 'button', class: 'btn sec', text: t('res.retry.now'), onclick: () => sendWaiting(true) }));
    } else if (r.state === 'sent') {
      const code = r.result && r.result.tracking_code;
      li.append(h('span', { class: 'badge ok', text: t('res.sent') }), summary,
        h('p', null, t('res.code') + ' ', h('a', { class: 'sent-code', href: '/t/' + encodeURIComponent(code), text: code })));
    } else {
      li.append(h('span', { class: 'badge bad', text: t('res.failed') }), summary,
        h('p', { class: 'msg err', text: failText(r.error) }),
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'btn sec', text: t('res.edit'), onclick: () => editFailed(r) }),
          h('button', { type: 'button', class: 'btn sec', text: t('res.discard'), onclick: () => Outbox.del(r.id).then(renderOutbox) })));
    }
    ul.append(li);
  }
}
async function editFailed(r) {
  form.hidden = false; $('#done').hidden = true;
  desc.value = r.body.description || ''; $('#address').value = r.body.address || '';
  $('#name').value = r.body.name || ''; phone.value = r.body.phone || '';
  const c = form.querySelector('input[name=category][value="' + CSS.escape(r.body.category || '') + '"]'); if (c) c.checked = true;
  if (r.body.area_id != null) selectArea(String(r.body.area_id));
  if (r.body.lat != null) { state.lat = r.body.lat; state.lon = r.body.lon; }
  state.photos = (r.photos || []).slice(); renderThumbs(); count(); saveDraft();
  await Outbox.del(r.id);
  renderOutbox();
  say($('#form-msg'), 'err', failText(r.error));
  desc.focus();
}

// ---------- sending in the background ----------
let timer = null;
async function schedule() {
  clearTimeout(timer);
  let due = null;
  try { due = await Outbox.nextDue(); } catch { return; }
  if (due == null) return;
  timer = setTimeout(() => { if (navigator.onLine !== false) sendWaiting(false); else schedule(); },
    Math.max(1000, due - Date.now()));
}
function registerSync() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready.then((reg) => reg.sync && reg.sync.register('anju-outbox')).catch(() => {});
}
function netBanner() {
  const b = $('#net');
  b.hidden = navigator.onLine !== false;
  b.textContent = t('res.offline');
}

function fmt(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN', { timeZone: CITY_TZ, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// ---------- wiring ----------
initLang($('#lang'), () => { renderCategories(); fillSelect($('#district'), state.areas.filter((a) => a.kind === 'district'), true);
  const d = $('#district').value, s = $('#street').value;
  fillSelect($('#street'), d ? childrenOf(d, 'street') : [], true);
  fillSelect($('#community'), s ? childrenOf(s, 'community') : [], true);
  renderThumbs(); renderOutbox(); netBanner(); loadSimilar(); });
restoreDraft();
form.addEventListener('submit', submit);
form.addEventListener('change', (e) => { if (e.target.name === 'category') changed(); });
form.addEventListener('input', saveDraft);
desc.addEventListener('input', count);
phone.addEventListener('blur', checkPhone);
$('#district').addEventListener('change', onDistrict);
$('#street').addEventListener('change', onStreet);
$('#community').addEventListener('change', changed);
$('#locate').addEventListener('click', locate);
$('#photos').addEventListener('change', (e) => { addPhotos(e.target.files).finally(() => { e.target.value = ''; }); });
$('#copy').addEventListener('click', copyCode);
$('#again').addEventListener('click', () => { $('#done').hidden = true; form.hidden = false; desc.focus(); });
$('#trackform').addEventListener('submit', (e) => {
  e.preventDefault();
  const code = $('#trackcode').value.trim().toUpperCase().replace(/\s+/g, '');
  if (code) location.href = '/t/' + encodeURIComponent(code);
});
const sendWaiting = (force) => Outbox.flush(force).catch(() => {}).then(() => { renderOutbox(); schedule(); });
addEventListener('online', () => { netBanner(); sendWaiting(true); });
addEventListener('offline', netBanner);
document.addEventListener('visibilitychange', () => { if (!document.hidden && navigator.onLine) sendWaiting(false); });
try { new BroadcastChannel('anju-outbox').onmessage = () => renderOutbox(); } catch { /* no BroadcastChannel */ }
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
  navigator.serviceWorker.addEventListener('message', (e) => { if (e.data && e.data.type === 'outbox') renderOutbox(); });
}
netBanner();
loadCategories();
loadAreas();
renderOutbox().then(() => { if (navigator.onLine) sendWaiting(false); });
document.documentElement.dataset.ready = '1';
