// The rectification order on a hazard's register page: its state (status, round, deadline,
// overdue, pending extension), the actions taken and the clock's reminders and escalations, and
// the office actions (rectify with a photo, verify with a photo, return with a reason, request
// and decide an extension). Each action is POST /api/v1/registers/hazard/{id}/actions, which the
// server applies under the same rules as a device's hazard_action (docs/rectification.md); a
// refusal shows its reason. Photos are uploaded by hash first (PUT /api/v1/attachments/{sha256}).
// Its own file: it watches the record's field list, the page script stays as it is.
import { $, h, clear, say } from './dom.js';
import { t, extend, lang } from './i18n.js';
import { ApiError } from './api.js';
import { api } from './auth.js';

extend({
  zh: {
    'ord.h': '整改通知', 'ord.status': '整改状态', 'ord.round': '整改轮次', 'ord.deadline': '整改期限',
    'ord.overdue': '已超期', 'ord.pending': '申请延期至', 'ord.returned': '退回原因', 'ord.actions': '处理记录',
    'ord.clock': '催办与督办', 'ord.none': '暂无', 'ord.note': '说明', 'ord.photo': '照片',
    'ord.rectify': '标记已整改', 'ord.verify': '复核通过', 'ord.return': '退回整改', 'ord.ask': '申请延期',
    'ord.approve': '批准延期', 'ord.refuse': '不批准延期', 'ord.date': '申请延期至', 'ord.done': '已办理',
    'ord.a.rectify': '已整改', 'ord.a.verify': '复核通过', 'ord.a.return': '退回', 'ord.a.request_extension': '申请延期',
    'ord.a.decide_extension': '延期审批', 'ord.k.reminder': '催办', 'ord.k.escalation': '督办（超期）',
    'ord.s.open': '待整改', 'ord.s.rectified': '已整改（待复核）', 'ord.s.verified': '已复核',
    'ord.proof': '整改照片核验', 'ord.proof.m': '{m} 米',
  },
  en: {
    'ord.h': 'Rectification order', 'ord.status': 'Status', 'ord.round': 'Round', 'ord.deadline': 'Deadline',
    'ord.overdue': 'Overdue', 'ord.pending': 'Extension asked until', 'ord.returned': 'Returned because', 'ord.actions': 'Actions',
    'ord.clock': 'Reminders and escalations', 'ord.none': 'None', 'ord.note': 'Note', 'ord.photo': 'Photo',
    'ord.rectify': 'Mark rectified', 'ord.verify': 'Verify', 'ord.return': 'Send back', 'ord.ask': 'Ask for more time',
    'ord.approve': 'Approve the extension', 'ord.refuse': 'Refuse the extension', 'ord.date': 'New deadline', 'ord.done': 'Done',
    'ord.a.rectify': 'Rectified', 'ord.a.verify': 'Verified', 'ord.a.return': 'Sent back', 'ord.a.request_extension': 'Extension asked',
    'ord.a.decide_extension': 'Extension decided', 'ord.k.reminder': 'Reminder', 'ord.k.escalation': 'Escalation (overdue)',
    'ord.s.open': 'Open', 'ord.s.rectified': 'Rectified (to check)', 'ord.s.verified': 'Verified',
    'ord.proof': 'Rectification photo check', 'ord.proof.m': '{m} m',
  },
});

const HAZARD = /^#\/hazard\/([0-9a-f-]{36})$/;

