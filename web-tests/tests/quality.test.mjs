// Contrast (WCAG AA) on every page, and the resident page's weight budget (< 100 KB compressed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PHONE, DESKTOP, launch, watch, lowContrast, has, staffSignIn } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('text contrast meets WCAG AA on the public pages, in both languages', async () => {
  const ctx = await browser.newContext({ viewport: PHONE });
  const page = await ctx.newPage();
  const problems = watch(page);
  for (const lang of ['zh', 'en']) {
    for (const p of ['/', '/t/', '/t/0000-0000-0000', '/public']) {
      await page.goto(BASE + p);
      await page.waitForLoadState('load');
      await page.waitForTimeout(300);
      if (lang === 'en' && p === '/' ) await page.click('#lang');
      assert.deepEqual(await lowContrast(page), [], `${lang} ${p}`);
    }
  }
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('text contrast meets WCAG AA on the console and the board', { skip: !(has('unit') && has('supervisor')) && 'set ANJU_UNIT_* and ANJU_SUPERVISOR_*' }, async () => {
  for (const [url, who] of [['/console', 'unit'], ['/board', 'supervisor']]) {
    const page = await browser.newPage({ viewport: DESKTOP });
    const problems = watch(page);
    await staffSignIn(page, url, who);
    await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
    if (url === '/console' && await page.locator('#queue tbody a').count()) {
      await page.locator('#queue tbody a').first().click();
      await page.waitForSelector('#detail-body .report');
    }
    assert.deepEqual(await lowContrast(page), [], url);
    assert.deepEqual(problems, []);
    await page.close();
  }
});

test('the resident page weighs under 100 KB compressed on first load, scripts and styles included', async () => {
  const ctx = await browser.newContext({ viewport: PHONE, serviceWorkers: 'block' });
  const page = await ctx.newPage();
  let bytes = 0;
  const sizes = [];
  ctx.on('requestfinished', (req) => { sizes.push(req.sizes().then((s) => { bytes += s.responseBodySize + s.responseHeadersSize; })); });
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await Promise.all(sizes);
  assert.ok(bytes > 10_000, 'measured something: ' + bytes);
  assert.ok(bytes < 100 * 1024, `resident page is ${(bytes / 1024).toFixed(1)} KB`);
  await ctx.close();
});
