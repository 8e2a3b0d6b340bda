// Registers and progress: a supervisor filters the registers, opens a building, sees its history
// after a device edited it, resolves a conflict, downloads the XLSX; sets a plan and sees
// /progress change; imports a plan sheet with one bad row, sees the row named, fixes it, imports.
// Needs ANJU_UNIT_* (a hexi_jianshe_office user) and ANJU_SUPERVISOR_*; the sample programme.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BASE, DESKTOP, PHONE, launch, watch, has, login, apiCall, staffSignIn, lowContrast } from '../lib.mjs';

const ready = has('unit') && has('supervisor');
let browser;
before(async () => { if (ready) browser = await launch(); });
after(async () => { await browser?.close(); });

const settled = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1');

/** A device of the unit user pushes one change to a record (as the field app would). */
async function devicePush(token, recordType, id, base, fields) {
  const dev = await apiCall('POST', '/api/v1/devices', { token, json: { name: '浏览器测试设备', platform: 'test' } });
  const hlc = Date.now().toString(16).padStart(16, '0') + '-00000000-' + dev.device_id;
  return apiCall('POST', '/api/v1/sync/push', { token, json: { protocol: 1, device_id: dev.device_id,
    mutations: [{ seq: 1, record_type: recordType, record_id: id, op: 'upsert', base_version: base, fields, hlc }] } });
}

