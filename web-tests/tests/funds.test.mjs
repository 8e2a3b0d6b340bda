// Funds: the public page shows the sample city's fund figures (budget, received, paid per
// district and programme, no login); a supervisor opens a project's ledger on /funds, records a
// receipt and sees it in the ledger with their name, and a payment beyond the funds received is
// refused with its reason and nothing recorded. Needs ANJU_SUPERVISOR_* and the sample programme.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, PHONE, launch, watch, has, staffSignIn, fieldSignIn } from '../lib.mjs';

const ready = has('supervisor');
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const settled = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1');

test('the public page shows fund figures', async () => {
  const ctx = await browser.newContext({ viewport: PHONE });
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(process.env.ANJU_URL + '/public');
  await settled(page);
  await page.waitForSelector('#public-funds tbody tr');
  assert.match(await page.textContent('#funds-h'), /资金使用情况/);
  const total = await page.textContent('#public-funds tfoot');
  assert.match(total, /合计/);
  assert.match(total, /\d+\.\d\d/, 'the city total is in 万元');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a supervisor records a receipt and a payment beyond what arrived is refused', { skip: !ready && 'set ANJU_SUPERVISOR_*' }, async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/funds', 'supervisor');
  await settled(page);
  await page.waitForSelector('#funds-list tbody tr');
  await page.locator('#funds-list tbody tr button').first().click();
  await page.waitForSelector('#ledger-entries');
  const before = await page.locator('#ledger-entries tbody tr').count();
  await page.selectOption('#e-kind', 'received');
  await page.selectOption('#e-source', 'city');
  await page.fill('#e-amount', '12345');
  await page.fill('#e-note', '浏览器测试到位');
  await page.click('#e-save');
  await page.waitForFunction((n) => document.querySelectorAll('#ledger-entries tbody tr').length === n + 1, before);
  const first = await page.textContent('#ledger-entries tbody tr:first-child');
  assert.match(first, /浏览器测试到位/);
  assert.match(first, /测试督办员/);
  await page.selectOption('#e-kind', 'paid');
  await page.fill('#e-amount', '999999999999');
  await page.click('#e-save');
  await page.waitForFunction(() => /超过到位资金/.test((document.querySelector('#msg')?.textContent || '')));
  assert.equal(await page.locator('#ledger-entries tbody tr').count(), before + 1, 'nothing recorded');
  assert.deepEqual(problems.filter((p) => !/422/.test(p)), []);
  await ctx.close();
});

test('the unit staff see a project funds read-only on the field app', { skip: !has('unit') && 'set ANJU_UNIT_*' }, async () => {
  const { BASE, creds, login, apiCall } = await import('../lib.mjs');
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  const problems = watch(page);
  await fieldSignIn(page);
  await page.goto(BASE + '/field#/list/project');
  await page.click('#list li a >> nth=0');
  await page.waitForSelector('#record-view:not([hidden])');
  const id = page.url().split('#/r/')[1];
  await page.waitForSelector('#rec-funds');
  assert.match(await page.textContent('#rec-funds h3'), /项目资金/);
  // The same figures as the office ledger.
  const { access_token } = await login('unit');
  const office = await apiCall('GET', `/api/v1/funds/projects/${id}`, { token: access_token });
  const shown = (await page.textContent('#rec-funds [data-fund=budget]')).replace(/[^\d]/g, '');
  assert.equal(shown, String(office.funds.totals.budget));
  assert.equal(await page.locator('#rec-funds button, #rec-funds input').count(), 0, 'read-only');
  assert.deepEqual(problems, []);
  await ctx.close();
});
