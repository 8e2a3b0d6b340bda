// /field: a hazard's rectification order (整改通知) on the phone. The order's facts (number,
// deadline with the days left or overdue, responsible unit and person, round, status, the
// server's check of the rectification photos) on the hazard's page, the actions the person's
// role may take (the unit: 标记已整改 with photos kept as taken, 申请延期; an inspector or a
// supervisor: 复核通过 with photos, 退回整改 with the reason; a supervisor: 延期审批), each saved
// offline as a `hazard_action` record in the outbox and applied by the server's rules when sent
// (docs/rectification.md); a refusal stays on the hazard with the reason and what was entered.
// And "我的整改通知": the orders on the phone by deadline.
import { h, clear, say } from './dom.js';
import { t, extend, lang, fmtTime } from './i18n.js';
import { proofPhotos } from './field-form.js';
import { kv, setKv } from './field-db.js';

extend({
  zh: {
    'fld.t.orders': '整改通知', 'fld.ho.list': '我的整改通知', 'fld.ho.count': '待办 {n} 件，按整改期限排列', 'fld.ho.none': '目前没有整改通知。',
    'fld.ho.h': '整改通知', 'fld.ho.no': '通知书编号', 'fld.ho.issued': '下发日期', 'fld.ho.deadline': '整改期限', 'fld.ho.unit': '责任单位',
    'fld.ho.person': '责任人', 'fld.ho.round': '整改轮次', 'fld.ho.status': '整改状态', 'fld.ho.ext': '申请延期至', 'fld.ho.returned': '退回原因',
    'fld.ho.left': '还剩 {n} 天', 'fld.ho.today': '今天到期', 'fld.ho.over': '已超期 {n} 天', 'fld.ho.round.n': '第 {n} 轮',
    'fld.ho.local': '（本机操作，待发送）', 'fld.ho.proof': '整改照片核验', 'fld.ho.st.open': '待整改', 'fld.ho.st.rectified': '已整改（待复核）',
    'fld.ho.st.verified': '已核验（复核通过）', 'fld.ho.a.rectify': '标记已整改', 'fld.ho.a.verify': '复核通过', 'fld.ho.a.return': '退回整改',
    'fld.ho.a.request_extension': '申请延期', 'fld.ho.a.decide_extension': '延期审批', 'fld.ho.approve': '批准延期', 'fld.ho.refuse': '不批准',
    'fld.ho.state.pending': '{what}：已保存在本机，待发送', 'fld.ho.state.sent': '{what}：已发送', 'fld.ho.state.applied': '{what}：已生效',
    'fld.ho.refused': '{what}未生效：{why}', 'fld.ho.refused.again': '填写的内容和照片已保留在下面的表单中，可修改后重新提交。',
    'fld.ho.refused.kept': '填写的内容和照片仍保存在本机，没有丢失。',
    'fld.ho.note.rectify': '整改情况说明', 'fld.ho.note.verify': '复核意见', 'fld.ho.note.return': '退回原因（必填）',
    'fld.ho.note.request_extension': '延期理由（必填）', 'fld.ho.note.decide_extension': '审批意见', 'fld.ho.date': '申请延期至',
    'fld.ho.photos.rectify': '整改照片（必须，至少 1 张）', 'fld.ho.photos.verify': '现场核查照片（必须，至少 1 张）',
    'fld.ho.photos.hint': '请用相机现场拍摄：照片原样上传，服务器据拍摄时间和位置核验。', 'fld.ho.photos.max': '最多 6 张照片。',
    'fld.ho.need.photos': '请至少附 1 张照片。', 'fld.ho.need.note': '请填写原因。', 'fld.ho.need.date': '请选择申请延期至的日期（须晚于 {d}）。',
    'fld.ho.saved': '已保存在本机，有网络时自动发送。', 'fld.ho.none.act': '您的角色在当前状态下没有可办理的操作。',
  },
  en: {
    'fld.t.orders': 'Orders', 'fld.ho.list': 'My rectification orders', 'fld.ho.count': '{n} to do, by deadline', 'fld.ho.none': 'No rectification orders.',
    'fld.ho.h': 'Rectification order', 'fld.ho.no': 'Order number', 'fld.ho.issued': 'Issued on', 'fld.ho.deadline': 'Deadline', 'fld.ho.unit': 'Responsible unit',
    'fld.ho.person': 'Responsible person', 'fld.ho.round': 'Round', 'fld.ho.status': 'Status', 'fld.ho.ext': 'Extension asked until', 'fld.ho.returned': 'Returned because',
    'fld.ho.left': '{n} days left', 'fld.ho.today': 'due today', 'fld.ho.over': '{n} days overdue', 'fld.ho.round.n': 'round {n}',
    'fld.ho.local': '(on this phone, not sent yet)', 'fld.ho.proof': 'Rectification photo check', 'fld.ho.st.open': 'Open', 'fld.ho.st.rectified': 'Rectified (to be checked)',
    'fld.ho.st.verified': 'Verified', 'fld.ho.a.rectify': 'Mark rectified', 'fld.ho.a.verify': 'Verify', 'fld.ho.a.return': 'Send back',
    'fld.ho.a.request_extension': 'Ask for more time', 'fld.ho.a.decide_extension': 'Extension decision', 'fld.ho.approve': 'Approve', 'fld.ho.refuse': 'Refuse',
    'fld.ho.state.pending': '{what}: saved on this phone, not sent yet', 'fld.ho.state.sent': '{what}: sent', 'fld.ho.state.applied': '{what}: done',
    'fld.ho.refused': '{what} was refused: {why}', 'fld.ho.refused.again': 'What you entered and the photos are kept in the form below; change it and send again.',
    'fld.ho.refused.kept': 'What you entered and the photos are still on this phone.',
    'fld.ho.note.rectify': 'What was done', 'fld.ho.note.verify': 'Check notes', 'fld.ho.note.return': 'Reason (required)',
    'fld.ho.note.request_extension': 'Reason (required)', 'fld.ho.note.decide_extension': 'Decision notes', 'fld.ho.date': 'New deadline',
    'fld.ho.photos.rectify': 'Rectification photos (at least 1)', 'fld.ho.photos.verify': 'Photos of the check (at least 1)',
    'fld.ho.photos.hint': 'Take them with the camera on site: they are sent as taken and checked by their time and position.', 'fld.ho.photos.max': 'At most 6 photos.',
    'fld.ho.need.photos': 'Add at least one photo.', 'fld.ho.need.note': 'Write the reason.', 'fld.ho.need.date': 'Pick the date asked for (after {d}).',
    'fld.ho.saved': 'Saved on this phone; it is sent when there is a network.', 'fld.ho.none.act': 'Your role has no action on the order in this state.',
  },
});