test('a supervisor filters the registers, sees a device edit in the history and resolves a conflict', { skip: !ready && 'set ANJU_UNIT_* and ANJU_SUPERVISOR_*' }, async () => {
  const unit = await login('unit');
  const ctx = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/registers', 'supervisor');
  await settled(page);
  await page.click('#tabs button[data-reg=building]');
  await page.waitForSelector('#reg-table[data-reg=building]');
  await page.selectOption('#f-grade', 'C');
  await page.selectOption('#f-district', { label: '河西区' });
  // Wait for the filtered answer itself: the count of the unfiltered list is already shown.
  const filtered = page.waitForResponse((r) => r.url().includes('/api/v1/registers/building') && r.url().includes('grade=C'));
  await page.click('#filters button[type=submit]');
  const answer = await (await filtered).json();
  await page.waitForFunction((n) => ((document.querySelector('#count')?.textContent || '').match(/\d+/) || [])[0] === String(n), answer.total);
  const grades = await page.$$eval('#reg-table tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
  assert.ok(grades.length > 0, 'some C buildings in Hexi');
  assert.ok(grades.every((g) => g === 'C'), grades.join(','));

  // the XLSX of that filter downloads as a workbook (a zip with worksheets)
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl-xlsx')]);
  const file = path.join(os.tmpdir(), `reg-${Date.now()}.xlsx`);
  await download.saveAs(file);
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  assert.ok(bytes.includes(Buffer.from('xl/worksheets/sheet1.xml')), 'a worksheet inside');

  // a building of the unit's street: the device edits it, the page shows who did what
  const sup = await login('supervisor');
  const mine = await apiCall('GET', '/api/v1/registers/building?area=hexi-jianshe&per_page=1', { token: sup.access_token });
  const b = mine.items[0];
  await devicePush(unit.access_token, 'building', b.id, b.version, { households: 41 });
  await page.goto(BASE + `/registers#/building/${b.id}`);
  await page.waitForSelector('#rec-history li[data-source=device]');
  assert.match(await page.textContent('#rec-history li[data-source=device]'), /户数/);
  assert.match(await page.textContent('#rec-history li[data-source=device]'), /41/);
  assert.match(await page.textContent('#rec-fields'), /安全等级/);

  // the office edits the floors from this version while a device edits them from the same one
  const loaded = await apiCall('GET', `/api/v1/registers/building/${b.id}`, { token: sup.access_token });
  await page.click('#edit-box summary');
  await page.fill('#e-floors', '9');
  await page.click('#edit-form button[type=submit]');
  await page.waitForSelector('#msg.ok, #msg.warn');
  await devicePush(unit.access_token, 'building', b.id, loaded.record.version, { floors: 3 });
  // Another test (the field app's two phones) may have left a conflict of its own on this
  // building: resolve the one this edit made, and see exactly that one go.
  const earlier = new Set(loaded.conflicts.map((c) => c.id));
  const now = await apiCall('GET', `/api/v1/registers/building/${b.id}`, { token: sup.access_token });
  const mineConflict = now.conflicts.find((c) => !earlier.has(c.id));
  assert.ok(mineConflict, 'the concurrent edit made a conflict');
  await page.reload();
  const card = `#rec-conflicts .conflict[data-conflict="${mineConflict.id}"]`;
  await page.waitForSelector(card);
  await page.click(`${card} button[data-pick=server]`);
  await page.waitForSelector(card, { state: 'detached', timeout: 10000 });
  assert.equal(await page.locator('#rec-conflicts .conflict').count(), earlier.size);
  assert.ok(await page.locator('#rec-history li[data-source=review]').count() >= 1);

  // English switch
  await page.click('#lang');
  assert.match(await page.textContent('h1'), /Renovation registers/);
  await page.click('#lang');
  assert.deepEqual(await lowContrast(page), []);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a supervisor sets a plan, sees /progress change, imports a sheet with a bad row and fixes it', { skip: !ready && 'set ANJU_UNIT_* and ANJU_SUPERVISOR_*' }, async () => {
  const page = await (await browser.newContext({ viewport: PHONE })).newPage();
  const problems = watch(page);
  await staffSignIn(page, '/progress', 'supervisor');
  await settled(page);
  const cell = 'table[data-programme=shantytown] tbody tr[data-district=hexi][data-measure=shantytown_started] td[data-k=percent]';
  const before = await page.textContent(cell);
  const input = page.locator('#plan-inputs input[data-district=hexi][data-measure=shantytown_started]');
  const current = Number(await input.inputValue());
  await input.fill(String(current * 2));
  await page.click('#plan-save');
  await page.waitForSelector('#msg.ok');
  const after = await page.textContent(cell);
  assert.notEqual(after, before, 'the percent of plan changed');
  assert.match(await page.textContent('#plan-log'), new RegExp(String(current * 2)));

  const year = await page.inputValue('#year');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plans-'));
  const bad = path.join(dir, 'bad.csv');
  fs.writeFileSync(bad, `年度,区县,危房改造(户)\n${year},河西区,150\n${year},河南区,20\n`);
  await page.setInputFiles('#import-file', bad);
  await page.click('#import-check');
  await page.waitForSelector('#import-errors li[data-row="3"]');
  assert.match(await page.textContent('#import-errors'), /河南区/);
  assert.ok(await page.locator('#import-apply').isDisabled());
  const good = path.join(dir, 'good.csv');
  fs.writeFileSync(good, `年度,区县,危房改造(户)\n${year},河西区,150\n${year},河东区,120\n`);
  await page.setInputFiles('#import-file', good);
  await page.click('#import-check');
  await page.waitForSelector('#msg.ok');
  await page.click('#import-apply');
  await page.waitForFunction(() => /导入|Imported/.test((document.querySelector('#msg')?.textContent || '')));
  assert.equal(await page.inputValue('#plan-inputs input[data-district=hedong][data-measure=dangerous_households]'), '120');
  assert.deepEqual(problems, []);
});

test('the public page shows progress against plan without personal data', async () => {
  const b = browser || await launch();
  const page = await b.newPage({ viewport: PHONE });
  const problems = watch(page);
  await page.goto(BASE + '/public');
  await page.waitForSelector('#public-plan tbody tr');
  assert.match(await page.textContent('#plan'), /河西区/);
  const pub = await apiCall('GET', '/api/v1/public/progress');
  assert.ok(!JSON.stringify(pub).includes('unit_id'));
  assert.deepEqual(problems, []);
  await page.close();
  if (!browser) await b.close();
});
