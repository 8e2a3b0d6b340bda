// /field, the offline field app, at 360×740: sign in and first sync with a progress bar; offline,
// an inspection with a photo and GPS, a hazard from it and a building edit; a reload offline keeps
// all three; back online they are sent once (checked in the office registers); the outbox survives
// a reload in the middle of a sync whose answer was lost; an edit of the same field from a second
// phone is shown as a conflict with both values.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PHONE, PHOTO, launch, marker, watch, has, login, apiCall, creds, lowContrast, fieldSignIn } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const skip = has('unit') && has('supervisor') ? false : 'needs ANJU_UNIT_USER and ANJU_SUPERVISOR_USER';

async function phone(opts = {}) {
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, geolocation: { latitude: 36.651, longitude: 117.12, accuracy: 12 }, permissions: ['geolocation'], ...opts });
  const page = await ctx.newPage();
  return { ctx, page, problems: watch(page) };
}

const signIn = (page) => fieldSignIn(page, 'unit', async (p) => assert.deepEqual(await lowContrast(p), [], 'login screen'));

const pending = (page) => page.getAttribute('#status-line', 'data-pending').then(Number);
async function waitPending(page, n) {
  await page.waitForFunction((n) => Number(document.querySelector('#status-line').dataset.pending) === n, n, { timeout: 60000 });
}
async function registerTotal(register, q) {
  const sup = await login('supervisor');
  const r = await apiCall('GET', `/api/v1/registers/${register}?q=${encodeURIComponent(q)}&per_page=50`, { token: sup.access_token });
  return r.total;
}

