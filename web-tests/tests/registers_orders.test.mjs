// Rectification orders on the register page: the unit marks a hazard rectified with a photo, and
// a supervisor verifies it with a photo of the check; the status and the actions show each step.
// Needs ANJU_UNIT_* (a hexi_jianshe_office user) and ANJU_SUPERVISOR_*.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, PHOTO, launch, watch, has, login, apiCall, staffSignIn } from '../lib.mjs';

const ready = has('unit') && has('supervisor');
let browser;
before(async () => { if (ready) browser = await launch(); });
after(async () => { await browser?.close(); });

const settled = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1');

test('a unit marks a hazard rectified with a photo and a supervisor verifies it', { skip: !ready && 'set ANJU_UNIT_* and ANJU_SUPERVISOR_*' }, async () => {
  const unit = await login('unit');
  const cat = await apiCall('GET', '/api/v1/registers', { token: unit.access_token });
  const unitId = cat.units.find((u) => u.code === 'hexi_jianshe_office').id;
  const area = cat.areas.find((a) => a.code === 'hexi-jianshe-1').id;
  const made = await apiCall('POST', '/api/v1/registers/hazard', { token: unit.access_token, json: { fields: {
    description: '楼道消防栓缺失（浏览器测试）', area_id: area, unit_id: unitId, severity: 'high', status: 'open',
    order_no: '河西整改〔2026〕99号', order_issued_on: '2026-12-01', deadline: '2027-01-31', responsible_person: '李明' } } });
  const id = made.id;

  // The unit: without a photo the server refuses; with one it is rectified.
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, `/registers#/hazard/${id}`, 'unit');
  await settled(page);
  await page.waitForSelector('#rec-order form[data-action=rectify]');
  await page.click('#rec-order form[data-action=rectify] button[type=submit]');
  await page.waitForFunction(() => /照片|photo/i.test((document.querySelector('#rec-order .msg')?.textContent || '')));
  await page.setInputFiles('#rec-order form[data-action=rectify] input[type=file]', PHOTO);
  await page.fill('#rec-order form[data-action=rectify] textarea', '已补齐消防栓');
  await page.click('#rec-order form[data-action=rectify] button[type=submit]');
  await page.waitForSelector('#rec-order dd[data-order-status=rectified]');
  assert.equal(await page.$('#rec-order form[data-action=verify]') !== null, true, 'verify offered');
  await ctx.close();

  // The supervisor checks on site and verifies with a photo.
  const sctx = await browser.newContext({ viewport: DESKTOP });
  const sp = await sctx.newPage();
  const sproblems = watch(sp);
  await staffSignIn(sp, `/registers#/hazard/${id}`, 'supervisor');
  await settled(sp);
  await sp.waitForSelector('#rec-order form[data-action=verify]');
  await sp.setInputFiles('#rec-order form[data-action=verify] input[type=file]', PHOTO);
  await sp.click('#rec-order form[data-action=verify] button[type=submit]');
  await sp.waitForSelector('#rec-order dd[data-order-status=verified]');
  const steps = await sp.$$eval('#order-actions li[data-action]', (li) => li.map((x) => x.dataset.action));
  assert.deepEqual(steps, ['rectify', 'verify']);
  const sup = await login('supervisor');
  const order = await apiCall('GET', `/api/v1/registers/hazard/${id}/order`, { token: sup.access_token });
  assert.equal(order.status, 'verified');
  await sctx.close();
  assert.deepEqual(problems.filter((p) => !/422/.test(p)), []);
  assert.deepEqual(sproblems, []);
});
