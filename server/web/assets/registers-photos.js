// Photos on the register record page, staff only: a field holding photo hashes (64 hex
// characters each) shows as thumbnails fetched with the staff token from
// /api/v1/attachments/{sha256}/thumbnail; a thumbnail opens the full photo in a dialog.
// Its own file: it watches the record's field list, the page script stays as it is.
import { $, h, clear } from './dom.js';
import { t, extend } from './i18n.js';

extend({
  zh: { 'pho.open': '查看原图：{n}', 'pho.close': '关闭', 'pho.failed': '照片无法显示' },
  en: { 'pho.open': 'Open the full photo: {n}', 'pho.close': 'Close', 'pho.failed': 'The photo cannot be shown' },
});

const HASH = /^[0-9a-f]{64}$/;
const urls = new Map(); // path → blob URL, for this page's life

async function blobUrl(path) {
  if (urls.has(path)) return urls.get(path);
  const sess = JSON.parse(sessionStorage.getItem('anju.session') || 'null');
  const res = await fetch(path, { headers: { Authorization: 'Bearer ' + (sess && sess.access_token) } });
  if (!res.ok) throw new Error('HTTP ' + res.status);
  const url = URL.createObjectURL(await res.blob());
  urls.set(path, url);
  return url;
}

function viewer() {
  let d = $('#photo-dialog');
  if (d) return d;
  d = h('dialog', { id: 'photo-dialog', class: 'photo-dialog' },
    h('img', { alt: '' }), h('p', null, h('button', { type: 'button', class: 'btn sec', text: t('pho.close'), onclick: () => d.close() })));
  document.body.append(d);
  return d;
}

async function open(hash, n) {
  const d = viewer();
  const img = d.querySelector('img');
  img.alt = t('pho.open', { n });
  try { img.src = await blobUrl(`/api/v1/attachments/${hash}`); } catch { img.alt = t('pho.failed'); }
  if (!d.open) d.showModal();
}

function enhance(dd) {
  if (dd.dataset.photos) return;
  const hashes = dd.textContent.split(';').map((x) => x.trim()).filter(Boolean);
  if (!hashes.length || !hashes.every((x) => HASH.test(x))) return;
  dd.dataset.photos = String(hashes.length);
  const list = h('ul', { class: 'thumbs' });
  hashes.forEach((hash, i) => {
    const img = h('img', { alt: t('pho.open', { n: i + 1 }), width: '88', height: '88', dataset: { sha256: hash } });
    blobUrl(`/api/v1/attachments/${hash}/thumbnail`).then((u) => { img.src = u; }, () => { img.alt = t('pho.failed'); });
    list.append(h('li', null, h('button', { type: 'button', class: 'thumb', 'aria-label': t('pho.open', { n: i + 1 }), onclick: () => open(hash, i + 1) }, img)));
  });
  clear(dd).append(list);
}

const fields = $('#rec-fields');
if (fields) {
  new MutationObserver(() => fields.querySelectorAll('dd[data-field]').forEach(enhance)).observe(fields, { childList: true });
}