test('signed in once, works offline: inspection with photo, hazard, building edit survive a reload and are sent once', { skip }, async () => {
  const { ctx, page, problems } = await phone();
  await signIn(page);
  // the first sync showed its progress and brought the unit's records
  const received = Number(await page.getAttribute('#progress-box', 'data-received'));
  assert.ok(received > 0, 'the first sync reported what it downloaded');
  assert.equal(await pending(page), 0);
  assert.deepEqual(await lowContrast(page), [], 'lists');
  assert.ok(Number(await page.textContent('#types a[data-type=building] small')) > 0, 'buildings of the unit are on the phone');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await ctx.setOffline(true);
  await page.reload(); // the shell comes from the field app's service worker
  await page.waitForSelector('body[data-ready="1"]');
  await page.waitForSelector('#net:not([hidden])');

  // an inspection with GPS, a checklist and a photo
  const text = marker('外墙空鼓，楼梯间墙体开裂');
  await page.click('#types a[data-type=inspection]');
  await page.click('#new');
  await page.waitForSelector('#f-area_id');
  await page.selectOption('#f-building_id', { index: 1 });
  if (!(await page.inputValue('#f-area_id'))) await page.selectOption('#f-area_id', { index: 1 });
  await page.click('#gps');
  await page.waitForFunction(() => document.querySelector('#f-gps_lat').value !== '');
  // the checklist served by the server (the dangerous-building default), kept for offline use
  await page.waitForSelector('#checklist input');
  await page.check('#checklist input >> nth=0');
  await page.fill('#f-findings', text);
  assert.deepEqual(await lowContrast(page), [], 'inspection form');
  await page.selectOption('#f-grade', 'C');
  await page.setInputFiles('#f-photos', PHOTO);
  await page.waitForSelector('#f-photos-thumbs img[src^=blob]');
  await page.click('#save');
  await page.waitForSelector('#record-view:not([hidden])');
  assert.match(await page.textContent('#rec-fields'), new RegExp(text.split(' ')[1]));
  assert.equal(await page.locator('#rec-photos img').count(), 1);
  await waitPending(page, 1);

  // a hazard from it: area, unit and the inspection are filled in by name
  const hz = marker('二层阳台栏杆松动');
  await page.click('#rec-new-hazard');
  await page.waitForSelector('#f-description');
  assert.notEqual(await page.inputValue('#f-inspection_id'), '');
  await page.fill('#f-description', hz);
  await page.selectOption('#f-severity', 'high');
  await page.click('#save');
  await page.waitForSelector('#record-view:not([hidden])');
  await waitPending(page, 2);

  // a required field left empty: said plainly, nothing typed is lost
  await page.goto(BASE + '/field#/new/hazard');
  await page.waitForSelector('#f-description');
  await page.fill('#f-location', '3号楼');
  await page.click('#save');
  await page.waitForSelector('#form .msg.err');
  assert.notEqual(await page.textContent('#f-description-err'), '');
  assert.equal(await page.inputValue('#f-location'), '3号楼');

  // edit a building
  await page.goto(BASE + '/field#/list/building');
  await page.click('#list li a >> nth=0');
  await page.waitForSelector('#record-view:not([hidden])');
  const buildingUrl = page.url();
  const buildingId = buildingUrl.split('#/r/')[1];
  await page.click('#rec-edit');
  const households = String(100 + Math.floor(Math.random() * 9000)); // differs from any earlier run's
  await page.fill('#f-households', households);
  await page.click('#save');
  await page.waitForSelector('#rec-fields dd[data-field=households]');
  assert.equal(await page.textContent('#rec-fields dd[data-field=households]'), households);
  await waitPending(page, 3);

  // reload while offline: all still there
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await waitPending(page, 3);
  await page.goto(BASE + '/field#/list/inspection');
  await page.fill('#q', text.split(' ')[1]);
  await page.waitForSelector('#list li .pending');
  assert.equal(await page.locator('#list li').count(), 1);
  await page.goto(BASE + '/field#/r/' + buildingId);
  await page.waitForSelector('#record-view:not([hidden]) dd[data-field=households]');
  assert.equal(await page.textContent('#rec-fields dd[data-field=households]'), households);

  // back online: sent by itself, exactly once
  await ctx.setOffline(false);
  await waitPending(page, 0);
  await page.waitForSelector('body[data-sync=done]');
  assert.equal(await registerTotal('inspection', text.split(' ')[1]), 1);
  assert.equal(await registerTotal('hazard', hz.split(' ')[1]), 1);
  const sup = await login('supervisor');
  const b = await apiCall('GET', `/api/v1/registers/building/${buildingId}`, { token: sup.access_token });
  assert.equal(b.record.fields.households, Number(households));
  // the photo went up before the push that names it
  const insp = (await apiCall('GET', `/api/v1/registers/inspection?q=${encodeURIComponent(text.split(' ')[1])}`, { token: sup.access_token })).items[0];
  assert.equal(insp.fields.photos.length, 1);
  const missing = await apiCall('POST', '/api/v1/attachments/missing', { token: sup.access_token, json: { hashes: insp.fields.photos } });
  assert.deepEqual(missing.missing, []);
  assert.ok(insp.fields.gps_lat > 36 && insp.fields.gps_lat < 37);
  assert.equal(insp.fields.checklist_findings.length, 1, 'the ticked checklist item is a finding');
  assert.equal(Object.keys(insp.fields.checklist).length > 1, true);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the outbox survives a reload in the middle of a sync whose answer was lost', { skip }, async () => {
  // no service worker here, so the test can hold the push answer
  const { ctx, page, problems } = await phone({ serviceWorkers: 'block' });
  await signIn(page);
  await ctx.setOffline(true);
  const hz = marker('消防通道堆放建材');
  await page.goto(BASE + '/field#/new/hazard');
  await page.waitForSelector('#f-description');
  await page.fill('#f-description', hz);
  await page.selectOption('#f-area_id', { index: 1 });
  await page.selectOption('#f-severity', 'medium');
  await page.click('#save');
  await waitPending(page, 1);

  // the server applies the push, but its answer never reaches the phone
  let reached = false;
  await page.route('**/api/v1/sync/push', async (route) => {
    await route.fetch();
    reached = true;
    await route.abort('connectionreset').catch(() => {});
  });
  await page.route('**/api/v1/sync/pull*', (route) => route.abort('connectionreset'));
  await ctx.setOffline(false);
  await page.click('#sync-now').catch(() => {});
  for (let i = 0; i < 100 && !reached; i++) await page.waitForTimeout(100);
  assert.ok(reached, 'the push reached the server');
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await waitPending(page, 1); // still waiting: the phone never heard back
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.click('#sync-now');
  await waitPending(page, 0);
  assert.equal(await registerTotal('hazard', hz.split(' ')[1]), 1, 'sent again, applied once');
  assert.deepEqual(problems.filter((p) => !/net::|Failed to fetch/.test(p)), []);
  await ctx.close();
});

