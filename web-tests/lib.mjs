// Shared helpers for the browser tests: Debian's Chromium through playwright-core, the base URL
// and credentials from the environment, and small API helpers for setting up and checking.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const BASE = (process.env.ANJU_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const PHOTO = path.join(FIXTURES, 'site.jpg');
export const NOT_IMAGE = path.join(FIXTURES, 'not-an-image.jpg');
export const creds = {
  unit: { user: process.env.ANJU_UNIT_USER, password: process.env.ANJU_UNIT_PASSWORD },
  supervisor: { user: process.env.ANJU_SUPERVISOR_USER, password: process.env.ANJU_SUPERVISOR_PASSWORD },
  inspector: { user: process.env.ANJU_INSPECTOR_USER, password: process.env.ANJU_INSPECTOR_PASSWORD },
  admin: { user: process.env.ANJU_ADMIN_USER, password: process.env.ANJU_ADMIN_PASSWORD },
};
export const has = (who) => Boolean(creds[who].user && creds[who].password);
export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A unique marker so a test finds its own complaint among everyone else's. */
export const marker = (what) => `${what} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;

/** Fails the test on any uncaught page error or alert()/confirm() dialog. */
export function watch(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('dialog', (d) => { problems.push('dialog: ' + d.message()); d.dismiss().catch(() => {}); });
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) problems.push('CSP: ' + m.text()); });
  return problems;
}

export async function apiCall(method, p, { token, json, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (token) h.Authorization = 'Bearer ' + token;
  if (json !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(BASE + p, { method, headers: h, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  let data = null; try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text.slice(0, 300)}`);
  return data;
}
export const login = (who) => apiCall('POST', '/api/v1/auth/login', { json: { username: creds[who].user, password: creds[who].password } });
export const list = (r) => (Array.isArray(r) ? r : (r && (r.items || r.tickets || r.data)) || []);

/** The staff view of the ticket whose description contains text (as a supervisor sees it). */
export async function findTicket(token, text) {
  const r = list(await apiCall('GET', '/api/v1/tickets?queue=all&limit=50&q=' + encodeURIComponent(text), { token }));
  // the list answers a summary (the first 60 characters and '…'), the full description only in the detail
  return r.filter((t) => {
    if (t.description) return String(t.description).includes(text);
    const s = String(t.summary || '').replace(/…$/, '');
    return s.length > 0 && (text.includes(s) || s.includes(text));
  });
}

/** Fills and sends the resident form on an open resident page (category, text, first community). */
export async function fillComplaint(page, { description, photo = true, phone } = {}) {
  await page.waitForSelector('#cats input[name=category]', { state: 'attached' });
  await page.locator('#cats label').first().click();
  await page.fill('#desc', description);
  await page.waitForFunction(() => document.querySelector('#district').options.length > 1);
  await page.selectOption('#district', { index: 1 });
  await page.waitForFunction(() => document.querySelector('#street').options.length > 1);
  await page.selectOption('#street', { index: 1 });
  await page.waitForFunction(() => document.querySelector('#community').options.length > 1);
  await page.selectOption('#community', { index: 1 });
  if (phone) await page.fill('#phone', phone);
  if (photo) {
    await page.setInputFiles('#photos', PHOTO);
    await page.waitForSelector('#thumbs img');
  }
}