const DAY = 86400000;
const UNIT_ROLES = ['unit_staff', 'unit_admin'];
const CHECKERS = ['inspector', 'supervisor'];
const msgOf = (o) => (lang() === 'en' ? o.message_en || o.message_zh : o.message_zh || o.message_en) || '';
const what = (a) => t('fld.ho.a.' + a);

/** Whether a hazard carries an order (a deadline or an order number). */
export const hasOrder = (r) => Boolean(r.fields.deadline || r.fields.order_no);

/** Days from today (the phone's date) to the deadline date: negative when overdue. */
export function daysLeft(deadline, now = Date.now()) {
  if (!deadline) return null;
  const d = new Date(now);
  const today = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  const [y, m, dd] = deadline.split('-').map(Number);
  return Math.round((Date.UTC(y, m - 1, dd) - today) / DAY);
}
const leftText = (n) => (n > 0 ? t('fld.ho.left', { n }) : n === 0 ? t('fld.ho.today') : t('fld.ho.over', { n: -n }));

/** This phone's actions on hazard `id`, oldest first: pending (outbox), sent, applied, or refused (with the server's reason). */
export function actionsOn(ctx, id, rejections) {
  const out = [];
  for (const a of ctx.byType('hazard_action')) {
    if (a.fields.hazard_id !== id) continue;
    out.push({ id: a.id, fields: a.fields, state: a.pending ? 'pending' : a.server_version == null ? 'sent' : 'applied' });
  }
  for (const x of rejections) {
    if (x.record_type !== 'hazard_action' || !x.fields || x.fields.hazard_id !== id) continue;
    out.push({ id: x.record_id, fields: x.fields, state: 'refused', refusal: x });
  }
  out.sort((a, b) => (a.id < b.id ? -1 : 1));
  return out;
}

