// Saves screenshots of each main page at phone (360×740) and desktop (1280×800) sizes into
// docs/screenshots/. Usage: ANJU_URL=… [ANJU_UNIT_USER=… ANJU_UNIT_PASSWORD=… ANJU_SUPERVISOR_USER=…
// ANJU_SUPERVISOR_PASSWORD=…] node screenshots.mjs   (console and board need the credentials)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, PHONE, DESKTOP, launch, has, apiCall, login, findTicket, staffSignIn, fillComplaint } from './lib.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshots');
fs.mkdirSync(OUT, { recursive: true });
const sizes = { phone: PHONE, desktop: DESKTOP };
const browser = await launch();
const saved = [];

async function shot(name, size, prepare) {
  const ctx = await browser.newContext({ viewport: sizes[size], deviceScaleFactor: 1, isMobile: size === 'phone', hasTouch: size === 'phone', serviceWorkers: 'block' });
  const page = await ctx.newPage();
  try {
    await prepare(page);
    await page.waitForTimeout(400);
    const file = path.join(OUT, `${name}-${size}.png`);
    await page.screenshot({ path: file, fullPage: size === 'phone' });
    saved.push(path.relative(process.cwd(), file));
  } catch (e) {
    console.error(`${name}-${size}: skipped (${e.message.split('\n')[0]})`);
  }
  await ctx.close();
}
const ready = (page) => page.waitForFunction(() => document.documentElement.dataset.ready === '1', null, { timeout: 20000 });

// one complaint to show on the tracking page, the console and the board
const text = '小区改造施工每天早上六点开始电钻，楼道里堆满建筑垃圾，消防通道被堵。';
const filed = await (async () => {
  const cats = await apiCall('GET', '/api/v1/categories');
  const areas = await apiCall('GET', '/api/v1/areas');
  const community = areas.find((a) => a.kind === 'community');
  return apiCall('POST', '/api/v1/complaints', { headers: { 'Idempotency-Key': crypto.randomUUID() },
    json: { category: cats[0].code, description: text, area_id: community && community.id, address: '3 号楼 2 单元' } });
})().catch((e) => { console.error('could not file a sample complaint: ' + e.message); return null; });
let ticketId = null;
if (filed && has('supervisor')) {
  const sup = await login('supervisor');
  ticketId = ((await findTicket(sup.access_token, text))[0] || {}).id || null;
}

for (const size of ['phone', 'desktop']) {
  await shot('resident', size, async (page) => {
    await page.goto(BASE + '/');
    await ready(page);
    await fillComplaint(page, { description: '楼上装修天天电钻到晚上十点。', photo: true }).catch(() => {});
    await page.evaluate(() => window.scrollTo(0, 0));
  });
  await shot('resident-done', size, async (page) => {
    await page.goto(BASE + '/');
    await ready(page);
    await fillComplaint(page, { description: '截图用：工地围挡倒塌，占用人行道。', photo: false });
    await page.click('#submit');
    await page.waitForSelector('#done:not([hidden])');
  });
  if (filed) await shot('tracking', size, async (page) => { await page.goto(BASE + '/t/' + filed.tracking_code); await page.waitForSelector('#view:not([hidden])'); });
  await shot('tracking-404', size, async (page) => { await page.goto(BASE + '/t/0000-0000-0000'); });
  await shot('public', size, async (page) => { await page.goto(BASE + '/public'); await ready(page); });
  if (has('unit')) {
    await shot('console', size, async (page) => {
      await staffSignIn(page, '/console', 'unit');
      await ready(page);
      const first = page.locator('#queue tbody a').first();
      if (await first.count()) { await first.click(); await page.waitForSelector('#detail-body .report'); }
      await page.evaluate(() => window.scrollTo(0, 0));
    });
  }
  if (has('supervisor')) {
    await shot('board', size, async (page) => { await staffSignIn(page, '/board', 'supervisor'); await ready(page); });
  }
}
await browser.close();
console.log(saved.join('\n'));
