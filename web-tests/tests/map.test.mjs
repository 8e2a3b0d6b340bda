// The map without tiles: it renders on /board, /registers, /progress (staff) and /public
// (districts only) with a legend and a figure chooser, keyboard reachable, no CSP complaint;
// clicking a community on /registers filters the list to it; clicking a district on /public
// shows that district's figures alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, DESKTOP, PHONE, launch, watch, has, login, apiCall, staffSignIn } from '../lib.mjs';

const ready = has('supervisor');
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const drawn = (page) => page.waitForSelector('#map-box svg.map-svg path.area');

test('the map renders on the staff pages with a legend, and fits a phone', { skip: !ready && 'set ANJU_SUPERVISOR_*' }, async () => {
  for (const size of [DESKTOP, PHONE]) {
    const ctx = await browser.newContext({ viewport: size });
    const page = await ctx.newPage();
    const problems = watch(page);
    await staffSignIn(page, '/board', 'supervisor');
    for (const url of ['/board', '/registers', '/progress']) {
      if (url !== '/board') await page.goto(BASE + url);
      await drawn(page);
      const n = await page.locator('#map-box path.area').count();
      assert.ok(n >= 2, `${url}: ${n} areas`);
      assert.ok(await page.locator('#map-box .map-keys li').count() >= 1, `${url}: legend`);
      assert.ok(await page.locator('#map-box select.map-figure option').count() >= 4, `${url}: figure chooser`);
      const box = await page.locator('#map-box svg.map-svg').boundingBox();
      assert.ok(box.width <= size.width, `${url}: the map fits ${size.width} px (${box.width})`);
      // keyboard: focus an area, its name is announced
      await page.locator('#map-box path.area').first().focus();
      assert.notEqual((await page.textContent('#map-box .map-info')).trim(), '', `${url}: name on focus`);
    }
    // choosing another figure redraws from the server
    const answer = page.waitForResponse((r) => r.url().includes('/api/v1/map?') && r.url().includes('figure=cd_buildings'));
    await page.selectOption('#map-box select.map-figure', 'cd_buildings');
    assert.equal((await answer).status(), 200);
    assert.deepEqual(problems, []);
    await ctx.close();
  }
});

test('clicking a community on /registers filters the list to it', { skip: !ready && 'set ANJU_SUPERVISOR_*' }, async () => {
  const sup = await login('supervisor');
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/registers', 'supervisor');
  await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
  await page.click('#tabs button[data-reg=building]');
  await page.waitForSelector('#reg-table[data-reg=building]');
  await drawn(page);
  const cat = await apiCall('GET', '/api/v1/registers', { token: sup.access_token });
  const community = cat.areas.find((a) => a.code === 'hexi-heping-2');
  const filtered = page.waitForResponse((r) => r.url().includes('/api/v1/registers/building') && r.url().includes('area=' + community.id));
  await page.click(`#map-box path.area[data-code="hexi-heping-2"]`);
  const body = await (await filtered).json();
  const want = await apiCall('GET', `/api/v1/registers/building?area=hexi-heping-2&per_page=1`, { token: sup.access_token });
  assert.equal(body.total, want.total);
  assert.equal(await page.inputValue('#f-community'), community.id);
  await page.waitForFunction((n) => ((document.querySelector('#count')?.textContent || '').match(/\d+/) || [])[0] === String(n), want.total);
  const areas = await page.$$eval('#reg-table tbody tr td:last-child', (tds) => tds.map((t) => t.textContent));
  assert.ok(areas.length > 0 && areas.every((a) => a.includes(community.name_zh)), areas.join(','));
  assert.equal(await page.getAttribute('#map-box path.area[data-code="hexi-heping-2"]', 'aria-pressed'), 'true');
  // by keyboard: Enter on the selected area clears the filter again
  await page.focus('#map-box path.area[data-code="hexi-heping-2"]');
  const all = page.waitForResponse((r) => r.url().includes('/api/v1/registers/building') && !r.url().includes('area='));
  await page.keyboard.press('Enter');
  assert.equal((await all).status(), 200);
  assert.equal(await page.inputValue('#f-community'), '');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('/public shows districts only, and a click shows that district alone', async () => {
  const ctx = await browser.newContext({ viewport: PHONE });
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(BASE + '/public');
  await drawn(page);
  const codes = await page.$$eval('#map-box path.area', (ps) => ps.map((p) => p.dataset.code));
  assert.deepEqual(codes.sort(), ['hedong', 'hexi']);
  assert.equal(await page.locator('#map-box select.map-level').isVisible(), false);
  const figures = await page.$$eval('#map-box select.map-figure option', (os) => os.map((o) => o.value));
  assert.ok(!figures.includes('open_hazards') && !figures.includes('cd_buildings'), figures.join(','));
  await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
  const hexi = (await apiCall('GET', '/api/v1/public/map')).areas.find((a) => a.code === 'hexi');
  await page.click('#map-box path.area[data-code="hexi"]');
  const rows = await page.$$eval('#stats tbody tr[data-district], #plan-table tbody tr', (trs) => trs.filter((tr) => !tr.hidden).map((tr) => tr.dataset.district));
  assert.ok(rows.length >= 1 && rows.every((d) => d === hexi.area_id), rows.join(','));
  await page.click('#map-box path.area[data-code="hexi"]');
  const again = await page.$$eval('#plan-table tbody tr', (trs) => new Set(trs.filter((tr) => !tr.hidden).map((tr) => tr.dataset.district)).size);
  assert.equal(again, 2, 'every district again');
  assert.deepEqual(problems, []);
  await ctx.close();
});