/** The order as the phone shows it: the pulled hazard with this phone's unanswered actions on top. */
export function localOrder(hz, acts) {
  const f = hz.fields;
  const o = { status: f.status || 'open', extension: f.extension_requested || null, local: false };
  for (const a of acts) {
    if (a.state !== 'pending' && a.state !== 'sent') continue; // applied: the pulled hazard says it
    const k = a.fields.action;
    if (k === 'rectify' && o.status === 'open') o.status = 'rectified';
    else if (k === 'verify' && o.status === 'rectified') o.status = 'verified';
    else if (k === 'return' && o.status === 'rectified') o.status = 'open';
    else if (k === 'request_extension' && !o.extension) o.extension = a.fields.requested_deadline;
    else if (k === 'decide_extension') o.extension = null;
    else continue;
    o.local = true;
  }
  return o;
}

function proofBox(p) {
  if (!p) return null;
  const ul = h('ul');
  (p.photos || []).forEach((x, i) => ul.append(h('li', { text: t('fld.photo.n', { n: i + 1 }) + '：' + msgOf(x) })));
  return h('div', { class: 'issue ' + (p.verified ? 'good' : 'bad'), id: 'ho-proof', 'data-verified': String(p.verified) },
    h('strong', { text: t('fld.ho.proof') + '：' + (lang() === 'en' ? p.label_en : p.label_zh) }), ul);
}

/** Notes that this phone took action `id` (so a refusal it supersedes loses its "kept" note). */
export async function noteMine(db, id) {
  const had = (await kv(db, ['my_hazard_actions'])).my_hazard_actions || [];
  await setKv(db, { my_hazard_actions: had.concat(id).slice(-500) });
}

/** The orders on the phone: open ones by deadline (overdue first, in red), then the verified ones. */
export async function renderOrders(ctx) {
  const list = clear(document.querySelector('#ho-list'));
  const rejections = await ctx.store.rejections();
  const rows = ctx.byType('hazard').filter(hasOrder).map((hz) => {
    const acts = actionsOn(ctx, hz.id, rejections);
    const o = localOrder(hz, acts);
    const done = o.status === 'verified';
    return { hz, o, done, left: done ? null : daysLeft(hz.fields.deadline), waiting: acts.filter((a) => a.state === 'pending').length, refused: acts.some((a) => a.state === 'refused') };
  });
  const key = (r) => (r.done ? Infinity : r.left == null ? 1e9 : r.left);
  rows.sort((a, b) => key(a) - key(b) || ((a.hz.fields.deadline || '') < (b.hz.fields.deadline || '') ? -1 : 1));
  document.querySelector('#ho-count').textContent = rows.length ? t('fld.ho.count', { n: rows.filter((r) => !r.done).length }) : t('fld.ho.none');
  for (const r of rows) {
    const f = r.hz.fields, over = r.left != null && r.left < 0;
    const due = f.deadline ? t('fld.ho.deadline') + ' ' + f.deadline + (r.left != null ? ' · ' + leftText(r.left) : '') : '';
    list.append(h('li', { 'data-id': r.hz.id, 'data-status': r.o.status, 'data-deadline': f.deadline || '', class: over ? 'overdue' : null },
      h('a', { href: '#/r/' + r.hz.id },
        h('strong', { text: (f.order_no ? f.order_no + ' · ' : '') + (f.description || '').slice(0, 40) }),
        h('span', { class: 'meta', text: [ctx.unitName(f.unit_id), f.responsible_person, t('fld.ho.st.' + r.o.status)].filter(Boolean).join(' · ') }),
        due ? h('span', { class: 'due', text: due }) : null,
        r.waiting ? h('span', { class: 'pending', text: ' ' + t('fld.tk.waiting', { n: r.waiting }) }) : null,
        r.refused ? h('span', { class: 'refused', text: ' ' + t('fld.tk.refused.short') }) : null)));
  }
}