/** Opens the console or board and signs in through the dialog. */
export async function staffSignIn(page, url, who) {
  await page.goto(BASE + url);
  await page.waitForSelector('#login-dialog[open]');
  await page.fill('#login-user', creds[who].user);
  await page.fill('#login-pass', creds[who].password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#login-dialog:not([open])', { state: 'attached' });
}

/**
 * Opens the field app, signs in as `who` (a key of `creds`) once the app is ready (its submit
 * handler attached), and waits for the first sync to finish. `atLogin(page)`, if given, runs on
 * the login screen first (e.g. a contrast check).
 */
export async function fieldSignIn(page, who = 'unit', atLogin) {
  await page.goto(BASE + '/field');
  await page.waitForSelector('body[data-ready="1"]');
  await page.waitForSelector('#login-view:not([hidden])');
  if (atLogin) await atLogin(page);
  await page.fill('#login-user', creds[who].user);
  await page.fill('#login-pass', creds[who].password);
  await page.click('#login-submit');
  await page.waitForSelector('body[data-sync=done]', { timeout: 60000 });
}

/** Text whose contrast with its background is below WCAG AA (4.5:1; 3:1 for large text). */
export function lowContrast(page) {
  return page.evaluate(() => {
    const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const [r, g, b, a = 1] = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return { r, g, b, a }; };
    const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
      if (!Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      const cs = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (cs.visibility === 'hidden' || cs.display === 'none' || box.width === 0 || el.closest('[hidden],dialog:not([open]),svg,.sr') || el.disabled) continue;
      const fg = parse(cs.color); if (!fg) continue;
      const a = lum(fg), b = lum(bgOf(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need) bad.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} "${el.textContent.trim().slice(0, 20)}" ${ratio.toFixed(2)}`);
    }
    return bad;
  });
}

/**
 * The fixture photo with an EXIF block (APP1 after SOI): DateTimeOriginal `at` in the city's
 * zone (+08:00) and a GPS position, as a phone's camera writes them.
 */
export function photoWithExif(at, { lat, lon }) {
  const local = new Date(at.getTime() + 8 * 3600e3).toISOString();
  const when = local.slice(0, 10).replace(/-/g, ':') + ' ' + local.slice(11, 19) + '\0';
  const le = [];
  const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const dms = (x) => { const d = Math.floor(x), mf = (x - d) * 60, m = Math.floor(mf), sec = Math.round((mf - m) * 60 * 1000); return [[d, 1], [m, 1], [sec, 1000]]; };
  // layout: header 8 | IFD0 (2 entries) | Exif IFD (2) | GPS IFD (4) | data
  const ifd = (n) => 2 + n * 12 + 4;
  const ifd0 = 8, exifIfd = ifd0 + ifd(2), gpsIfd = exifIfd + ifd(2);
  let data = gpsIfd + ifd(4);
  const blobs = [];
  const put = (buf) => { const at = data; blobs.push(buf); data += buf.length; return at; };
  const entry = (tag, type, count, value) => Buffer.concat([u16(tag), u16(type), u32(count), Buffer.isBuffer(value) ? Buffer.concat([value, Buffer.alloc(4 - value.length)]) : u32(value)]);
  const rationals = (parts) => Buffer.concat(parts.flatMap(([n, d]) => [u32(n), u32(d)]));
  const whenAt = put(Buffer.from(when, 'ascii'));
  const offAt = put(Buffer.from('+08:00\0', 'ascii'));
  const latAt = put(rationals(dms(lat))), lonAt = put(rationals(dms(lon)));
  const block = (entries) => Buffer.concat([u16(entries.length), ...entries, u32(0)]);
  le.push(Buffer.from('II*\0', 'binary'), u32(8));
  le.push(block([entry(0x8769, 4, 1, exifIfd), entry(0x8825, 4, 1, gpsIfd)]));
  le.push(block([entry(0x9003, 2, 20, whenAt), entry(0x9011, 2, 7, offAt)]));
  le.push(block([entry(1, 2, 2, Buffer.from('N\0')), entry(2, 5, 3, latAt), entry(3, 2, 2, Buffer.from('E\0')), entry(4, 5, 3, lonAt)]));
  const tiff = Buffer.concat([...le, ...blobs]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), Buffer.from([(payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload]);
  const jpg = readFileSync(PHOTO);
  const file = path.join(os.tmpdir(), `proof-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.jpg`);
  writeFileSync(file, Buffer.concat([jpg.subarray(0, 2), app1, jpg.subarray(2)]));
  return file;
}
