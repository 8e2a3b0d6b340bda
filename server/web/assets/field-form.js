// Create and edit forms generated from the served schemas (GET /api/v1/sync/schemas): the
// control per field kind, required marks, limits, pickers by name for areas, units, buildings,
// projects and inspections, GPS capture, camera photos, and the served inspection checklist.
// The form never loses what was typed: a refusal marks the field and keeps every value.
import { h, clear, say } from './dom.js';
import { t } from './i18n.js';
import { shrink } from './image.js';
import { kindOf, kindArgs } from './field-sync.js';
import { fieldLabel, valueLabel } from './field-text.js';

/** The largest proof photo kept as taken (the server takes attachments up to 10 MB). */
export const MAX_ORIGINAL = 10 * 1024 * 1024;
/** Photo fields whose photos are proof: kept as taken, with their EXIF time and position. */
export const PROOF_FIELDS = new Set(['rectification_photos']);

/**
 * A proof photo as taken: the file's own bytes (a canvas re-encode would drop the EXIF time and
 * position the server checks). Rejects with Error('too_large') over MAX_ORIGINAL and
 * Error('not_image') when it is not a JPEG, PNG or WebP that the browser can decode.
 */
export async function original(file) {
  if (file.size > MAX_ORIGINAL) throw new Error('too_large');
  if (!/^image\/(jpeg|png|webp)$/.test(file.type || '')) throw new Error('not_image');
  try { const b = await createImageBitmap(file); if (b.close) b.close(); } catch { throw new Error('not_image'); }
  return new Blob([await file.arrayBuffer()], { type: file.type });
}

/**
 * A picker of proof photos (kept as taken, see `original`): the thumbnails `#{id}-thumbs`, each
 * with a remove button, and the camera/file input `#{id}-photos`. It fills `shas` (the caller
 * sends them) with at most `max` photos; a refusal (too many: the text `tooMany`; not an image;
 * over 10 MB; storage full) is said in `err` and adds nothing.
 */
export function proofPhotos(ctx, { id, shas, err, tooMany, max = 6 }) {
  const thumbs = h('ul', { class: 'thumbs', id: id + '-thumbs' });
  const input = h('input', { type: 'file', id: id + '-photos', accept: 'image/*', capture: 'environment', multiple: true });
  const redraw = () => {
    clear(thumbs);
    shas.forEach((sha, i) => {
      const img = h('img', { alt: t('fld.photo.n', { n: i + 1 }), 'data-sha': sha });
      ctx.photoUrl(sha).then((u) => { if (u) img.src = u; });
      thumbs.append(h('li', null, img, h('button', { type: 'button', class: 'btn sec', text: t('fld.photo.remove', { n: i + 1 }), onclick: () => { shas.splice(i, 1); redraw(); } })));
    });
  };
  input.addEventListener('change', async () => {
    err.textContent = '';
    for (const file of input.files) {
      if (shas.length >= max) { err.textContent = tooMany; break; }
      try {
        const sha = await ctx.store.addPhoto(await original(file));
        if (!shas.includes(sha)) shas.push(sha);
      } catch (e) {
        err.textContent = e && e.name === 'QuotaExceededError' ? t('fld.full') : e && e.message === 'too_large' ? t('fld.photo.big', { name: file.name }) : t('fld.photo.bad', { name: file.name });
      }
    }
    input.value = '';
    redraw();
  });
  redraw();
  return { thumbs, input };
}

/** Fields the form leaves out: the checklist pair is one section; these are the server's or the office's. */
const HIDDEN = new Set(['checklist', 'checklist_findings']);
const OFFICE_ONLY = new Set(['deadline']);
/**
 * A hazard's fields that only its rectification order's actions write (docs/rectification.md):
 * the server refuses a direct edit of them (`hazard_status_by_action`), so the form never offers
 * them; a new hazard starts open.
 */
const ORDER_OWNED = new Set(['status', 'round', 'rectified_at', 'verified_at', 'return_reason', 'extension_requested', 'verification_photos', 'rectification_proof']);

