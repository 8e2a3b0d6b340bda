// The inspection checklists on /registers: an administrator adds an item, a wrong key is refused
// with its place named and nothing saved, the fixed list saves as a new version, and the field
// app's checklist API serves it; a supervisor does not see the editor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, launch, watch, has, staffSignIn, apiCall, login } from '../lib.mjs';

const ready = has('admin') && has('supervisor');
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const settled = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1');

const token = async (who) => (await login(who)).access_token;

test('an administrator edits a checklist: a bad key is named and nothing saved, the fixed list is served', { skip: !ready && 'set ANJU_ADMIN_* and ANJU_SUPERVISOR_*' }, async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/registers', 'admin');
  await settled(page);
  await page.waitForSelector('#checklists-box:not([hidden]) #chk-items tbody tr');
  await page.selectOption('#chk-prog', 'dangerous_housing');
  const version = Number((await page.textContent('#chk-meta')).match(/第 (\d+) 版/)[1]);
  const n = await page.locator('#chk-items tbody tr').count();
  await page.click('#chk-add');
  const last = page.locator('#chk-items tbody tr').last();
  await last.locator('input[data-k=id]').fill('Bad Key');
  await last.locator('input[data-k=label_zh]').fill('楼梯扶手是否松动');
  await last.locator('input[data-k=label_en]').fill('Loose stair handrail');
  await page.click('#chk-save');
  await page.waitForSelector('#chk-msg.err');
  assert.match(await page.textContent('#chk-msg'), new RegExp(`未作任何修改[\\s\\S]*第 ${n + 1} 项 · 编号`));
  const api = await token('admin');
  let served = (await apiCall('GET', '/api/v1/checklists', { token: api })).checklists.find((c) => c.programme === 'dangerous_housing');
  assert.equal(served.version, version, 'nothing saved');
  await last.locator('input[data-k=id]').fill('stair_handrail');
  await page.click('#chk-save');
  await page.waitForSelector('#chk-msg.ok');
  assert.match(await page.textContent('#chk-msg'), new RegExp(`第 ${version + 1} 版`));
  served = (await apiCall('GET', '/api/v1/checklists', { token: api })).checklists.find((c) => c.programme === 'dangerous_housing');
  assert.equal(served.version, version + 1);
  assert.deepEqual(served.items.at(-1), { id: 'stair_handrail', label_zh: '楼梯扶手是否松动', label_en: 'Loose stair handrail' });
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a supervisor sees the registers without the checklist editor', { skip: !ready && 'set ANJU_SUPERVISOR_*' }, async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  await staffSignIn(page, '/registers', 'supervisor');
  await settled(page);
  await page.waitForTimeout(300);
  assert.equal(await page.locator('#checklists-box').isHidden(), true);
  await ctx.close();
});
