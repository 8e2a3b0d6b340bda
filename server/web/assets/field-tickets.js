// /field for unit staff: "我的工单", the unit's queue by its nearest deadline, and a ticket page
// with accept (受理), reply (答复) and resolve with photos (办结), all of which work offline: each
// is a `ticket_action` record in the outbox, applied by the server's ticket state machine when
// it is sent. The outcome is shown on the ticket: applied, or refused (the console may have
// acted first), from the push answer and the ticket's `device_outcome`.
import { h, clear, say } from './dom.js';
import { t, lang, fmtTime } from './i18n.js';
import { proofPhotos } from './field-form.js';

const OPEN_FOR_ACCEPT = ['dispatched', 'reopened'];
const OPEN_FOR_REPLY = ['accepted', 'reopened', 'escalated', 'dispatched'];
const OPEN_FOR_RESOLVE = ['accepted', 'escalated'];

const ms = (iso) => (iso ? Date.parse(iso) : NaN);

/** The ticket's status once this phone's unanswered actions are counted (accept → accepted, resolve → resolved). */
export function localStatus(ticket, actions) {
  let st = ticket.fields.status;
  for (const a of actions) {
    if (a.outcome) continue; // answered: the pulled ticket says what became of it
    if (a.fields.action === 'accept' && OPEN_FOR_ACCEPT.includes(st)) st = 'accepted';
    if (a.fields.action === 'resolve' && OPEN_FOR_RESOLVE.includes(st)) st = 'resolved';
  }
  return st;
}

/** The deadline that matters next: the response deadline until accepted, then the resolution one; none once resolved. */
export function nextDeadline(f, st = f.status) {
  if (st === 'resolved' || st === 'closed') return null;
  if (OPEN_FOR_ACCEPT.includes(st) && !f.accepted_at) return { kind: 'response', at: f.response_due };
  return { kind: 'resolution', at: f.resolution_due };
}

/**
 * The actions this phone took on ticket `id`, oldest first, each with `state`: `pending` (in the
 * outbox), `sent` (accepted by the push, outcome not pulled yet), `applied` or `refused` (with the
 * state machine's messages).
 */
export function actionsFor(ctx, ticket, rejections) {
  const out = [];
  for (const a of ctx.byType('ticket_action')) {
    if (a.fields.ticket_id !== ticket.id) continue;
    const o = ticket.fields.device_outcome;
    let state = a.pending ? 'pending' : 'sent', refusal = null;
    if (!a.pending && o && o.action_id === a.id) { state = o.outcome === 'refused' ? 'refused' : 'applied'; if (state === 'refused') refusal = o; }
    else if (!a.pending && a.server_version != null) state = 'applied';
    out.push({ id: a.id, fields: a.fields, state, refusal, outcome: state === 'applied' || state === 'refused' ? state : null });
  }
  for (const x of rejections) {
    if (x.record_type !== 'ticket_action' || !x.fields || x.fields.ticket_id !== ticket.id) continue;
    out.push({ id: x.record_id, fields: { ...x.fields, photos: (x.fields.photos && x.fields.photos.add) || [] }, state: 'refused', refusal: x, outcome: 'refused' });
  }
  // the last outcome the server noted, even when its action is no longer on this phone
  const o = ticket.fields.device_outcome;
  if (o && o.action_id && !out.some((a) => a.id === o.action_id)) {
    out.push({ id: o.action_id, fields: { action: o.action, acted_at: o.at }, state: o.outcome === 'refused' ? 'refused' : 'applied', refusal: o.outcome === 'refused' ? o : null, outcome: o.outcome });
  }
  out.sort((a, b) => (a.id < b.id ? -1 : 1));
  return out;
}

const statusText = (st) => t('fld.tk.st.' + st);
const msgOf = (o) => (lang() === 'en' ? o.message_en || o.message_zh : o.message_zh || o.message_en) || '';

