// Tracking page /t/{code}: the resident's view of one complaint, and confirm or dispute.
import { $, h, clear, say } from './dom.js';
import { t, initLang, name, fmtTime, extend } from './i18n.js';
import { request, ApiError } from './api.js';

// A supporter ("me too") follows someone else's report: a redacted summary, no photos.
extend({
  zh: { 'trk.joined': '您加入的问题', 'trk.privacy': '为保护投诉人隐私，这里只显示隐去电话、门牌等信息的摘要，不显示投诉人的照片。' },
  en: { 'trk.joined': 'The report you joined', 'trk.privacy': 'To protect the reporter\'s privacy you see a summary without phone or room numbers, and none of their photos.' },
});

let code = decodeURIComponent(location.pathname.replace(/^\/t\/?/, '')).trim();
let view = null;

function showLookup() { $('#lookup').hidden = false; }

async function load() {
  if (!code) {
    const q = new URLSearchParams(location.search).get('code');
    if (q && q.trim()) { location.replace('/t/' + encodeURIComponent(q.trim().toUpperCase())); return; }
    showLookup(); $('#code').focus(); return;
  }
  try {
    view = await request('/api/v1/track/' + encodeURIComponent(code));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) { say($('#msg'), 'err', t('trk.notfound')); document.title = t('trk.notfound'); showLookup(); return; }
    say($('#msg'), 'err', e instanceof ApiError ? e.human() : t('err.generic'), ' ',
      h('button', { type: 'button', class: 'btn sec', text: t('common.retry'), onclick: () => { say($('#msg'), 'info'); load(); } }));
    return;
  }
  render();
}

function photoList(urls) {
  return (urls || []).map((u, i) => h('a', { href: u, target: '_blank', rel: 'noopener' },
    h('img', { src: u, alt: t('res.photo.n', { n: i + 1 }), loading: 'lazy' })));
}

/** 已核验 / 未核验 with the reason of each photo. */
function proofNote(p) {
  const en = document.documentElement.lang === 'en';
  const reasons = (p.photos || []).filter((x) => !x.verified).map((x) => (en ? x.message_en : x.message_zh));
  return h('p', { class: 'proof' },
    h('span', { class: 'badge ' + (p.verified ? 'ok' : 'warn'), text: en ? p.label_en : p.label_zh }),
    reasons.length ? h('span', { class: 'meta', text: ' ' + [...new Set(reasons)].join('；') }) : '');
}

function render() {
  const v = view;
  $('#view').hidden = false;
  $('#status').textContent = t('status.' + v.status);
  $('#status').className = 'badge ' + ({ closed: 'ok', resolved: 'ok', escalated: 'bad', reopened: 'warn' }[v.status] || 'info');
  $('#ticketno').textContent = t('trk.no') + ' ' + v.ticket_no;
  $('#status-words').textContent = t('statusw.' + v.status);
  $('#category').textContent = v.category ? name(v.category) : '';
  $('#where').textContent = [v.area && name(v.area), v.address].filter(Boolean).join(' · ');
  $('#unit').textContent = v.unit ? name(v.unit) : t('trk.nounit');
  $('#created').textContent = fmtTime(v.created_at);
  $('#respdue').textContent = fmtTime(v.response_due);
  $('#resdue').textContent = fmtTime(v.resolution_due);
  $('#supporters').textContent = t('res.supporters', { n: (Number(v.supporters) || 0) + 1 });
  const supporter = v.viewer === 'supporter';
  const heading = $('#description').previousElementSibling;
  if (heading) { heading.dataset.i18n = supporter ? 'trk.joined' : 'trk.report'; heading.textContent = t(heading.dataset.i18n); }
  clear($('#description')).append(v.description || '');
  if (supporter) $('#description').append(h('span', { class: 'meta', id: 'privacy-note', text: ' ' + t('trk.privacy') }));
  clear($('#photos')).append(...(supporter ? [] : photoList(v.photos)));

  const tl = clear($('#timeline'));
  let proofShown = false;
  for (const ev of [...(v.timeline || [])].reverse()) {
    const li = h('li', null,
      h('strong', { text: t('ev.' + ev.kind) }), ' ', h('time', { class: 'meta', datetime: ev.at, text: fmtTime(ev.at) }));
    if (ev.text) li.append(h('p', { text: ev.text }));
    if (ev.new_due) li.append(h('p', { text: t('trk.newdue', { due: fmtTime(ev.new_due) }) }));
    if (ev.reason) li.append(h('p', { class: 'meta', text: t('trk.reason') + ev.reason }));
    if (ev.photos && ev.photos.length) li.append(h('div', { class: 'photos' }, ...photoList(ev.photos)));
    // The verdict on the latest resolution's photos (never where they were taken).
    if (ev.kind === 'resolved' && !proofShown && v.proof) { li.append(proofNote(v.proof)); proofShown = true; }
    tl.append(li);
  }

  $('#rate').hidden = !v.can_rate;
  const rated = $('#rated');
  rated.hidden = !v.rating;
  if (v.rating) {
    clear(rated).append(h('p', null, h('strong', { text: t('trk.yourrating') }), ' ', '★'.repeat(v.rating.stars) + '☆'.repeat(5 - v.rating.stars),
      h('span', { class: 'sr', text: ' ' + v.rating.stars + '/5' })));
    if (v.rating.comment) rated.append(h('p', { text: v.rating.comment }));
  }
}

function buildStars() {
  const fs = $('#stars');
  const keep = (fs.querySelector('input:checked') || {}).value;
  for (const l of fs.querySelectorAll('label')) l.remove();
  for (let i = 1; i <= 5; i++) {
    const input = h('input', { type: 'radio', name: 'rating', value: String(i), id: 'star' + i });
    if (keep === String(i)) input.checked = true;
    fs.append(h('label', { for: 'star' + i }, input, h('span', { 'aria-hidden': 'true', text: '★' }), h('span', { text: t('trk.star', { n: i }) })));
  }
}

async function rate(e) {
  e.preventDefault();
  const action = e.submitter && e.submitter.value === 'dispute' ? 'dispute' : 'confirm';
  const stars = Number(($('#stars').querySelector('input:checked') || {}).value || 0);
  const comment = $('#comment').value.trim();
  const msg = $('#rate-msg');
  if (!stars) { say(msg, 'err', t('trk.err.stars')); $('#star1').focus(); return; }
  if (action === 'dispute' && !comment) { say(msg, 'err', t('trk.err.comment')); $('#comment').focus(); return; }
  const body = { rating: stars };
  if (comment) body.comment = comment;
  for (const b of e.target.querySelectorAll('button')) b.disabled = true;
  try {
    view = await request('/api/v1/track/' + encodeURIComponent(code) + '/' + action, { json: body });
    say(msg, 'info');
    $('#comment').value = '';
    render();
    say($('#msg'), 'ok', action === 'confirm' ? t('trk.thanks') : t('trk.disputed'));
    $('#msg').scrollIntoView({ block: 'center' });
  } catch (err) {
    say(msg, 'err', err instanceof ApiError ? err.human() : t('err.generic'));
  } finally {
    for (const b of e.target.querySelectorAll('button')) b.disabled = false;
  }
}

$('#lookup').addEventListener('submit', (e) => {
  e.preventDefault();
  const c = $('#code').value.trim().toUpperCase().replace(/\s+/g, '');
  if (c) location.href = '/t/' + encodeURIComponent(c);
});
$('#rateform').addEventListener('submit', rate);
initLang($('#lang'), () => { buildStars(); if (view) render(); });
buildStars();
load();
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
