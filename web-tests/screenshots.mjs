// Saves screenshots of each main page at phone (360×740) and desktop (1280×800) sizes into
// docs/screenshots/. Usage: ANJU_URL=… [ANJU_UNIT_USER=… ANJU_UNIT_PASSWORD=… ANJU_SUPERVISOR_USER=…
// ANJU_SUPERVISOR_PASSWORD=…] node screenshots.mjs   (console and board need the credentials)
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { BASE, PHONE, DESKTOP, PHOTO, launch, has, apiCall, login, list, findTicket, staffSignIn, fillComplaint, creds, photoWithExif, fieldSignIn } from './lib.mjs';
import { createHash } from 'node:crypto';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshots');
fs.mkdirSync(OUT, { recursive: true });
const sizes = { phone: PHONE, desktop: DESKTOP };
const browser = await launch();
const saved = [];

let draft = null;
/** A monthly bulletin draft for this month (made once per run), its id. */
function bulletinDraft() {
  if (!draft) {
    draft = login('supervisor').then((s) => apiCall('POST', '/api/v1/bulletins', { token: s.access_token,
      json: { kind: 'monthly', period_start: new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 8) + '01', remarks: '请各单位对照问题抓紧整改，下期通报将复查。' } })).then((b) => b.id);
  }
  return draft;
}

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

// Real data for every page: complaints filed where the sample routing sends them to the unit
// user's office (dust / night noise / construction quality in Jianshe Street communities), one
// carried through accept → reply → resolve (with a photo) → confirmed, one accepted, the rest waiting.
const text = '小区改造施工每天早上六点开始电钻，楼道里堆满建筑垃圾，消防通道被堵。';
const upload = async () => {
  const res = await fetch(BASE + '/api/v1/uploads', { method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body: fs.readFileSync(PHOTO) });
  if (!res.ok) throw new Error('upload → ' + res.status);
  return (await res.json()).id;
};
const file = (category, area, description, extra = {}) => apiCall('POST', '/api/v1/complaints', { headers: { 'Idempotency-Key': crypto.randomUUID() },
  json: { category, description, area_id: area && area.id, ...extra } });