const pad = (n) => String(n).padStart(2, '0');
function toLocalInput(iso) {
  const d = iso ? new Date(iso) : new Date();
  if (isNaN(d)) return '';
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
}
/** `YYYY-MM-DDTHH:MM` in the phone's time → RFC 3339 with the phone's offset. */
function fromLocalInput(v) {
  const d = new Date(v);
  if (isNaN(d)) return null;
  const off = -d.getTimezoneOffset(), sign = off >= 0 ? '+' : '-', a = Math.abs(off);
  return v + ':00' + sign + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
}

/** The choices of a picker field: [[id, label]]. */
export function choices(name, ctx) {
  if (name === 'area_id') return ctx.directory.areas.filter((a) => a.kind !== 'city').map((a) => [a.id, ctx.areaName(a.id)]);
  if (name === 'unit_id') return ctx.directory.units.map((u) => [u.id, ctx.unitName(u.id)]);
  if (name === 'building_id') return ctx.byType('building').map((r) => [r.id, r.fields.address || r.id]);
  if (name === 'project_id') return ctx.byType('project').map((r) => [r.id, r.fields.name || r.id]);
  if (name === 'inspection_id') return ctx.byType('inspection').map((r) => [r.id, ctx.title(r)]);
  return null;
}

function control(f, id, value, ctx, editing) {
  const kind = kindOf(f), args = kindArgs(f);
  const locked = editing && f.policy === 'server_authoritative';
  const opt = (v, label, sel) => h('option', { value: v, text: label, selected: sel });
  if (kind === 'uuid') {
    const list = choices(f.name, ctx) || [];
    if (value && !list.some(([v]) => v === value)) list.unshift([value, ctx.nameOf(f.name, value)]);
    return h('select', { id, disabled: locked }, opt('', f.required ? t('fld.pick') : t('fld.none.opt'), !value), ...list.map(([v, l]) => opt(v, l, v === value)));
  }
  if (kind === 'enum') return h('select', { id, disabled: locked }, opt('', f.required ? t('fld.pick') : t('fld.none.opt'), value == null), ...f.kind.enum.map((v) => opt(v, valueLabel(v), v === value)));
  if (kind === 'bool') return h('input', { type: 'checkbox', id, checked: value === true });
  if (kind === 'date') return h('input', { type: 'date', id, value: value || '' });
  if (kind === 'timestamp') return h('input', { type: 'datetime-local', id, value: value ? toLocalInput(value) : '' });
  if (kind === 'integer') return h('input', { type: 'number', id, inputmode: 'numeric', step: 1, min: args.min, max: args.max, value: value ?? '' });
  if (kind === 'decimal') return h('input', { type: 'number', id, inputmode: 'decimal', step: 'any', min: args.min, max: args.max, value: value ?? '' });
  if (kind === 'text') {
    const attrs = { id, maxlength: args.max_chars };
    return args.max_chars > 300 ? h('textarea', attrs, value || '') : h('input', { type: 'text', ...attrs, value: value || '' });
  }
  return null;
}

/**
 * Renders the form of `schema` into `form`. `current` is the record shown (edit) or null (create),
 * `prefill` initial values for a create. Resolves nothing; calls `onSave(fields, photosAdded)`
 * with the changed fields (sets as arrays of the wanted elements) after the checks pass.
 */
