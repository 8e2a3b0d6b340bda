// Upkeep: the supervisor opens /upkeep, sees the property managers ranked with their figures,
// opens one, opens its community and sees the month-by-month chart of facility complaints before
// and after the hand-over with the comparison table; the English switch translates the page.
// Needs ANJU_SUPERVISOR_* and the sample programme (its hand-overs and their complaints).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, PHONE, launch, watch, has, staffSignIn } from '../lib.mjs';

const ready = has('supervisor');
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const settled = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1');
const view = (page, v) => page.waitForFunction((x) => document.documentElement.dataset.view === x, v);

for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
  test(`the supervisor sees the ranked managers and a community before and after (${size})`, { skip: !ready && 'set ANJU_SUPERVISOR_*' }, async () => {
    const ctx = await browser.newContext({ viewport });
    const page = await ctx.newPage();
    const problems = watch(page);
    await staffSignIn(page, '/upkeep', 'supervisor');
    await settled(page);
    await page.waitForSelector('#managers-table tbody tr');
    const rows = page.locator('#managers-table tbody tr');
    assert.ok(await rows.count() >= 3, 'the three sample property managers');
    const first = await rows.first().textContent();
    assert.match(first, /^1/, 'ranked: the first row is rank 1');
    assert.match(first, /物业/);
    assert.match(first, /\d+(\.\d)?%/, 'rates shown as percentages');
    // A manager, then its community.
    await rows.first().locator('a').click();
    await view(page, 'manager');
    await page.waitForSelector('#communities-table tbody tr');
    assert.match(await page.textContent('#manager-h'), /名次 1\//);
    await page.locator('#communities-table tbody tr a').first().click();
    await view(page, 'community');
    await page.waitForSelector('#chart-complaints svg rect.bar');
    assert.ok(await page.locator('#chart-complaints svg rect.bar:not(.alt)').count() >= 3, 'columns before the hand-over');
    assert.ok(await page.locator('#chart-complaints svg rect.bar.alt').count() >= 2, 'columns after the hand-over');
    assert.equal(await page.locator('#chart-complaints svg line.marker').count(), 1, 'the hand-over is marked');
    assert.ok(await page.locator('#chart-rates svg path.line').count() >= 1);
    assert.match(await page.textContent('#community-meta'), /接管/);
    const compare = await page.textContent('#compare-table');
    assert.match(compare, /移交前/);
    assert.match(compare, /移交后/);
    assert.match(compare, /个百分点/);
    assert.ok(await page.locator('#monthly-table tbody tr[data-phase=before]').count() >= 6);
    // Fewer months: the chart follows.
    await page.selectOption('#months', '3');
    await page.waitForFunction(() => document.querySelectorAll('#monthly-table tbody tr[data-phase=before]').length <= 4);
    // English.
    await page.click('#lang');
    assert.match(await page.textContent('#compare-table'), /Before/);
    assert.match(await page.textContent('h1'), /upkeep/i);
    assert.deepEqual(problems, []);
    await ctx.close();
  });
}

test('a supervisor hands a completed project over to a property manager; the same hand-over again is refused', { skip: !ready && 'set ANJU_SUPERVISOR_*' }, async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/upkeep', 'supervisor');
  await settled(page);
  await page.waitForSelector('#handover-section:not([hidden])');
  const before = await page.locator('#handovers-table tbody tr').count();
  const projects = page.locator('#ho-project option:not([value=""])');
  assert.ok(await projects.count() >= 1, 'the sample has completed projects');
  const project = await projects.first().getAttribute('value');
  await page.selectOption('#ho-project', project);
  const manager = await page.locator('#ho-unit option:not([value=""])').first().getAttribute('value');
  await page.selectOption('#ho-unit', manager);
  await page.fill('#ho-date', '2026-07-01');
  await page.fill('#ho-note', '浏览器测试移交');
  await page.click('#handover-form button[type=submit]');
  await page.waitForSelector('#ho-msg.ok');
  assert.match(await page.textContent('#ho-msg'), /已移交.*2 条派单规则/);
  await page.waitForFunction((n) => document.querySelectorAll('#handovers-table tbody tr').length === n + 1, before);
  assert.match(await page.locator('#handovers-table tbody tr').first().textContent(), /2026-07-01.*浏览器测试移交/);
  // The same community on the same day again: refused with the server's reason, nothing added.
  await page.selectOption('#ho-project', project);
  await page.selectOption('#ho-unit', manager);
  await page.fill('#ho-date', '2026-07-01');
  await page.click('#handover-form button[type=submit]');
  await page.waitForSelector('#ho-msg.err');
  assert.match(await page.textContent('#ho-msg'), /已有移交记录/);
  assert.equal(await page.locator('#handovers-table tbody tr').count(), before + 1);
  // A missing choice is said before anything is sent.
  await page.selectOption('#ho-unit', '');
  await page.click('#handover-form button[type=submit]');
  assert.match(await page.textContent('#ho-msg'), /请选择项目、物业服务企业和接管日期/);
  assert.deepEqual(problems, []);
  await ctx.close();
});