const filed = await (async () => {
  const cats = await apiCall('GET', '/api/v1/categories');
  const areas = await apiCall('GET', '/api/v1/areas');
  const jianshe = areas.filter((a) => a.kind === 'community' && /^hexi-jianshe-/.test(a.code || ''));
  const community = jianshe[0] || areas.find((a) => a.kind === 'community');
  const cat = (code) => (cats.find((c) => c.code === code) || cats[0]).code;
  const main = await file(cat('construction_quality'), community, text, { address: '3 号楼 2 单元', photos: [await upload()], name: '王女士', phone: '13800138000' });
  const done = await file(cat('dust'), jianshe[1] || community, '拆迁工地没有洒水，扬尘很大，窗户都不敢开。');
  const busy = await file(cat('night_noise'), jianshe[2] || community, '夜里十一点以后还在浇筑混凝土，噪音太大。');
  await file(cat('dust'), jianshe[3] || community, '渣土车不盖篷布，路面全是泥。');
  if (has('unit')) {
    const unit = await login('unit');
    const staffList = list(await apiCall('GET', '/api/v1/tickets?limit=100', { token: unit.access_token }));
    const idOf = (no) => (staffList.find((t) => t.ticket_no === no) || {}).id;
    const act = (no, a, json = {}) => idOf(no) && apiCall('POST', `/api/v1/tickets/${idOf(no)}/${a}`, { token: unit.access_token, json });
    await act(done.ticket_no, 'accept');
    await act(done.ticket_no, 'reply', { text: '已通知施工单位，今天起每两小时洒水一次。', public: true });
    await act(done.ticket_no, 'resolve', { result: '已加装喷淋设施并覆盖裸土，复查扬尘达标。', photos: [await upload()] });
    await apiCall('POST', `/api/v1/track/${encodeURIComponent(done.tracking_code)}/confirm`, { json: { rating: 5, comment: '洒水以后好多了，谢谢。' } }).catch(() => {});
    await act(busy.ticket_no, 'accept');
    await act(busy.ticket_no, 'reply', { text: '已约谈施工单位，夜间施工须持许可证。', public: true });
    await act(main.ticket_no, 'note', { text: '联系了物业，明早现场查看。' });
  }
  return main;
})().catch((e) => { console.error('could not file the sample complaints: ' + e.message); return null; });
let ticketId = null;
if (filed && has('supervisor')) {
  const sup = await login('supervisor');
  ticketId = ((await findTicket(sup.access_token, text))[0] || {}).id || null;
}
// Two rectification orders of the unit user's office for the field app: one open, due in five
// days, and one marked rectified with a photo taken on site (its check says 已核验).
const orders = await (async () => {
  if (!has('unit')) return null;
  const unit = await login('unit');
  const cat = await apiCall('GET', '/api/v1/registers', { token: unit.access_token });
  const unitId = cat.units.find((u) => u.code === 'hexi_jianshe_office').id;
  const area = cat.areas.find((a) => a.code === 'hexi-jianshe-1').id;
  const day = (n) => new Date(Date.now() + 8 * 3600e3 + n * 86400e3).toISOString().slice(0, 10);
  const site = { lat: 43.812, lon: 125.207 };
  const make = (description, no, deadline) => apiCall('POST', '/api/v1/registers/hazard', { token: unit.access_token, json: { fields: {
    description, area_id: area, unit_id: unitId, severity: 'high', status: 'open', location: `${site.lat},${site.lon}`,
    order_no: no, order_issued_on: day(0), deadline, responsible_person: '王建国', requirements: '铲除空鼓层，重新抹灰，七日内完成。' } } });
  const open = await make('3 号楼北侧外墙空鼓、瓷砖松动，有坠落危险', '河西整改〔2026〕31号', day(5));
  const done = await make('2 号楼楼梯扶手松动', '河西整改〔2026〕32号', day(2));
  const bytes = fs.readFileSync(photoWithExif(new Date(), { lat: site.lat + 0.0003, lon: site.lon }));
  const sha = createHash('sha256').update(bytes).digest('hex');
  await fetch(BASE + '/api/v1/attachments/' + sha, { method: 'PUT', headers: { Authorization: 'Bearer ' + unit.access_token, 'Content-Type': 'image/jpeg' }, body: bytes });
  await apiCall('POST', `/api/v1/registers/hazard/${done.id}/actions`, { token: unit.access_token, json: { action: 'rectify', note: '扶手已重新焊接固定', photos: [sha] } });
  return { open: open.id, done: done.id };
})().catch((e) => { console.error('could not make the sample orders: ' + e.message); return null; });

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
      await staffSignIn(page, ticketId ? '/console#t=' + encodeURIComponent(ticketId) : '/console', 'unit');
      await ready(page);
      if (ticketId) { await page.waitForSelector('#detail-body .report'); await page.evaluate(() => window.scrollTo(0, 0)); return; }
      const first = page.locator('#queue tbody a').first();
      if (await first.count()) { await first.click(); await page.waitForSelector('#detail-body .report'); }
      await page.evaluate(() => window.scrollTo(0, 0));
    });
  }
  if (has('supervisor')) {
    await shot('board', size, async (page) => { await staffSignIn(page, '/board', 'supervisor'); await ready(page); });
    await shot('registers', size, async (page) => { await staffSignIn(page, '/registers', 'supervisor'); await ready(page); });
    await shot('registers-checklists', size, async (page) => {
      await staffSignIn(page, '/registers', 'admin');
      await ready(page);
      await page.waitForSelector('#checklists-box:not([hidden]) #chk-items tbody tr');
      await page.evaluate(() => document.querySelector('#checklists-box').scrollIntoView());
    });
    await shot('registers-record', size, async (page) => {
      await staffSignIn(page, '/registers?register=building', 'supervisor');
      await ready(page);
      await page.locator('#reg-table tbody a').first().click();
      await page.waitForSelector('#rec-history li');
      await page.evaluate(() => window.scrollTo(0, 0));
    });
    await shot('registers-import', size, async (page) => {
      await staffSignIn(page, '/registers?register=building', 'supervisor');
      await ready(page);
      const sheet = path.join(os.tmpdir(), `import-shot-${Date.now()}.csv`);
      fs.writeFileSync(sheet, '房屋编号,区县,所属区域,地址,层数,安全等级\nFW-S1,河西区,纺织厂家属院,纺织厂家属院9号楼,5,C\nFW-S2,河西区,机床厂宿舍,机床厂宿舍7号楼,3,E\nFW-S3,河西区,不存在的社区,某地,二,B\n');
      await page.click('#import-box summary');
      await page.setInputFiles('#import-file', sheet);
      await page.click('#import-check');
      await page.waitForSelector('#import-errors tbody tr');
      await page.locator('#import-box').scrollIntoViewIfNeeded();
    });
    await shot('progress', size, async (page) => { await staffSignIn(page, '/progress', 'supervisor'); await ready(page); });
    await shot('funds', size, async (page) => {
      await staffSignIn(page, '/funds', 'supervisor');
      await ready(page);
      await page.locator('#funds-list tbody tr.flagged button').first().click();
      await page.waitForSelector('#ledger-entries');
      await page.evaluate(() => window.scrollTo(0, 0));
    });
    await shot('upkeep', size, async (page) => { await staffSignIn(page, '/upkeep', 'supervisor'); await ready(page); await page.waitForSelector('#managers-table tbody tr'); });
    await shot('upkeep-community', size, async (page) => {
      await staffSignIn(page, '/upkeep', 'supervisor');
      await ready(page);
      await page.locator('#managers-table tbody tr a').first().click();
      await page.waitForSelector('#communities-table tbody tr a');
      await page.locator('#communities-table tbody tr a').first().click();
      await page.waitForSelector('#chart-complaints svg rect.bar');
      await page.evaluate(() => window.scrollTo(0, 0));
    });
    // bulletins: this month's draft (made once) in its print view, and the list
    await shot('bulletin', size, async (page) => {
      const id = await bulletinDraft();
      await staffSignIn(page, '/bulletins/' + id, 'supervisor');
      await ready(page);
    });
    await shot('bulletins', size, async (page) => { await bulletinDraft(); await staffSignIn(page, '/bulletins', 'supervisor'); await ready(page); });
    // the field app: the unit user's hazards after the first sync, and a new inspection's form;
    await shot('field', size, async (page) => { await fieldSignIn(page); await page.goto(BASE + '/field#/list/hazard'); await page.waitForSelector('#list li'); });
    await shot('field-form', size, async (page) => { await fieldSignIn(page); await page.goto(BASE + '/field#/new/inspection'); await page.waitForSelector('#checklist'); });
    // the unit's ticket queue by deadline; a ticket accepted on the phone offline (the action waiting, the reply and resolve forms)
    await shot('field-tickets', size, async (page) => { await fieldSignIn(page); await page.goto(BASE + '/field#/tickets'); await page.waitForSelector('#tk-list li'); });
    await shot('field-ticket', size, async (page) => {
      await fieldSignIn(page);
      await page.goto(BASE + '/field#/tickets');
      await page.waitForSelector('#tk-list li');
      await page.locator('#tk-list li a').first().click();
      await page.waitForSelector('#tk-status');
      if (await page.locator('#tk-accept').count()) {
        await page.context().setOffline(true);
        await page.click('#tk-accept');
        await page.waitForSelector('#tk-issues [data-state=pending]');
      }
      await page.evaluate(() => window.scrollTo(0, 0));
    });
    // rectification orders on the phone: the orders by deadline, an open order with the
    // rectify form (a photo added), and a rectified one with the server's photo check
    if (size === 'phone' && orders) {
      await shot('field-orders', size, async (page) => { await fieldSignIn(page); await page.goto(BASE + '/field#/orders'); await page.waitForSelector(`#ho-list li[data-id="${orders.open}"]`); });
      await shot('field-order', size, async (page) => {
        await fieldSignIn(page);
        await page.goto(BASE + '/field#/r/' + orders.open);
        await page.waitForSelector('#ho-rectify');
        await page.fill('#ho-rectify-note', '已铲除空鼓层，重新抹灰并刷防水涂料。');
        await page.setInputFiles('#ho-rectify-photos', PHOTO);
        await page.waitForSelector('#ho-rectify-thumbs img[src]');
        await page.evaluate(() => window.scrollTo(0, 0));
      });
      await shot('field-order-checked', size, async (page) => {
        await fieldSignIn(page);
        await page.goto(BASE + '/field#/r/' + orders.done);
        await page.waitForSelector('#ho-proof');
        await page.evaluate(() => window.scrollTo(0, 0));
      });
    }
  }
}
await browser.close();
console.log(saved.join('\n'));
