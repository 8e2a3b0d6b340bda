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
  return r.filter((t) => String(t.description || t.summary || '').includes(text));
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
