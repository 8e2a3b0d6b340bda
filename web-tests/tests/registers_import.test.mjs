// Register import on /registers: a supervisor checks a sheet with one bad row and sees the row,
// column and reason named (in the page language) with nothing imported; fixes it, imports, and
// finds the records in the list. The XLSX download opens as a workbook with the register's
// headers and rows: uploaded back, the check reads every row and finds nothing to change.
// Needs ANJU_SUPERVISOR_* and the sample programme.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DESKTOP, PHONE, launch, watch, has, login, apiCall, staffSignIn, lowContrast } from '../lib.mjs';

const ready = has('supervisor');
let browser;
before(async () => { if (ready) browser = await launch(); });
after(async () => { await browser?.close(); });

const settled = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1');
const HEADER = '房屋编号,区县,街道,所属区域,地址,层数,安全等级';

test('a supervisor imports a sheet with one bad row, sees it named, fixes it and finds the records', { skip: !ready && 'set ANJU_SUPERVISOR_*' }, async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/registers', 'supervisor');
  await settled(page);
  await page.click('#tabs button[data-reg=building]');
  await page.waitForSelector('#reg-table[data-reg=building]');
  await page.click('#import-box summary');

  const tag = 'WT' + Date.now().toString(36).toUpperCase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reg-import-'));
  const bad = path.join(dir, 'bad.csv');
  fs.writeFileSync(bad, `${HEADER}\n${tag}-1,河西区,河西区建设街道,纺织厂家属院,${tag} 1号楼,5,C\n${tag}-2,河西区,,机床厂宿舍,${tag} 2号楼,3,E\n`);
  await page.setInputFiles('#import-file', bad);
  await page.click('#import-check');
  await page.waitForSelector('#import-errors tr[data-row="3"]');
  const row = page.locator('#import-errors tbody tr');
  assert.equal(await row.count(), 1, 'only the bad row is named');
  assert.equal(await row.getAttribute('data-column'), '安全等级');
  assert.match(await row.textContent(), /A、B、C 或 D/);
  assert.ok(await page.locator('#import-apply').isDisabled(), 'nothing to apply while a row is bad');
  await page.click('#lang');
  await page.waitForFunction(() => /A, B, C or D/.test((document.querySelector('#import-errors')?.textContent || '')));
  assert.match(await page.textContent('#import-errors thead'), /Row.*Column.*Reason/);
  await page.click('#lang');
  await page.waitForFunction(() => /A、B、C 或 D/.test((document.querySelector('#import-errors')?.textContent || '')));
  const sup = await login('supervisor');
  const found = () => apiCall('GET', `/api/v1/registers/building?q=${encodeURIComponent(tag)}`, { token: sup.access_token });
  assert.equal((await found()).total, 0, 'nothing imported');

  const good = path.join(dir, 'good.csv');
  fs.writeFileSync(good, fs.readFileSync(bad, 'utf8').replace(',3,E', ',3,D'));
  await page.setInputFiles('#import-file', good);
  await page.click('#import-check');
  await page.waitForFunction(() => /检查通过/.test((document.querySelector('#import-summary')?.textContent || '')));
  assert.match(await page.textContent('#import-summary'), /新建 2 条/);
  assert.equal(await page.locator('#import-errors').count(), 0);
  await page.click('#import-apply');
  await page.waitForFunction(() => /已导入/.test((document.querySelector('#import-summary')?.textContent || '')));
  assert.equal((await found()).total, 2);

  // the records are in the list
  await page.fill('#f-q', tag);
  const answer = page.waitForResponse((r) => r.url().includes('/api/v1/registers/building?') && r.url().includes(tag));
  await page.click('#filters button[type=submit]');
  await answer;
  await page.waitForFunction((t) => document.querySelectorAll('#reg-table tbody tr').length === 2 && (document.querySelector('#reg-table')?.textContent || '').includes(t), tag);
  assert.match(await page.textContent('#reg-table'), new RegExp(`${tag} 2号楼`));
  assert.deepEqual(await lowContrast(page), []);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the XLSX download is a workbook with the register headers and rows: it imports back unchanged', { skip: !ready && 'set ANJU_SUPERVISOR_*' }, async () => {
  const ctx = await browser.newContext({ viewport: PHONE, acceptDownloads: true });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/registers', 'supervisor');
  await settled(page);
  await page.click('#tabs button[data-reg=building]');
  await page.waitForSelector('#reg-table[data-reg=building]');
  await page.selectOption('#f-grade', 'C');
  const filtered = page.waitForResponse((r) => r.url().includes('/api/v1/registers/building') && r.url().includes('grade=C'));
  await page.click('#filters button[type=submit]');
  const total = (await (await filtered).json()).total;
  assert.ok(total > 0, 'some C buildings');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl-xlsx')]);
  const file = path.join(os.tmpdir(), `reg-${Date.now()}.xlsx`);
  await download.saveAs(file);
  assert.equal(fs.readFileSync(file).subarray(0, 2).toString(), 'PK');

  await page.click('#import-box summary');
  await page.setInputFiles('#import-file', file);
  const checked = page.waitForResponse((r) => r.url().includes('/import?dry_run=true'));
  await page.click('#import-check');
  const body = await (await checked).json();
  assert.equal(body.rows, total, 'one data row per record of the filter');
  assert.equal(body.unchanged, total);
  assert.equal(body.created + body.updated, 0);
  await page.waitForFunction(() => /检查通过/.test((document.querySelector('#import-summary')?.textContent || '')));
  assert.deepEqual(problems, []);
  await ctx.close();
});
