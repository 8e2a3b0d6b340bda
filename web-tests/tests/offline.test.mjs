// (b) a complaint written with no signal waits on the phone and is sent once when the signal returns;
// a 500 or 429 from the server never loses what the resident typed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PHONE, launch, marker, watch, fillComplaint, has, login, findTicket } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const isComplaintPost = (req) => req.method() === 'POST' && new URL(req.url()).pathname === '/api/v1/complaints';

test('(b) written offline: shown as waiting, survives a reload, sent exactly once on reconnect', async () => {
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(BASE + '/');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload(); // now controlled by the service worker, which keeps categories and areas
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.waitForFunction(() => document.querySelector('#district').options.length > 1);

  const codes = new Set();
  ctx.on('response', (res) => {
    if (isComplaintPost(res.request()) && res.status() === 201) res.json().then((j) => codes.add(j.tracking_code), () => {});
  });

  await ctx.setOffline(true);
  await page.reload(); // the shell comes from the service worker's cache
  await page.waitForSelector('#net:not([hidden])');
  const text = marker('没有信号时写的投诉：楼道里的消防栓被施工队拆了');
  await fillComplaint(page, { description: text });
  await page.click('#submit');
  const pending = page.locator('#outbox-list li[data-state=pending]', { hasText: text.slice(0, 20) });
  await pending.waitFor();
  assert.match(await pending.textContent(), /等待发送|Waiting to send/);

  await page.reload(); // still offline: the complaint is kept on the phone
  await pending.waitFor();

  await ctx.setOffline(false);
  const sent = page.locator('#outbox-list li[data-state=sent]', { hasText: text.slice(0, 20) });
  await sent.waitFor({ timeout: 45000 });
  const code = (await sent.locator('.sent-code').textContent()).trim();
  assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/);

  await page.waitForTimeout(3000); // room for a duplicate send to show up, if there were one
  assert.ok(codes.size <= 1, 'one tracking code only, got ' + [...codes].join(', '));
  assert.equal(await page.locator('#outbox-list li', { hasText: text.slice(0, 20) }).count(), 1);
  if (has('supervisor')) {
    const { access_token } = await login('supervisor');
    assert.equal((await findTicket(access_token, text)).length, 1, 'exactly one ticket on the server');
  }
  const res = await page.goto(BASE + '/t/' + code);
  assert.equal(res.status(), 200);
  await page.waitForSelector('#view:not([hidden])');
  assert.equal((await page.textContent('#description')).trim(), text);
  assert.deepEqual(problems, []);
  await ctx.close();
});

for (const [status, headers] of [[500, {}], [429, { 'Retry-After': '1' }]]) {
  test(`a ${status} answer keeps the complaint and sends it later`, async () => {
    // no service worker here, so that the page's own requests can be answered by the test
    const ctx = await browser.newContext({ viewport: PHONE, serviceWorkers: 'block' });
    const page = await ctx.newPage();
    const problems = watch(page);
    let refused = 0;
    await page.route('**/api/v1/complaints', (route) => {
      if (isComplaintPost(route.request()) && refused === 0) {
        refused++;
        return route.fulfill({ status, headers: { 'Content-Type': 'application/problem+json', ...headers },
          body: JSON.stringify({ type: '/problems/x', title: 'x', status, code: status === 429 ? 'rate_limited' : 'internal' }) });
      }
      return route.continue();
    });
    await page.goto(BASE + '/');
    const text = marker(`服务器返回 ${status} 时也不能丢：工地夜间施工`);
    await fillComplaint(page, { description: text, photo: false });
    await page.click('#submit');
    // said plainly, in the resident's language, and kept on the phone
    await page.waitForSelector('#form-msg.warn');
    assert.match(await page.textContent('#form-msg'), status === 429 ? /频繁/ : /服务器暂时出错/);
    assert.equal(refused, 1);
    await page.locator('#outbox-list li', { hasText: text.slice(0, 20) }).waitFor();
    await page.locator('#outbox-list li[data-state=sent]', { hasText: text.slice(0, 20) }).waitFor({ timeout: 20000 });
    assert.deepEqual(problems, []);
    await ctx.close();
  });
}