export function renderForm(form, schema, current, prefill, ctx, onSave) {
  clear(form);
  const values = { ...(current ? current.fields : prefill || {}) };
  const editing = Boolean(current);
  const sets = {};
  const fieldsShown = schema.fields.filter((f) => !HIDDEN.has(f.name) && !(OFFICE_ONLY.has(f.name) && !editing)
    && !(schema.name === 'hazard' && ORDER_OWNED.has(f.name)));
  const msg = h('div', { class: 'msg', role: 'alert' });
  form.append(msg);
  const errs = {};
  for (const f of fieldsShown) {
    const id = 'f-' + f.name, kind = kindOf(f);
    const label = h('label', { for: id }, fieldLabel(f), f.required ? h('span', { class: 'req', text: '*', 'aria-label': t('fld.required') }) : null);
    const err = h('p', { class: 'ferr', id: id + '-err', 'aria-live': 'polite' });
    errs[f.name] = err;
    if (kind === 'string_set' && kindArgs(f).sha256) {
      sets[f.name] = [...(values[f.name] || [])];
      const thumbs = h('ul', { class: 'thumbs', id: id + '-thumbs' });
      const input = h('input', { type: 'file', id, accept: 'image/*', capture: 'environment', multiple: true });
      const redraw = () => {
        clear(thumbs);
        sets[f.name].forEach((sha, i) => {
          const li = h('li', null, h('img', { alt: t('fld.photo.n', { n: i + 1 }), 'data-sha': sha }));
          ctx.photoUrl(sha).then((u) => { if (u) li.firstChild.src = u; });
          const had = (current && (current.fields[f.name] || []).includes(sha));
          if (!had) li.append(h('button', { type: 'button', class: 'btn sec', text: t('fld.photo.remove', { n: i + 1 }), onclick: () => { sets[f.name].splice(i, 1); redraw(); } }));
          thumbs.append(li);
        });
      };
      input.addEventListener('change', async () => {
        for (const file of input.files) {
          try {
            const blob = PROOF_FIELDS.has(f.name) ? await original(file) : await shrink(file);
            const sha = await ctx.store.addPhoto(blob);
            if (!sets[f.name].includes(sha)) sets[f.name].push(sha);
          } catch (e) {
            say(err, 'err', e && e.name === 'QuotaExceededError' ? t('fld.full') : e && e.message === 'too_large' ? t('fld.photo.big', { name: file.name }) : t('fld.photo.bad', { name: file.name }));
          }
        }
        input.value = '';
        redraw();
      });
      redraw();
      form.append(h('div', { class: 'field', 'data-field': f.name }, h('p', null, h('strong', { text: fieldLabel(f) })), thumbs,
        h('div', { class: 'filebtn' }, input, h('label', { for: id, class: 'btn sec', text: t('fld.photo.add') })), err));
      continue;
    }
    const el = control(f, id, values[f.name], ctx, editing);
    if (!el) continue;
    el.setAttribute('aria-describedby', id + '-err');
    if (f.required) el.setAttribute('aria-required', 'true');
    form.append(h('div', { class: 'field', 'data-field': f.name }, label, el, err));
    if (f.name === 'building_id' && schema.fields.some((x) => x.name === 'area_id')) {
      // choosing a building fills in its area
      el.addEventListener('change', () => {
        const b = ctx.byType('building').find((r) => r.id === el.value);
        const area = form.querySelector('#f-area_id');
        if (b && area && !area.disabled && !area.value) area.value = b.fields.area_id || '';
      });
    }
  }
  if (schema.fields.some((f) => f.name === 'gps_lat')) {
    const out = h('span', { class: 'meta', 'aria-live': 'polite' });
    const btn = h('button', { type: 'button', class: 'btn sec', id: 'gps', text: t('fld.gps') });
    btn.addEventListener('click', () => {
      if (!navigator.geolocation) { out.textContent = t('fld.gps.none'); return; }
      out.textContent = t('fld.gps.wait');
      navigator.geolocation.getCurrentPosition((p) => {
        form.querySelector('#f-gps_lat').value = p.coords.latitude.toFixed(6);
        form.querySelector('#f-gps_lng').value = p.coords.longitude.toFixed(6);
        out.textContent = t('fld.gps.ok', { m: Math.round(p.coords.accuracy) });
      }, () => { out.textContent = t('fld.gps.fail'); }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });
    const lat = form.querySelector('[data-field=gps_lat]');
    if (lat) lat.before(h('div', { class: 'gps' }, btn, out));
  }
  // the checklist served by the server: one row per item, ticked when it is a problem
  let checklistItems = null;
  if (schema.fields.some((f) => f.name === 'checklist')) {
    const cl = ctx.checklistFor(values);
    if (!cl) form.append(h('p', { class: 'meta', text: t('fld.checklist.none') }));
    else {
      checklistItems = cl.items;
      const answers = values.checklist || {};
      const box = h('fieldset', { id: 'checklist' }, h('legend', { text: t('fld.checklist', { name: ctx.pick(cl, 'name') }) }));
      cl.items.forEach((it, i) => {
        const id = 'ck-' + i;
        box.append(h('div', { class: 'check' }, h('input', { type: 'checkbox', id, 'data-item': it.id, checked: answers[it.id] === 'problem' }),
          h('label', { for: id }, ctx.pick(it, 'label'), ' ', h('span', { class: 'meta', text: '（' + t('fld.checklist.problem') + '）' }))));
      });
      const findings = form.querySelector('[data-field=findings]');
      if (findings) findings.before(box); else form.append(box);
    }
  }
  form.append(h('p', null, h('button', { type: 'submit', class: 'btn big', id: 'save', text: t('fld.save') })));

  form.onsubmit = async (e) => {
    e.preventDefault();
    for (const k of Object.keys(errs)) errs[k].textContent = '';
    const out = {};
    let bad = null;
    const fail = (f, text) => { errs[f.name].textContent = text; bad = bad || f.name; };
    for (const f of fieldsShown) {
      const kind = kindOf(f), args = kindArgs(f), label = fieldLabel(f);
      let v;
      if (kind === 'string_set') v = [...(sets[f.name] || [])].sort();
      else {
        const el = form.querySelector('#f-' + f.name);
        if (!el || el.disabled) continue;
        if (kind === 'bool') v = el.checked;
        else {
          const raw = el.value.trim();
          if (raw === '') v = null;
          else if (kind === 'integer') v = Number(raw);
          else if (kind === 'decimal') v = Number(raw);
          else if (kind === 'timestamp') v = fromLocalInput(raw);
          else v = kind === 'text' ? el.value : raw;
        }
      }
      if (f.required && (v === null || v === '')) { fail(f, t('fld.err.required', { field: label })); continue; }
      if (kind === 'text' && v && [...v].length > args.max_chars) fail(f, t('fld.err.long', { field: label, n: args.max_chars }));
      if ((kind === 'integer' || kind === 'decimal') && v !== null && (!Number.isFinite(v) || v < args.min || v > args.max || (kind === 'integer' && !Number.isInteger(v)))) fail(f, t('fld.err.range', { field: label, min: args.min, max: args.max }));
      out[f.name] = v;
    }
    if (checklistItems) {
      const answers = {}, problems = [];
      for (const box of form.querySelectorAll('#checklist input[data-item]')) {
        const it = checklistItems.find((x) => x.id === box.dataset.item);
        answers[box.dataset.item] = box.checked ? 'problem' : 'ok';
        if (box.checked && it) problems.push(String(it.label_zh).slice(0, 100));
      }
      out.checklist = answers;
      out.checklist_findings = problems.sort();
    }
    if (bad) {
      say(msg, 'err', t('fld.err.form'));
      const el = form.querySelector('#f-' + bad);
      if (el) el.focus();
      return;
    }
    // an edit sends only what changed; a create leaves out what is empty
    const changed = {};
    for (const [k, v] of Object.entries(out)) {
      const before = current ? current.fields[k] : undefined;
      if (!current) { if (v !== null && !(Array.isArray(v) && v.length === 0)) changed[k] = v; continue; }
      if (JSON.stringify(v ?? null) !== JSON.stringify(before ?? (Array.isArray(v) ? [] : null))) changed[k] = v;
    }
    if (!current && schema.name === 'hazard') changed.status = 'open';
    if (current && !Object.keys(changed).length) { say(msg, 'info', t('fld.nochange')); return; }
    try { await onSave(changed); } catch (err) {
      say(msg, 'err', err && err.name === 'QuotaExceededError' ? t('fld.full') : String(err && err.message || err));
    }
  };
}
