// Register record photos, staff only: a hazard's photo pushed by a device shows as a thumbnail
// on the record page and opens the full photo; without a login the thumbnail is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { BASE, DESKTOP, PHOTO, launch, watch, has, login, apiCall, staffSignIn } from '../lib.mjs';

const ready = has('unit') && has('supervisor');
let browser;
before(async () => { if (ready) browser = await launch(); });
after(async () => { await browser?.close(); });

test('a hazard photo shows as a thumbnail that opens the full photo', { skip: !ready && 'set ANJU_UNIT_* and ANJU_SUPERVISOR_*' }, async () => {
  const unit = await login('unit');
  const bytes = fs.readFileSync(PHOTO);
  const hash = crypto.createHash('sha256').update(bytes).digest('hex');
  const put = await fetch(BASE + `/api/v1/attachments/${hash}`, { method: 'PUT', headers: { Authorization: 'Bearer ' + unit.access_token }, body: bytes });
  assert.ok([200, 201].includes(put.status), String(put.status));
  const cat = await apiCall('GET', '/api/v1/registers', { token: unit.access_token });
  const area = cat.areas.find((a) => a.code === 'hexi-jianshe-1');
  const unitId = cat.units.find((u) => u.code === 'hexi_jianshe_office').id;
  const dev = await apiCall('POST', '/api/v1/devices', { token: unit.access_token, json: { name: '照片测试设备', platform: 'test' } });
  const id = crypto.randomUUID();
  const hlc = Date.now().toString(16).padStart(16, '0') + '-00000000-' + dev.device_id;
  await apiCall('POST', '/api/v1/sync/push', { token: unit.access_token, json: { protocol: 1, device_id: dev.device_id,
    mutations: [{ seq: 1, record_type: 'hazard', record_id: id, op: 'upsert', base_version: null, hlc,
      fields: { description: '截图用：楼道堆放杂物', area_id: area.id, unit_id: unitId, severity: 'medium', status: 'open', photos: { add: [hash] } } }] } });
  assert.equal((await fetch(BASE + `/api/v1/attachments/${hash}/thumbnail`)).status, 401);

  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/registers', 'supervisor');
  await page.goto(BASE + `/registers#/hazard/${id}`);
  const img = page.locator('#rec-fields dd[data-field=photos] img[data-sha256]');
  await img.waitFor();
  await page.waitForFunction(() => { const i = document.querySelector('#rec-fields dd[data-field=photos] img'); return i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0; });
  assert.ok(await img.evaluate((i) => i.naturalWidth <= 320));
  await page.click('#rec-fields dd[data-field=photos] button.thumb');
  await page.waitForFunction(() => { const i = document.querySelector('#photo-dialog img'); return i && i.complete && i.naturalWidth > 320; });
  assert.deepEqual(problems, []);
  await ctx.close();
});
