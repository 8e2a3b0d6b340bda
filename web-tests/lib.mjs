// Shared helpers for the browser tests: Debian's Chromium through playwright-core, the base URL
// and credentials from the environment, and small API helpers for setting up and checking.
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const BASE = (process.env.ANJU_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const PHOTO = path.join(FIXTURES, 'site.jpg');
export const NOT_IMAGE = path.join(FIXTURES, 'not-an-image.jpg');
export const creds = {
  unit: { user: process.env.ANJU_UNIT_USER, password: process.env.ANJU_UNIT_PASSWORD },
  supervisor: { user: process.env.ANJU_SUPERVISOR_USER, password: process.env.ANJU_SUPERVISOR_PASSWORD },
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
