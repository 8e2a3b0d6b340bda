// Bulletins: a supervisor makes this month's draft on /bulletins, issues it (asked once more in
// the page), and opens its print view: the number and the tables are there, and with print media
// the navigation and the buttons are hidden while the document stays. A unit user then reads the
// issued bulletin but gets no draft form. Needs ANJU_SUPERVISOR_* (and ANJU_UNIT_* for the last step).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, PHONE, BASE, launch, watch, has, staffSignIn } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const settled = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1');
let issuedUrl = null;

test('a supervisor issues a bulletin and prints it', { skip: !has('supervisor') && 'set ANJU_SUPERVISOR_*' }, async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/bulletins', 'supervisor');
  await settled(page);
  await page.waitForSelector('#create:not([hidden])');
  await page.selectOption('#b-kind', 'monthly');
  await page.fill('#b-remarks', '请各单位对照问题抓紧整改。');
  await page.click('#b-create');
  await page.waitForSelector('#paper .issuer');
  assert.match(await page.textContent('#paper .draftmark'), /草稿/);
  assert.match(await page.textContent('#paper .issuer'), /住房和城乡建设局.*“三改”工作通报/);
  await page.waitForSelector('#progress-table tbody tr');
  assert.ok(await page.locator('#paper figure.chart svg rect.bar').count() > 0, 'the bar chart of % of plan by district');
  await page.click('#issue');
  await page.waitForSelector('#confirm-box:not([hidden])');
  await page.click('#issue-yes');
  await page.waitForFunction(() => /\d{4}年第\d+期/.test((document.querySelector('#doc-number')?.textContent || '')));
  assert.equal(await page.locator('#paper .draftmark').count(), 0, 'no draft mark once issued');
  assert.equal(await page.isHidden('#issue'), true, 'nothing to issue again');
  assert.match(await page.textContent('#msg'), /已印发/);
  issuedUrl = new URL(page.url()).pathname;
  assert.match(issuedUrl, /^\/bulletins\/[0-9a-f-]{36}$/);

  // The print view as its own page: header, number, tables; print media hides the rest.
  await page.goto(BASE + issuedUrl);
  await settled(page);
  const number = await page.textContent('#doc-number');
  assert.match(number, /\d{4}年第\d+期/);
  assert.ok(await page.locator('#paper table').count() >= 2, 'the tables are there');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.top nav').isVisible(), false, 'navigation hidden in print');
  assert.equal(await page.locator('#toolbar').isVisible(), false, 'buttons hidden in print');
  assert.equal(await page.locator('#paper').isVisible(), true);
  assert.equal(await page.locator('#progress-table').isVisible(), true);
  await page.emulateMedia({ media: 'screen' });
  assert.equal(await page.locator('header.top nav').isVisible(), true);
  // English switch: the document follows.
  await page.click('#lang');
  await page.waitForFunction(() => /Renovation work bulletin/.test((document.querySelector('#paper .issuer')?.textContent || '')));
  await page.click('#lang');
  // The list shows it with its number.
  await page.click('#back');
  await page.waitForSelector('#bulletin-list tbody tr');
  assert.match(await page.textContent('#bulletin-list tbody tr:first-child'), new RegExp(number.trim()));
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a unit user reads the issued bulletin and cannot make one', { skip: !(has('supervisor') && has('unit')) && 'set ANJU_SUPERVISOR_* and ANJU_UNIT_*' }, async () => {
  assert.ok(issuedUrl, 'the previous test issued one');
  const ctx = await browser.newContext({ viewport: PHONE });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, issuedUrl, 'unit');
  await settled(page);
  assert.match(await page.textContent('#doc-number'), /\d{4}年第\d+期/);
  assert.equal(await page.isHidden('#issue'), true);
  await page.click('#back');
  await page.waitForSelector('#bulletin-list tbody tr');
  assert.equal(await page.isHidden('#create'), true, 'no draft form for unit staff');
  assert.deepEqual(problems, []);
  await ctx.close();
});