/**
 * The order box on hazard `hz`'s page (`#rec-order`): its facts, the verdict on its
 * rectification photos, this phone's actions and their outcome, and the forms of the actions
 * the person's role may take. `onAction(hz, fields)` queues one `hazard_action`.
 */
export async function renderOrder(ctx, hz, user, onAction) {
  const box = clear(document.querySelector('#rec-order'));
  if (!hz || hz.record_type !== 'hazard') { box.hidden = true; return; }
  box.hidden = false;
  const f = hz.fields;
  const acts = actionsOn(ctx, hz.id, await ctx.store.rejections());
  const mine = new Set((await kv(ctx.store.db, ['my_hazard_actions'])).my_hazard_actions || []);
  const o = localOrder(hz, acts);
  const left = o.status === 'verified' ? null : daysLeft(f.deadline);
  const dl = h('dl', { class: 'kv', id: 'ho-fields' });
  const row = (k, v, attrs) => { if (v) dl.append(h('dt', { text: t('fld.ho.' + k) }), h('dd', { 'data-field': k, ...(attrs || {}) }, v)); };
  row('no', f.order_no);
  row('status', t('fld.ho.st.' + o.status) + (o.local ? ' ' + t('fld.ho.local') : ''), { 'data-status': o.status });
  row('deadline', f.deadline ? f.deadline + (left != null ? ' · ' + leftText(left) : '') : null, { class: left != null && left < 0 ? 'over' : null, 'data-left': left == null ? '' : String(left) });
  row('issued', f.order_issued_on);
  row('unit', ctx.unitName(f.unit_id) || f.unit_id);
  row('person', f.responsible_person);
  row('round', t('fld.ho.round.n', { n: (f.round || 0) + 1 }));
  row('ext', o.extension);
  row('returned', o.status === 'open' ? f.return_reason : null);
  box.append(h('h3', { text: t('fld.ho.h') }), dl);
  const pb = o.status !== 'open' ? proofBox(f.rectification_proof) : null;
  if (pb) box.append(pb);
  const role = user ? user.role : '';
  const offered = [];
  if (UNIT_ROLES.includes(role) && o.status === 'open') {
    offered.push(['rectify', { photos: true }]);
    if (f.deadline && !o.extension) offered.push(['request_extension', { date: f.deadline, needNote: true }]);
  }
  if (CHECKERS.includes(role) && o.status === 'rectified') offered.push(['verify', { photos: true }], ['return', { needNote: true }]);
  if (['supervisor', 'admin'].includes(role) && o.extension) offered.push(['decide_extension', { decision: true }]);
  // the outcome of each action (a refusal stays, with what was entered until a later step of its kind)
  for (const a of acts) {
    const later = acts.some((b) => b.id > a.id && b.fields.action === a.fields.action && (b.state !== 'applied' || mine.has(b.id)));
    const line = a.state === 'refused' ? t('fld.ho.refused', { what: what(a.fields.action), why: msgOf(a.refusal) }) : t('fld.ho.state.' + a.state, { what: what(a.fields.action) });
    const shas = a.fields.photos ? a.fields.photos.add || a.fields.photos : [];
    const thumbs = h('ul', { class: 'thumbs' });
    if (a.state === 'refused') {
      shas.forEach((sha, i) => { const img = h('img', { alt: t('fld.photo.n', { n: i + 1 }), 'data-sha': sha }); ctx.photoUrl(sha).then((u) => { if (u) img.src = u; }); thumbs.append(h('li', null, img)); });
    }
    const again = offered.some(([k]) => k === a.fields.action);
    box.append(h('div', { class: 'issue' + (a.state === 'refused' ? ' bad' : a.state === 'applied' ? ' good' : ''), 'data-action': a.fields.action, 'data-state': a.state, 'data-code': a.refusal ? a.refusal.code : null },
      h('strong', { text: line }),
      h('p', { class: 'meta', text: fmtTime(a.fields.acted_at) + (a.fields.note ? ' · ' + a.fields.note : '') + (a.fields.requested_deadline ? ' · ' + a.fields.requested_deadline : '') }),
      a.state === 'refused' && !later ? thumbs : null,
      a.state === 'refused' && !later ? h('p', { class: 'meta', text: t(again ? 'fld.ho.refused.again' : 'fld.ho.refused.kept') }) : null));
  }
  const refusedLast = (kind) => { const r = acts.filter((a) => a.fields.action === kind); const last = r[r.length - 1]; return last && last.state === 'refused' ? last.fields : null; };
  const msg = h('div', { class: 'msg', role: 'alert' });
  const forms = h('div', { id: 'ho-actions' }, msg);
  const send = async (fields) => {
    try { await onAction(hz, fields); } catch (e) { say(msg, 'err', e && e.name === 'QuotaExceededError' ? t('fld.full') : String(e && e.message || e)); }
  };
  for (const [kind, opts] of offered) forms.append(actionForm(ctx, kind, opts, refusedLast(kind), send));
  if (forms.children.length === 1 && hasOrder(hz)) forms.append(h('p', { class: 'meta', text: t('fld.ho.none.act') }));
  box.append(forms);
}

