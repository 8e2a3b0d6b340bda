// Issue 10, item 10, where the browser is the honest place: the console's sign-out ends the
// session on the server (its refresh token stops working), and the service worker keeps no
// tracking answer (description and address) in its caches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, DESKTOP, PHONE, launch, marker, watch, has, apiCall, staffSignIn } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('signing out of the console revokes the refresh token on the server', { skip: !has('unit') && 'set ANJU_UNIT_*' }, async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/console', 'unit');
  const session = await page.evaluate(() => JSON.parse(sessionStorage.getItem('anju.session')));
  assert.ok(session && session.refresh_token, 'signed in with a refresh token');
  const logout = page.waitForRequest((r) => r.url().endsWith('/api/v1/auth/logout') && r.method() === 'POST');
  await page.click('#logout');
  await logout;
  await page.waitForSelector('#login-dialog[open]');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('anju.session')), null);
  // Someone who copied the token before the sign-out cannot use it.
  const res = await fetch(BASE + '/api/v1/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: session.refresh_token }) });
  assert.equal(res.status, 401);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the service worker keeps no tracking answer in its caches', async () => {
  const areas = await apiCall('GET', '/api/v1/areas');
  const cats = await apiCall('GET', '/api/v1/categories');
  const community = areas.find((a) => a.kind === 'community');
  const text = marker('楼道灯坏了，住在3号楼502室');
  const filed = await apiCall('POST', '/api/v1/complaints', { headers: { 'Idempotency-Key': crypto.randomUUID() },
    json: { category: cats[0].code, description: text, area_id: community.id } });
  const ctx = await browser.newContext({ viewport: PHONE });
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(BASE + '/t/' + filed.tracking_code);
  await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller, null, { timeout: 15000 })
    .catch(() => page.reload().then(() => page.waitForFunction(() => navigator.serviceWorker.controller)));
  // Under the worker's control, load the answer again (the first load may predate the worker).
  await page.reload();
  await page.waitForFunction((t) => document.querySelector('#description')?.textContent.includes(t), text);
  await page.waitForTimeout(300); // a worker that stores answers does so right after answering
  const cached = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) {
      const c = await caches.open(name);
      for (const r of await c.keys()) urls.push(new URL(r.url).pathname);
    }
    return urls;
  });
  assert.ok(cached.length > 0, 'the worker cached its shell');
  assert.deepEqual(cached.filter((p) => p.startsWith('/api/v1/track/')), [], 'no tracking answer is kept: ' + cached.join(' '));
  assert.deepEqual(problems, []);
  await ctx.close();
});