async function sha256(buf) {
  const d = await crypto.subtle.digest('SHA-256', buf);
  return Array.from(new Uint8Array(d)).map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function upload(file) {
  const buf = await file.arrayBuffer();
  const sha = await sha256(buf);
  await api('/api/v1/attachments/' + sha, { method: 'PUT', body: buf, headers: { 'Content-Type': file.type || 'image/jpeg' } });
  return sha;
}

function box() {
  let el = $('#rec-order');
  if (el) return el;
  el = h('section', { id: 'rec-order', class: 'card', 'aria-labelledby': 'rec-order-h' });
  const title = $('#rec-title');
  title.after(el);
  return el;
}

function actionForm(id, action, parts, msg) {
  const note = h('textarea', { name: 'note', 'aria-label': t('ord.note') });
  const photo = parts.photo ? h('input', { type: 'file', name: 'photo', accept: 'image/*', 'aria-label': t('ord.photo') }) : null;
  const date = parts.date ? h('input', { type: 'date', name: 'requested_deadline', 'aria-label': t('ord.date') }) : null;
  const form = h('form', { class: 'order-action', dataset: { action } },
    h('h4', { text: t(parts.label) }),
    photo ? h('label', null, t('ord.photo') + ' ', photo) : null,
    date ? h('label', null, t('ord.date') + ' ', date) : null,
    h('label', null, t('ord.note') + ' ', note),
    h('p', null, h('button', { type: 'submit', class: 'btn sec', text: t(parts.label) })));
  form.onsubmit = async (e) => {
    e.preventDefault();
    const body = { action, note: note.value.trim() || null };
    try {
      if (photo && photo.files[0]) body.photos = [await upload(photo.files[0])];
      if (date && date.value) body.requested_deadline = date.value;
      if (parts.decision) body.decision = parts.decision;
      await api(`/api/v1/registers/hazard/${id}/actions`, { json: body });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
      say($('#msg'), 'ok', t('ord.done'));
    } catch (err) { say(msg, 'err', err instanceof ApiError ? err.human() : t('err.generic')); }
  };
  return form;
}

async function render(id) {
  let o;
  try { o = await api(`/api/v1/registers/hazard/${id}/order`); } catch { return; }
  const el = clear(box());
  const msg = h('p', { class: 'msg', role: 'status' });
  const kv = h('dl', { class: 'kv' },
    h('dt', { text: t('ord.status') }), h('dd', { dataset: { orderStatus: o.status }, text: t('ord.s.' + o.status) }),
    h('dt', { text: t('ord.round') }), h('dd', { text: String(o.round + 1) }),
    h('dt', { text: t('ord.deadline') }), h('dd', null, o.deadline || '—', o.overdue ? h('span', null, ' ', h('span', { class: 'badge bad', text: t('ord.overdue') })) : null));
  if (o.extension_requested) kv.append(h('dt', { text: t('ord.pending') }), h('dd', { text: o.extension_requested }));
  if (o.return_reason) kv.append(h('dt', { text: t('ord.returned') }), h('dd', { text: o.return_reason }));
  if (o.proof) {
    // the server's check of the rectification photos (EXIF time and position); staff see the distance, never a position
    const msgOf = (p) => (lang() === 'en' ? p.message_en : p.message_zh);
    kv.append(h('dt', { text: t('ord.proof') }), h('dd', { id: 'order-proof', dataset: { verified: String(o.proof.verified) } },
      h('span', { class: 'badge ' + (o.proof.verified ? 'ok' : 'bad'), text: lang() === 'en' ? o.proof.label_en : o.proof.label_zh }),
      h('ul', { class: 'plain' }, ...(o.proof.photos || []).map((p, i) => h('li', { text: (i + 1) + '. ' + msgOf(p) + (p.distance_m != null && p.reason !== 'too_far' ? '（' + t('ord.proof.m', { m: Math.round(p.distance_m) }) + '）' : '') })))));
  }
  const when = (s) => new Date(s).toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai' });
  const acts = h('ol', { class: 'timeline', id: 'order-actions' }, ...o.actions.map((a) => h('li', { dataset: { action: a.action } },
    h('strong', { text: t('ord.a.' + a.action) }), ' ', h('span', { class: 'meta', text: when(a.acted_at) }),
    a.note ? h('p', { text: a.note }) : null, a.requested_deadline ? h('p', { text: a.requested_deadline }) : null)));
  if (!o.actions.length) acts.append(h('li', { class: 'meta', text: t('ord.none') }));
  const clock = h('ul', { class: 'list' }, ...o.clock_events.map((c) => h('li', null, t('ord.k.' + c.kind) + ' · ' + c.deadline + (c.day !== '-' ? ' · ' + c.day : ''))));
  if (!o.clock_events.length) clock.append(h('li', { class: 'meta', text: t('ord.none') }));
  const forms = h('div', { class: 'grid2' });
  if (o.status === 'open') {
    forms.append(actionForm(id, 'rectify', { label: 'ord.rectify', photo: true }, msg));
    if (o.deadline && !o.extension_requested) forms.append(actionForm(id, 'request_extension', { label: 'ord.ask', date: true }, msg));
  }
  if (o.status === 'rectified') {
    forms.append(actionForm(id, 'verify', { label: 'ord.verify', photo: true }, msg));
    forms.append(actionForm(id, 'return', { label: 'ord.return' }, msg));
  }
  if (o.extension_requested) {
    forms.append(actionForm(id, 'decide_extension', { label: 'ord.approve', decision: 'approve' }, msg));
    forms.append(actionForm(id, 'decide_extension', { label: 'ord.refuse', decision: 'refuse' }, msg));
  }
  el.append(h('h3', { id: 'rec-order-h', text: t('ord.h') + (o.order_no ? ' · ' + o.order_no : '') }), kv,
    h('h4', { text: t('ord.actions') }), acts, h('h4', { text: t('ord.clock') }), clock, forms, msg);
}

const fields = $('#rec-fields');
if (fields) {
  new MutationObserver(() => {
    const m = HAZARD.exec(location.hash);
    const old = $('#rec-order');
    if (!m) { if (old) old.remove(); return; }
    if (fields.children.length) render(m[1]);
  }).observe(fields, { childList: true });
}