/** The queue: open tickets by their nearest deadline (overdue in red first), then the resolved and closed ones. */
export async function renderQueue(ctx) {
  const list = clear(document.querySelector('#tk-list'));
  const rejections = await ctx.store.rejections();
  const now = Date.now();
  const rows = ctx.byType('ticket').map((tk) => {
    const acts = actionsFor(ctx, tk, rejections);
    const st = localStatus(tk, acts);
    const due = nextDeadline(tk.fields, st);
    return { tk, st, due, at: due ? ms(due.at) : Infinity, waiting: acts.filter((a) => a.state === 'pending').length, refused: acts.some((a) => a.state === 'refused') };
  });
  rows.sort((a, b) => a.at - b.at || (a.tk.fields.filed_at < b.tk.fields.filed_at ? 1 : -1));
  // refusals of actions on tickets no longer on this phone (transferred or returned meanwhile)
  const here = new Set(ctx.byType('ticket').map((x) => x.id));
  const gone = clear(document.querySelector('#tk-gone'));
  for (const x of rejections) {
    if (x.record_type !== 'ticket_action' || !x.fields || here.has(x.fields.ticket_id)) continue;
    const what = t('fld.tk.a.' + x.fields.action);
    gone.append(h('div', { class: 'issue bad', 'data-gone': x.fields.ticket_id },
      h('strong', { text: x.code === 'not_your_unit' ? t('fld.tk.gone.unit', { what }) : t('fld.tk.gone', { what, why: msgOf(x) }) }),
      h('p', { class: 'meta', text: fmtTime(x.fields.acted_at) + (x.fields.message ? ' · ' + x.fields.message : '') })));
  }
  document.querySelector('#tk-count').textContent = rows.length ? t('fld.tk.count', { n: rows.filter((r) => r.due).length }) : t('fld.tk.none');
  for (const r of rows) {
    const f = r.tk.fields, over = r.due && r.at < now;
    const dueText = r.due ? t('fld.tk.due.' + r.due.kind, { t: fmtTime(r.due.at) }) + (over ? ' · ' + t('fld.tk.overdue') : '') : statusText(r.st);
    list.append(h('li', { 'data-id': r.tk.id, 'data-status': r.st, 'data-due-at': r.due ? r.due.at : '', class: over ? 'overdue' : null },
      h('a', { href: '#/t/' + r.tk.id },
        h('strong', { text: f.ticket_no + ' · ' + (f.category || '') }),
        h('span', { class: 'meta', text: [f.community, f.address].filter(Boolean).join(' · ') }),
        h('span', { class: 'due', 'data-due': r.due ? r.due.kind : '', text: dueText }),
        r.waiting ? h('span', { class: 'pending', text: ' ' + t('fld.tk.waiting', { n: r.waiting }) }) : null,
        r.refused ? h('span', { class: 'refused', text: ' ' + t('fld.tk.refused.short') }) : null)));
  }
}

function proofBox(p) {
  if (!p) return null;
  const box = h('div', { class: 'issue ' + (p.verified ? 'good' : 'bad'), id: 'tk-proof', 'data-verified': String(p.verified) },
    h('strong', { text: t('fld.tk.proof') + '：' + (lang() === 'en' ? p.label_en : p.label_zh) }));
  const ul = h('ul');
  (p.photos || []).forEach((x, i) => ul.append(h('li', { text: t('fld.photo.n', { n: i + 1 }) + '：' + msgOf(x) })));
  box.append(ul);
  return box;
}

/** The refusal in plain words: the console acted first, the ticket left the unit, or the server's own reason. */
function refusalText(a, ticket) {
  const what = t('fld.tk.a.' + a.fields.action);
  const code = a.refusal && a.refusal.code;
  if (code === 'ticket_not_in_state') return t('fld.tk.refused.state', { what, st: statusText(ticket.fields.status) });
  if (code === 'not_your_unit') return t('fld.tk.refused.unit', { what });
  return t('fld.tk.refused', { what, why: a.refusal ? msgOf(a.refusal) : '' });
}

