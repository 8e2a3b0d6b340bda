// /field at 360×740, the bad-input list: each said plainly in Chinese and nothing the
// person entered lost. A push answered 429, 500 or 503 with Retry-After (the phone waits as told,
// keeps its outbox and sends it when the server is back); a reset (410) in the middle of the work
// (downloaded again, the change saved meanwhile sent after); a photo that is not an image; storage
// full; the phone's clock days ahead (the push waits, the stamps are renewed once the clock is
// right). A login that ended while offline is field_tickets.test.mjs' "a lost session".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PHONE, PHOTO, NOT_IMAGE, launch, marker, watch, has, login, apiCall, creds, fieldSignIn } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const skip = has('unit') && has('supervisor') ? false : 'needs ANJU_UNIT_USER and ANJU_SUPERVISOR_USER';

/** A phone without the service worker (so page.route sees every API call), optionally with an init script. */
async function phone(init, arg) {
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, serviceWorkers: 'block' });
  if (init) await ctx.addInitScript(init, arg);
  const page = await ctx.newPage();
  return { ctx, page, problems: watch(page) };
}
const signIn = (page) => fieldSignIn(page);
const pending = (page) => page.getAttribute('#status-line', 'data-pending').then(Number);
const waitPending = (page, n) => page.waitForFunction((n) => Number(document.querySelector('#status-line')?.dataset.pending) === n, n, { timeout: 60000 });
const msgMatches = (page, re) => page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#msg')?.textContent || ''), re.source, { timeout: 60000 });

/** The outbox as stored on the phone (IndexedDB `anju-field`). */
const outbox = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const r = indexedDB.open('anju-field');
  r.onsuccess = () => { const g = r.result.transaction('outbox').objectStore('outbox').getAll(); g.onsuccess = () => { r.result.close(); resolve(g.result); }; g.onerror = reject; };
  r.onerror = reject;
}));

async function registerTotal(register, q) {
  const sup = await login('supervisor');
  const r = await apiCall('GET', `/api/v1/registers/${register}?q=${encodeURIComponent(q)}&per_page=50`, { token: sup.access_token });
  return r.total;
}

/** Fills the new-hazard form (description, first area, severity) without saving. */
async function fillHazard(page, description) {
  await page.goto(BASE + '/field#/new/hazard');
  await page.waitForSelector('#f-description');
  await page.fill('#f-description', description);
  await page.fill('#f-location', '3号楼东侧');
  await page.selectOption('#f-area_id', { index: 1 });
  await page.selectOption('#f-severity', 'medium');
}
async function newHazard(page, description) {
  await fillHazard(page, description);
  await page.click('#save');
  await page.waitForSelector('#record-view:not([hidden])');
}

for (const status of [429, 500, 503]) {
  test(`a push answered ${status} with Retry-After: the phone waits as told, says so, keeps the outbox and sends it when the server is back`, { skip }, async () => {
    const { ctx, page, problems } = await phone();
    await signIn(page);
    const tries = [];
    await page.route('**/api/v1/sync/push', (r) => {
      tries.push(Date.now());
      return r.fulfill({ status, headers: { 'Retry-After': '1' }, contentType: 'application/problem+json',
        body: JSON.stringify({ code: status === 429 ? 'rate_limited' : 'unavailable', title: 'try later' }) });
    });
    const hz = marker('楼梯扶手断裂');
    await newHazard(page, hz);
    const queued = await outbox(page);
    assert.equal(queued.length, 1);
    for (let i = 0; i < 200 && tries.length < 6; i++) await page.waitForTimeout(100);
    assert.ok(tries.length >= 6, `the push was tried again (${tries.length} tries)`);
    const gaps = tries.slice(1).map((t, i) => t - tries[i]);
    assert.ok(gaps.every((g) => g >= 900), 'each try waited the second Retry-After asked for: ' + gaps.join(', '));
    await msgMatches(page, /秒后自动重试/);
    const msg = await page.textContent('#msg');
    assert.match(msg, status === 429 ? /服务器繁忙/ : new RegExp('服务器暂时出错（' + status + '）'));
    assert.match(msg, /1 条修改都保留在本机/);
    assert.deepEqual(await outbox(page), queued, 'the outbox is as it was');
    // the server is back: the phone's own next try sends it, once
    await page.unroute('**/api/v1/sync/push');
    await waitPending(page, 0);
    assert.equal(await registerTotal('hazard', hz.split(' ')[1]), 1);
    assert.deepEqual(problems, []);
    await ctx.close();
  });
}