test('two phones edit the same building field: the conflict shows both values', { skip }, async () => {
  const a = await phone({ serviceWorkers: 'block' });
  const b = await phone({ serviceWorkers: 'block' });
  await signIn(a.page);
  await signIn(b.page);
  await a.page.goto(BASE + '/field#/list/building');
  await a.page.click('#list li a >> nth=1');
  await a.page.waitForSelector('#record-view:not([hidden])');
  const id = a.page.url().split('#/r/')[1];
  const base = 10 + Math.floor(Math.random() * 80); // differs from any earlier run's
  const [fa, fb] = [String(base), String(base + 100)];
  for (const [p, floors] of [[a.page, fa], [b.page, fb]]) {
    await p.context().setOffline(true);
    await p.goto(BASE + '/field#/edit/' + id);
    await p.waitForSelector('#f-floors');
    await p.fill('#f-floors', floors);
    await p.click('#save');
    await waitPending(p, 1);
  }
  for (const p of [a.page, b.page]) {
    await p.context().setOffline(false);
    await waitPending(p, 0);
  }
  await b.page.goto(BASE + '/field#/r/' + id);
  await b.page.waitForSelector('#rec-issues .issue[data-conflict=floors]');
  assert.equal(await b.page.textContent('#rec-issues .device-value'), fb);
  assert.equal(await b.page.textContent('#rec-issues .server-value'), fa);
  assert.match(await b.page.textContent('#status-line'), /冲突 1/);
  // the unit's staff may decide a plain field here: keep this phone's value, both phones converge
  await b.page.click('#rec-issues .issue[data-conflict=floors] button[data-pick=device]');
  await b.page.waitForSelector('#msg.ok');
  await b.page.waitForSelector('#rec-issues .issue[data-conflict=floors]', { state: 'detached' });
  await b.page.waitForFunction((v) => (document.querySelector('#rec-fields [data-field=floors]')?.textContent || '') === v, fb);
  assert.match(await b.page.textContent('#status-line'), /冲突 0/);
  await a.page.goto(BASE + '/field#/r/' + id);
  await a.page.click('#sync-now');
  await a.page.waitForFunction((v) => document.querySelector('#rec-fields [data-field=floors]')?.textContent === v, fb, { timeout: 60000 });
  await a.ctx.close();
  await b.ctx.close();
});

test('a revoked device is told so plainly and keeps its unsent change', { skip }, async () => {
  const { ctx, page } = await phone({ serviceWorkers: 'block' });
  await signIn(page);
  const deviceId = await page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('anju-field');
    r.onsuccess = () => { const g = r.result.transaction('kv').objectStore('kv').get('device_id'); g.onsuccess = () => resolve(g.result); g.onerror = reject; };
    r.onerror = reject;
  }));
  assert.ok(deviceId, 'the phone registered itself as a device');
  await ctx.setOffline(true);
  await page.goto(BASE + '/field#/new/hazard');
  await page.waitForSelector('#f-description');
  await page.fill('#f-description', marker('屋顶防水层破损'));
  await page.selectOption('#f-area_id', { index: 1 });
  await page.selectOption('#f-severity', 'low');
  await page.click('#save');
  await waitPending(page, 1);
  // the owner (or an administrator) revokes it meanwhile
  const unit = await login('unit');
  await apiCall('POST', `/api/v1/devices/${deviceId}/revoke`, { token: unit.access_token });
  await ctx.setOffline(false);
  await page.click('#sync-now');
  await page.waitForSelector('#msg.err');
  assert.match(await page.textContent('#msg'), /停用/);
  assert.equal(await pending(page), 1, 'the unsent change stays on the phone');
  await ctx.close();
});
