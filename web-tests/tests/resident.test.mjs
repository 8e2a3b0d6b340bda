// (a) a resident files a complaint on a 360×740 phone; (f) a description with <script> stays text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PHONE, launch, marker, watch, fillComplaint, NOT_IMAGE, has, login, findTicket, staffSignIn } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const CODE = /^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/;

test('(a) a resident files a complaint with a photo at 360×740 and gets a tracking code', async () => {
  const ctx = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(BASE + '/');
  // nothing is wider than the phone
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, 'page scrolls sideways by ' + overflow + 'px');
  // a file that is not an image is refused on the phone, with a message, and nothing is lost
  await page.setInputFiles('#photos', NOT_IMAGE);
  await page.waitForSelector('#photo-msg.err');
  // a bad phone number is said plainly
  await page.fill('#phone', '12345');
  await page.locator('#phone').blur();
  await page.waitForSelector('#phone-err.err');
  const text = marker('楼上装修每天早上六点开始电钻，影响休息');
  await fillComplaint(page, { description: text, phone: '13800138000' });
  await page.click('#submit');
  await page.waitForSelector('#done:not([hidden])', { timeout: 20000 });
  const code = (await page.textContent('#done-code')).trim();
  assert.match(code, CODE);
  assert.equal(await page.getAttribute('#done-link', 'href'), '/t/' + code);
  // the tracking page answers for it
  await page.click('#done-link');
  await page.waitForSelector('#view:not([hidden])');
  assert.equal((await page.textContent('#description')).trim(), text);
  assert.ok(await page.locator('#photos img').count() >= 1, 'the photo is shown on the tracking page');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('an unknown tracking code answers 404 with a page that says so', async () => {
  const page = await browser.newPage({ viewport: PHONE });
  const res = await page.goto(BASE + '/t/ZZZZ-ZZZZ-ZZZZ-ZZZZ');
  assert.equal(res.status(), 404);
  assert.match(await page.textContent('body'), /查询码不存在|does not exist|not found/i);
  await page.close();
});

test('(f) a description containing <script>alert(1)</script> shows as text', async () => {
  const page = await browser.newPage({ viewport: PHONE });
  const problems = watch(page);
  await page.goto(BASE + '/');
  const text = marker('门口堆放建筑垃圾 <script>alert(1)</script> <img src=x onerror=alert(2)>');
  await fillComplaint(page, { description: text, photo: false });
  await page.click('#submit');
  await page.waitForSelector('#done:not([hidden])', { timeout: 20000 });
  const code = (await page.textContent('#done-code')).trim();
  await page.goto(BASE + '/t/' + code);
  await page.waitForSelector('#view:not([hidden])');
  assert.equal((await page.textContent('#description')).trim(), text);
  assert.equal(await page.locator('#description script, #description img').count(), 0);
  if (has('supervisor')) {
    const { access_token } = await login('supervisor');
    const [t] = await findTicket(access_token, text);
    assert.ok(t, 'the supervisor finds the ticket');
    await staffSignIn(page, '/console#t=' + encodeURIComponent(t.id), 'supervisor');
    await page.waitForSelector('#detail-body .report');
    assert.equal((await page.textContent('#detail-body .report')).trim(), text);
    assert.equal(await page.locator('#detail-body .report script, #detail-body .report img').count(), 0);
  }
  await page.waitForTimeout(300);
  assert.deepEqual(problems, [], 'no script ran');
  await page.close();
});

test('every page reflows at 200 % text size on a 360 px phone (no sideways scrolling)', async () => {
  const page = await browser.newPage({ viewport: PHONE });
  for (const p of ['/', '/t/', '/public', '/console', '/board']) {
    await page.goto(BASE + p);
    await page.waitForLoadState('load');
    await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
    await page.waitForTimeout(300);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(over <= 1, `${p} scrolls sideways by ${over}px at 200 %`);
  }
  await page.close();
});

test('English by the visible switch, remembered, and sent as Accept-Language', async () => {
  const ctx = await browser.newContext({ viewport: PHONE });
  const page = await ctx.newPage();
  await page.goto(BASE + '/');
  await page.waitForSelector('#cats input[name=category]', { state: 'attached' });
  await page.fill('#desc', '切换语言时不能丢的文字');
  const asked = page.waitForRequest((r) => r.url().includes('/api/v1/') && r.headers()['accept-language'] === 'en');
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal((await page.textContent('#submit')).trim(), 'Send');
  assert.equal(await page.inputValue('#desc'), '切换语言时不能丢的文字');
  await page.reload();
  await page.waitForSelector('#cats input[name=category]', { state: 'attached' });
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await asked;
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal((await page.textContent('#submit')).trim(), '提交');
  await ctx.close();
});

test('"me too": the same problem in the same community is offered before filing, and followed with an own code', async () => {
  const { apiCall } = await import('../lib.mjs');
  const cats = await apiCall('GET', '/api/v1/categories');
  const areas = await apiCall('GET', '/api/v1/areas');
  const community = areas.find((a) => a.kind === 'community');
  const cat = cats[0];
  const text = marker('同一件事：小区东门施工围挡占了消防通道，我住3号楼2单元501室，电话13812345678');
  const first = await apiCall('POST', '/api/v1/complaints', { headers: { 'Idempotency-Key': crypto.randomUUID() },
    json: { category: cat.code, description: text, area_id: community.id } });
  const page = await browser.newPage({ viewport: PHONE });
  const problems = watch(page);
  await page.goto(BASE + '/');
  await page.waitForSelector('#cats input[name=category]', { state: 'attached' });
  await page.click(`label[for="cat-${cat.code}"]`);
  await page.waitForFunction(() => document.querySelector('#district').options.length > 1);
  // walk the area tree down to that community
  const chain = [];
  for (let a = community; a; a = areas.find((x) => x.id === a.parent_id)) chain.unshift(a);
  for (const [sel, kind] of [['#district', 'district'], ['#street', 'street'], ['#community', 'community']]) {
    const a = chain.find((x) => x.kind === kind);
    await page.waitForFunction((s) => document.querySelector(s).options.length > 1, sel);
    await page.selectOption(sel, String(a.id));
  }
  const item = page.locator('#similar-list li', { hasText: first.ticket_no });
  await item.waitFor();
  await item.locator('button').click();
  await page.waitForSelector('#done:not([hidden])');
  const code = (await page.textContent('#done-code')).trim();
  assert.notEqual(code, first.tracking_code);
  const view = await apiCall('GET', '/api/v1/track/' + encodeURIComponent(code));
  assert.equal(view.ticket_no, first.ticket_no);
  assert.ok(view.supporters >= 1, 'the "me too" is counted (supporters counts them, not the reporter)');
  // The supporter's tracking page: the report they joined, redacted, with none of its photos.
  await page.goto(BASE + '/t/' + encodeURIComponent(code));
  await page.waitForSelector('#view:not([hidden])');
  const shown = await page.textContent('#description');
  assert.ok(shown.includes('消防通道'), shown);
  for (const leak of ['13812345678', '501']) assert.ok(!shown.includes(leak), 'the supporter sees ' + leak);
  assert.ok(await page.locator('#privacy-note').isVisible());
  assert.equal(await page.locator('#photos img').count(), 0);
  assert.equal((await page.locator('#description').evaluate((d) => d.previousElementSibling.textContent)).trim(), '您加入的问题');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the public page lists renovation projects in the shape /api/v1/public/projects answers', async () => {
  const page = await browser.newPage({ viewport: PHONE });
  const problems = watch(page);
  // the sample city has no project records: answer with one, in the server's published shape
  await page.route('**/api/v1/public/projects', (route) => route.fulfill({ status: 200, contentType: 'application/json',
    body: JSON.stringify({ projects: [{ id: 'p1', name: '纺织厂家属院老旧小区改造', programme: 'old_community', area_id: 'a1', area_name: '纺织厂家属院',
      measure: 'household', planned_units: 240, completed_units: 60, progress_percent: 35, status: 'in_progress', planned_completion: '2027-06-30' }],
    totals: {} }) }));
  await page.goto(BASE + '/public');
  await page.waitForSelector('#projects:not([hidden])');
  const text = await page.textContent('#proj');
  for (const want of ['纺织厂家属院老旧小区改造', '老旧小区改造', '施工中', '240 户', '60 户', '35%']) assert.ok(text.includes(want), `${want} in ${text}`);
  assert.deepEqual(problems, []);
  await page.close();
});