test('a reset (410) while working: the phone downloads again, keeps what was saved meanwhile and sends it after', { skip }, async () => {
  const { ctx, page, problems } = await phone();
  await signIn(page);
  await ctx.setOffline(true);
  const a = marker('外墙瓷砖脱落');
  await newHazard(page, a);
  await waitPending(page, 1);
  // the server answers the next pull with a reset and the download again is slow
  let resets = 0, fresh = 0, release;
  const gate = new Promise((r) => { release = r; });
  await page.route('**/api/v1/sync/pull*', async (route) => {
    const cursor = new URL(route.request().url()).searchParams.get('cursor');
    if (cursor && resets === 0) {
      resets++;
      return route.fulfill({ status: 410, contentType: 'application/problem+json', body: JSON.stringify({ code: 'reset_required', title: '需要重新下载' }) });
    }
    if (!cursor && resets === 1 && fresh++ === 0) await gate;
    return route.continue();
  });
  await ctx.setOffline(false);
  await page.waitForFunction(() => /服务器要求重新下载，未发送的修改会保留/.test(document.querySelector('#progress-label')?.textContent || ''), null, { timeout: 60000 });
  // the person keeps working while the scope downloads again
  const b = marker('楼顶女儿墙开裂');
  await newHazard(page, b);
  await waitPending(page, 1);
  // the change saved offline went out before the reset; only the new one waits
  assert.deepEqual((await outbox(page)).map((m) => m.fields.description), [b]);
  release();
  // sent after the download, once each; both on the phone as the server has them
  await waitPending(page, 0);
  assert.equal(resets, 1);
  assert.equal(await registerTotal('hazard', a.split(' ')[1]), 1);
  assert.equal(await registerTotal('hazard', b.split(' ')[1]), 1);
  await page.goto(BASE + '/field#/list/hazard');
  for (const text of [a, b]) {
    await page.fill('#q', text.split(' ')[1]);
    await page.waitForFunction(() => document.querySelectorAll('#list li').length === 1);
    assert.equal(await page.locator('#list li .pending').count(), 0, 'synced, nothing waiting');
  }
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a reset (410) while editing: the download again ends with the form open, the edit is kept, shown and sent once after', { skip }, async () => {
  const { ctx, page, problems } = await phone();
  await signIn(page);
  const a = marker('单元门禁损坏');
  await newHazard(page, a);
  await waitPending(page, 0);
  const id = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/r\//, ''));
  // the next pull is answered with a reset and the download again waits
  let resets = 0, fresh = 0, release;
  const gate = new Promise((r) => { release = r; });
  await page.route('**/api/v1/sync/pull*', async (route) => {
    const cursor = new URL(route.request().url()).searchParams.get('cursor');
    if (cursor && resets === 0) {
      resets++;
      return route.fulfill({ status: 410, contentType: 'application/problem+json', body: JSON.stringify({ code: 'reset_required', title: '需要重新下载' }) });
    }
    if (!cursor && resets === 1 && fresh++ === 0) await gate;
    return route.continue();
  });
  await page.click('#sync-now');
  await page.waitForFunction(() => /服务器要求重新下载，未发送的修改会保留/.test(document.querySelector('#progress-label')?.textContent || ''), null, { timeout: 60000 });
  // the person edits the record while the scope downloads again
  const b = marker('单元门禁损坏已报修');
  await page.evaluate((id) => { location.hash = '#/edit/' + id; }, id);
  await page.waitForSelector('#form-view:not([hidden]) #f-description');
  await page.fill('#f-description', b);
  // the download again ends while the form is open: what was typed stays
  const n = await page.evaluate(() => Number(document.body.dataset.syncs || 0));
  release();
  await page.waitForFunction((n) => Number(document.body.dataset.syncs || 0) > n, n, { timeout: 60000 });
  assert.equal(await page.inputValue('#f-description'), b);
  await page.click('#save');
  await page.waitForSelector('#record-view:not([hidden])', { timeout: 10000 });
  assert.equal(await page.textContent('#rec-fields [data-field=description]'), b);
  // sent after the download, once; the phone and the server have the edit
  await waitPending(page, 0);
  assert.equal(resets, 1);
  assert.equal(await registerTotal('hazard', b.split(' ')[1]), 1);
  await page.goto(BASE + '/field#/r/' + id);
  await page.waitForSelector('#record-view:not([hidden])');
  assert.equal(await page.textContent('#rec-fields [data-field=description]'), b);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a photo that is not an image is refused plainly; the rest of the form is kept', { skip }, async () => {
  const { ctx, page, problems } = await phone();
  await signIn(page);
  await ctx.setOffline(true);
  const text = marker('楼梯间墙体开裂');
  await page.goto(BASE + '/field#/new/inspection');
  await page.waitForSelector('#f-findings');
  await page.selectOption('#f-building_id', { index: 1 });
  if (!(await page.inputValue('#f-area_id'))) await page.selectOption('#f-area_id', { index: 1 });
  await page.fill('#f-findings', text);
  await page.selectOption('#f-grade', 'C');
  // a .jpg that is text inside, and a text file
  await page.setInputFiles('#f-photos', NOT_IMAGE);
  await page.waitForFunction(() => /“not-an-image.jpg”不是可识别的图片/.test(document.querySelector('#f-photos-err')?.textContent || ''));
  await page.setInputFiles('#f-photos', { name: '记录.txt', mimeType: 'text/plain', buffer: Buffer.from('现场记录：三层走廊') });
  await page.waitForFunction(() => /“记录.txt”不是可识别的图片/.test(document.querySelector('#f-photos-err')?.textContent || ''));
  assert.equal(await page.locator('#f-photos-thumbs img').count(), 0, 'nothing was added');
  assert.equal(await page.inputValue('#f-findings'), text);
  assert.equal(await page.inputValue('#f-grade'), 'C');
  // a real photo goes in, and the whole form is saved and sent
  await page.setInputFiles('#f-photos', PHOTO);
  await page.waitForSelector('#f-photos-thumbs img[src^=blob]');
  await page.click('#save');
  await page.waitForSelector('#record-view:not([hidden])');
  await waitPending(page, 1);
  await ctx.setOffline(false);
  await waitPending(page, 0);
  const sup = await login('supervisor');
  const found = (await apiCall('GET', `/api/v1/registers/inspection?q=${encodeURIComponent(text.split(' ')[1])}`, { token: sup.access_token })).items;
  assert.equal(found.length, 1);
  assert.equal(found[0].fields.photos.length, 1);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('storage full: the person is told, the form and the photo choice are kept, saving works once there is room', { skip }, async () => {
  // IndexedDB refuses new data as a full phone does (QuotaExceededError) while window.__anjuFull is set
  const { ctx, page, problems } = await phone(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (...args) {
      if (window.__anjuFull && ['outbox', 'photos'].includes(this.name)) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
  });
  await signIn(page);
  await page.evaluate(() => { window.__anjuFull = true; });
  const hz = marker('地下室渗水');
  await fillHazard(page, hz);
  await page.setInputFiles('#f-photos', PHOTO);
  await page.waitForFunction(() => /手机存储已满/.test(document.querySelector('#f-photos-err')?.textContent || ''));
  await page.click('#save');
  await page.waitForFunction(() => /手机存储已满，无法保存。.*表单内容仍在/.test(document.querySelector('#form .msg')?.textContent || ''));
  assert.equal(await page.isVisible('#form-view'), true, 'still on the form');
  assert.equal(await page.inputValue('#f-description'), hz);
  assert.equal(await page.inputValue('#f-location'), '3号楼东侧');
  assert.equal(await page.inputValue('#f-severity'), 'medium');
  assert.equal(await pending(page), 0);
  assert.deepEqual(await outbox(page), []);
  // room again: the same form, as typed, saves and is sent
  await page.evaluate(() => { window.__anjuFull = false; });
  await page.setInputFiles('#f-photos', PHOTO);
  await page.waitForSelector('#f-photos-thumbs img[src^=blob]');
  await page.click('#save');
  await page.waitForSelector('#record-view:not([hidden])');
  await waitPending(page, 0);
  assert.equal(await registerTotal('hazard', hz.split(' ')[1]), 1);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a phone clock three days ahead: said plainly, the change waits on the phone, and is sent once the clock is right', { skip }, async () => {
  // the phone's clock runs window.__clockOffset ms ahead
  const { ctx, page, problems } = await phone((off) => {
    window.__clockOffset = off;
    const Real = Date;
    class Shifted extends Real {
      constructor(...a) { if (a.length) super(...a); else super(Real.now() + window.__clockOffset); }
      static now() { return Real.now() + window.__clockOffset; }
    }
    window.Date = Shifted;
  }, 3 * 86400000);
  await signIn(page);
  await msgMatches(page, /手机时间比服务器快约 3 天/);
  const hz = marker('雨棚锈蚀');
  await newHazard(page, hz);
  await msgMatches(page, /未发送的 1 条修改都保留在本机/);
  assert.match(await page.textContent('#msg'), /自动设置日期和时间/);
  assert.equal(await pending(page), 1, 'held back, not sent to be refused');
  assert.match(await page.textContent('#status-line'), /被拒 0/);
  assert.equal(await registerTotal('hazard', hz.split(' ')[1]), 0);
  // the person sets the clock right and syncs: the stamp the wrong clock wrote is renewed
  await page.evaluate(() => { window.__clockOffset = 0; });
  await page.click('#sync-now');
  await waitPending(page, 0);
  assert.match(await page.textContent('#status-line'), /被拒 0/);
  assert.equal(await registerTotal('hazard', hz.split(' ')[1]), 1);
  assert.deepEqual(problems, []);
  await ctx.close();
});