/** The ticket page: its facts, public replies, this phone's actions and their outcome, and the action forms. */
export async function renderTicket(ctx, id, onAction) {
  const tk = ctx.byType('ticket').find((x) => x.id === id);
  if (!tk) return false;
  const f = tk.fields;
  const acts = actionsFor(ctx, tk, await ctx.store.rejections());
  const st = localStatus(tk, acts);
  document.querySelector('#tk-title').textContent = t('fld.tk.title', { no: f.ticket_no });
  const stEl = document.querySelector('#tk-status');
  stEl.textContent = statusText(st) + (st !== f.status ? ' ' + t('fld.tk.local') : '');
  stEl.dataset.status = st;
  const now = Date.now();
  const due = (iso, done) => h('dd', { class: !done && ms(iso) < now ? 'over' : null, text: fmtTime(iso) + (!done && ms(iso) < now ? ' · ' + t('fld.tk.overdue') : '') });
  const dl = clear(document.querySelector('#tk-fields'));
  const row = (k, v) => { if (v) dl.append(h('dt', { text: t('fld.tk.f.' + k) }), typeof v === 'string' ? h('dd', { 'data-field': k, text: v }) : v); };
  row('category', f.category);
  row('community', f.community);
  row('address', f.address);
  row('description', f.description);
  row('filed_at', fmtTime(f.filed_at));
  row('response_due', due(f.response_due, Boolean(f.accepted_at) || !OPEN_FOR_ACCEPT.includes(f.status)));
  row('resolution_due', due(f.resolution_due, ['resolved', 'closed'].includes(st)));
  if (f.accepted_at) row('accepted_at', fmtTime(f.accepted_at));
  if (f.resolved_at) row('resolved_at', fmtTime(f.resolved_at));
  if (f.resident_phone) row('resident_phone', h('dd', { 'data-field': 'resident_phone' }, h('a', { href: 'tel:' + f.resident_phone, text: f.resident_phone })));
  const rep = clear(document.querySelector('#tk-replies'));
  for (const r of f.replies || []) rep.append(h('li', null, h('span', { class: 'meta', text: fmtTime(r.at) + ' · ' + t('fld.tk.kind.' + r.kind) }), h('p', { text: r.text || '' })));
  document.querySelector('#tk-replies-h').hidden = !(f.replies || []).length;
  const issues = clear(document.querySelector('#tk-issues'));
  const pbox = proofBox(f.proof);
  if (pbox) issues.append(pbox);
  for (const a of acts) {
    const what = t('fld.tk.a.' + a.fields.action);
    const line = a.state === 'refused' ? refusalText(a, tk) : t('fld.tk.state.' + a.state, { what });
    issues.append(h('div', { class: 'issue' + (a.state === 'refused' ? ' bad' : a.state === 'applied' ? ' good' : ''), 'data-action': a.fields.action, 'data-state': a.state },
      h('strong', { text: line }), h('p', { class: 'meta', text: fmtTime(a.fields.acted_at) + (a.fields.message ? ' · ' + a.fields.message : '') })));
  }
  renderActions(ctx, tk, st, onAction);
  return true;
}

function renderActions(ctx, tk, st, onAction) {
  const box = clear(document.querySelector('#tk-actions'));
  const msg = h('div', { class: 'msg', role: 'alert' });
  box.append(msg);
  const send = async (action, message, photos) => {
    try { await onAction(tk, action, message, photos); } catch (e) {
      say(msg, 'err', e && e.name === 'QuotaExceededError' ? t('fld.full') : String(e && e.message || e));
    }
  };
  if (OPEN_FOR_ACCEPT.includes(st)) {
    box.append(h('p', null, h('button', { type: 'button', class: 'btn big', id: 'tk-accept', text: t('fld.tk.do.accept'), onclick: () => send('accept') })));
  }
  if (OPEN_FOR_REPLY.includes(st)) {
    const ta = h('textarea', { id: 'tk-reply-text', maxlength: 2000 });
    const form = h('form', { id: 'tk-reply', class: 'card', novalidate: true }, h('label', { for: 'tk-reply-text', text: t('fld.tk.reply.label') }), ta,
      h('p', null, h('button', { type: 'submit', class: 'btn sec big', text: t('fld.tk.do.reply') })));
    form.onsubmit = (e) => { e.preventDefault(); if (!ta.value.trim()) { say(msg, 'err', t('fld.tk.need.text')); ta.focus(); return; } send('reply', ta.value.trim()); };
    box.append(form);
  }
  if (OPEN_FOR_RESOLVE.includes(st)) {
    const shas = [];
    const ta = h('textarea', { id: 'tk-resolve-text', maxlength: 2000 });
    const err = h('p', { class: 'ferr', 'aria-live': 'polite' });
    const { thumbs, input } = proofPhotos(ctx, { id: 'tk-resolve', shas, err, tooMany: t('fld.tk.photos.max') });
    const form = h('form', { id: 'tk-resolve', class: 'card', novalidate: true },
      h('label', { for: 'tk-resolve-text', text: t('fld.tk.resolve.label') }), ta,
      h('p', null, h('strong', { text: t('fld.tk.resolve.photos') })), h('p', { class: 'meta', text: t('fld.tk.resolve.hint') }), thumbs,
      h('div', { class: 'filebtn' }, input, h('label', { for: 'tk-resolve-photos', class: 'btn sec', text: t('fld.photo.add') })), err,
      h('p', null, h('button', { type: 'submit', class: 'btn big', text: t('fld.tk.do.resolve') })));
    form.onsubmit = (e) => { e.preventDefault(); if (!ta.value.trim()) { say(msg, 'err', t('fld.tk.need.text')); ta.focus(); return; } send('resolve', ta.value.trim(), shas.slice()); };
    box.append(form);
  }
}