function actionForm(ctx, kind, opts, kept, send) {
  const id = 'ho-' + kind;
  const shas = kept && kept.photos ? [...(kept.photos.add || kept.photos)] : [];
  const note = h('textarea', { id: id + '-note', maxlength: 4000 });
  if (kept && kept.note) note.value = kept.note;
  const err = h('p', { class: 'ferr', 'aria-live': 'polite' });
  const form = h('form', { id, class: 'card', novalidate: true, 'data-action': kind }, h('h4', { text: what(kind) }));
  let date = null;
  if (opts.date) {
    date = h('input', { type: 'date', id: id + '-date', min: opts.date });
    if (kept && kept.requested_deadline) date.value = kept.requested_deadline;
    form.append(h('label', { for: id + '-date', text: t('fld.ho.date') }), date);
  }
  form.append(h('label', { for: id + '-note', text: t('fld.ho.note.' + kind) }), note);
  if (opts.photos) {
    const { thumbs, input } = proofPhotos(ctx, { id, shas, err, tooMany: t('fld.ho.photos.max') });
    form.append(h('p', null, h('strong', { text: t('fld.ho.photos.' + kind) })), h('p', { class: 'meta', text: t('fld.ho.photos.hint') }), thumbs,
      h('div', { class: 'filebtn' }, input, h('label', { for: id + '-photos', class: 'btn sec', text: t('fld.photo.add') })));
  }
  form.append(err);
  const submit = (decision) => {
    err.textContent = '';
    const fields = { action: kind };
    const text = note.value.trim();
    if (text) fields.note = text;
    if (opts.photos) {
      if (!shas.length) { err.textContent = t('fld.ho.need.photos'); return; }
      fields.photos = { add: shas.slice(), remove: [] };
    }
    if (opts.needNote && !text) { err.textContent = t('fld.ho.need.note'); note.focus(); return; }
    if (date) {
      if (!date.value || date.value <= opts.date) { err.textContent = t('fld.ho.need.date', { d: opts.date }); date.focus(); return; }
      fields.requested_deadline = date.value;
    }
    if (decision) fields.decision = decision;
    send(fields);
  };
  if (opts.decision) {
    form.append(h('p', { class: 'pick' },
      h('button', { type: 'button', class: 'btn big', 'data-decision': 'approve', text: t('fld.ho.approve'), onclick: () => submit('approve') }),
      h('button', { type: 'button', class: 'btn sec big', 'data-decision': 'refuse', text: t('fld.ho.refuse'), onclick: () => submit('refuse') })));
  } else {
    form.append(h('p', null, h('button', { type: 'submit', class: 'btn big', text: what(kind) })));
  }
  form.onsubmit = (e) => { e.preventDefault(); submit(null); };
  return form;
}
