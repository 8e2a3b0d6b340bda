// (c) a unit user signs in, accepts and resolves with a photo; (d) the resident confirms on the
// tracking page; (e) the supervisor board shows the unit's rates changed.
// Needs ANJU_UNIT_USER/ANJU_UNIT_PASSWORD and ANJU_SUPERVISOR_USER/ANJU_SUPERVISOR_PASSWORD.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PHONE, DESKTOP, PHOTO, launch, marker, watch, has, login, apiCall, findTicket, list, staffSignIn } from '../lib.mjs';

const ready = has('unit') && has('supervisor');
let browser;
before(async () => { if (has('unit')) browser = await launch(); });
after(async () => { await browser?.close(); });

/** The unit's row on the board as {dispatched, response_rate, …} (raw values from data-v). */
async function boardRow(page, unitId) {
  const row = page.locator(`#rates-table tr[data-unit-id="${unitId}"]`);
  if (!(await row.count())) return null;
  return row.evaluate((tr) => Object.fromEntries([...tr.querySelectorAll('td[data-k]')].map((td) => [td.dataset.k, td.dataset.v ?? td.textContent])));
}

test('(c)(d)(e) unit accepts and resolves with a photo, resident confirms, board rates change', { skip: !ready && 'set ANJU_UNIT_* and ANJU_SUPERVISOR_*' }, async () => {
  const unit = await login('unit');
  const sup = await login('supervisor');
  assert.ok(unit.user.unit_id != null, 'the unit user belongs to a unit');

  // the board before
  const board = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  const boardProblems = watch(board);
  await staffSignIn(board, '/board', 'supervisor');
  await board.waitForFunction(() => document.documentElement.dataset.ready === '1');
  const before = await boardRow(board, unit.user.unit_id);

  // a resident files a complaint (through the API: the form itself is covered by resident.test)
  const cats = await apiCall('GET', '/api/v1/categories');
  const areas = await apiCall('GET', '/api/v1/areas');
  const community = areas.find((a) => a.kind === 'community');
  const text = marker('小区改造后路灯不亮，已经一周');
  const cat = cats.find((c) => !c.needs_photo_proof) || cats[0];
  const filed = await apiCall('POST', '/api/v1/complaints', { headers: { 'Idempotency-Key': crypto.randomUUID() },
    json: { category: cat.code, description: text, area_id: community.id } });
  // whichever unit the rules chose, the supervisor sends it to the test's unit
  let [ticket] = await findTicket(sup.access_token, text);
  assert.ok(ticket, 'the supervisor sees the new ticket');
  ticket = await apiCall('GET', '/api/v1/tickets/' + ticket.id, { token: sup.access_token });
  if (!ticket.unit || String(ticket.unit.id) !== String(unit.user.unit_id) || !['dispatched', 'reopened'].includes(ticket.status)) {
    await apiCall('POST', `/api/v1/tickets/${ticket.id}/dispatch`, { token: sup.access_token, json: { unit_id: unit.user.unit_id } });
  }

  // (c) the unit user, in the console, with the keyboard where it matters
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  const problems = watch(page);
  await staffSignIn(page, '/console', 'unit');
  await page.fill('#f-q', text);
  await page.press('#f-q', 'Enter');
  const link = page.locator('#queue tbody a', { hasText: filed.ticket_no });
  // A redraw of the queue (the filter form sent again, as a refresh does) keeps the keyboard on
  // the same ticket: its new link has the focus.
  await link.waitFor();
  await link.focus();
  const drawn = await link.elementHandle();
  await page.evaluate(() => document.querySelector('#filters').requestSubmit());
  await page.waitForFunction((old) => !old.isConnected, drawn);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), filed.ticket_no);
  // The queue refreshes itself and may redraw between the focus and the key press (the focused
  // link is then gone): focus the current link and press Enter again until the ticket opens.
  for (let attempt = 0; ; attempt++) {
    await link.waitFor();
    await link.focus();
    await page.keyboard.press('Enter');
    try { await page.waitForSelector('form[data-action=accept]', { timeout: 8000 }); break; } catch (e) { if (attempt >= 3) throw e; }
  }
  await page.click('form[data-action=accept] button[type=submit]');
  await page.waitForSelector('form[data-action=accept]', { state: 'detached' });
  await page.waitForSelector('form[data-action=resolve]');
  await page.fill('form[data-action=reply] textarea', '已联系物业，明天上午维修。');
  await page.click('form[data-action=reply] button[type=submit]');
  await page.locator('#detail-body .timeline', { hasText: '已联系物业' }).waitFor();
  await page.fill('form[data-action=resolve] textarea', '路灯线路已修复，照片为修复后。');
  await page.setInputFiles('form[data-action=resolve] input[type=file]', PHOTO);
  await page.waitForSelector('form[data-action=resolve] .thumbs img');
  await page.click('form[data-action=resolve] button[type=submit]');
  await page.waitForSelector('form[data-action=resolve]', { state: 'detached', timeout: 20000 });
  assert.match(await page.textContent('#detail-body .badge'), /已办结|Resolved/);
  assert.deepEqual(problems, []);

  // (d) the resident confirms on the tracking page, on a phone
  const res = await (await browser.newContext({ viewport: PHONE })).newPage();
  const resProblems = watch(res);
  await res.goto(BASE + '/t/' + filed.tracking_code);
  await res.waitForSelector('#rate:not([hidden])');
  assert.ok(await res.locator('#timeline img').count() >= 1, 'the resolution photo is on the timeline');
  assert.match(await res.textContent('#timeline'), /已联系物业/);
  await res.click('label[for=star5]');
  await res.fill('#comment', '修好了，谢谢');
  await res.click('#confirm');
  await res.waitForSelector('#rated:not([hidden])');
  assert.ok(await res.locator('#rate').isHidden());
  const tracked = await apiCall('GET', '/api/v1/track/' + filed.tracking_code);
  assert.equal(tracked.status, 'closed');
  assert.equal(tracked.rating.stars, 5);
  assert.deepEqual(resProblems, []);

  // (e) the board after
  await board.reload();
  await board.waitForFunction(() => document.documentElement.dataset.ready === '1');
  const afterRow = await boardRow(board, unit.user.unit_id);
  assert.ok(afterRow, 'the unit is on the board');
  assert.notDeepEqual(afterRow, before, 'the rates changed');
  assert.ok(Number(afterRow.dispatched) >= Number(before?.dispatched ?? 0) + 1, 'one more ticket dispatched');
  assert.deepEqual(boardProblems, []);
});

test('an expired session asks to sign in again and keeps what was typed', { skip: !has('unit') && 'set ANJU_UNIT_*' }, async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  await staffSignIn(page, '/console', 'unit');
  await page.waitForSelector('#queue tbody tr a');
  await page.click('#queue tbody tr a');
  await page.waitForSelector('form[data-action=note] textarea');
  await page.fill('form[data-action=note] textarea', '这段备注不能丢');
  // both tokens become useless, as after a long lunch
  await page.evaluate(() => { const s = JSON.parse(sessionStorage.getItem('anju.session')); s.access_token = 'expired'; s.refresh_token = 'expired'; sessionStorage.setItem('anju.session', JSON.stringify(s)); });
  await page.click('form[data-action=note] button[type=submit]');
  await page.waitForSelector('#login-dialog[open]');
  assert.match(await page.textContent('#login-msg'), /过期|expired/);
  assert.equal(await page.inputValue('form[data-action=note] textarea'), '这段备注不能丢');
  await page.fill('#login-pass', process.env.ANJU_UNIT_PASSWORD);
  if (!(await page.inputValue('#login-user'))) await page.fill('#login-user', process.env.ANJU_UNIT_USER);
  await page.click('#login-form button[type=submit]');
  await page.locator('#detail-body .timeline', { hasText: '这段备注不能丢' }).waitFor(); // saved after signing in again
  await ctx.close();
});

/** Files a complaint through the API and makes sure it sits at the test unit's desk. */
async function ticketForUnit(unit, sup, what) {
  const cats = await apiCall('GET', '/api/v1/categories');
  const areas = await apiCall('GET', '/api/v1/areas');
  const text = marker(what);
  const filed = await apiCall('POST', '/api/v1/complaints', { headers: { 'Idempotency-Key': crypto.randomUUID() },
    json: { category: (cats.find((c) => !c.needs_photo_proof) || cats[0]).code, description: text, area_id: areas.find((a) => a.kind === 'community').id } });
  let [ticket] = await findTicket(sup.access_token, text);
  ticket = await apiCall('GET', '/api/v1/tickets/' + ticket.id, { token: sup.access_token });
  if (!ticket.unit || String(ticket.unit.id) !== String(unit.user.unit_id) || ticket.status !== 'dispatched') {
    ticket = await apiCall('POST', `/api/v1/tickets/${ticket.id}/dispatch`, { token: sup.access_token, json: { unit_id: unit.user.unit_id } });
  }
  return { filed, ticket, text };
}

test('an extension asked for in the console, approved on the board, shows on the tracking page with its reason', { skip: !ready && 'set ANJU_UNIT_* and ANJU_SUPERVISOR_*' }, async () => {
  const unit = await login('unit'), sup = await login('supervisor');
  const { filed, ticket } = await ticketForUnit(unit, sup, '外墙脚手架拆除延误');
  const page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  const problems = watch(page);
  await staffSignIn(page, '/console#t=' + encodeURIComponent(ticket.id), 'unit');
  await page.click('form[data-action=accept] button[type=submit]');
  // request_extension is offered before accepting too: wait for the accepted view, or the
  // re-render after accepting wipes what the test typed
  await page.waitForSelector('form[data-action=accept]', { state: 'detached' });
  await page.waitForSelector('form[data-action=request_extension]');
  const due = new Date(Date.parse(ticket.resolution_due || new Date()) + 10 * 864e5 + 8 * 3600e3).toISOString().slice(0, 10) + 'T18:00';
  await page.fill('form[data-action=request_extension] textarea', '等待材料到货');
  await page.fill('form[data-action=request_extension] input[type=datetime-local]', due);
  await page.click('form[data-action=request_extension] button[type=submit]');
  await page.locator('#msg.ok', { hasText: /申请延期|extension/ }).waitFor();

  const board = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  watch(board);
  await staffSignIn(board, '/board', 'supervisor');
  const item = board.locator('#ext li', { hasText: filed.ticket_no });
  await item.waitFor();
  await item.getByRole('button', { name: '批准', exact: true }).click();
  await item.waitFor({ state: 'detached' });

  const res = await (await browser.newContext({ viewport: PHONE })).newPage();
  await res.goto(BASE + '/t/' + filed.tracking_code);
  await res.waitForSelector('#view:not([hidden])');
  const timeline = await res.textContent('#timeline');
  assert.match(timeline, /等待材料到货/);
  assert.match(timeline, /新的办结时限/);
  assert.deepEqual(problems, []);
});

test('a unit returns a misrouted ticket with a reason; the dispatch queue sends it on', { skip: !ready && 'set ANJU_UNIT_* and ANJU_SUPERVISOR_*' }, async () => {
  const unit = await login('unit'), sup = await login('supervisor');
  const { filed, ticket } = await ticketForUnit(unit, sup, '不归本单位管的问题：路灯');
  const page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  const problems = watch(page);
  await staffSignIn(page, '/console#t=' + encodeURIComponent(ticket.id), 'unit');
  await page.waitForSelector('form[data-action=return]');
  await page.fill('form[data-action=return] textarea', '路灯归街道办管理');
  await page.click('form[data-action=return] button[type=submit]');
  await page.waitForSelector('#msg.ok');
  assert.deepEqual(problems, []);

  const disp = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  watch(disp);
  await staffSignIn(disp, '/console', 'supervisor');
  await disp.click('#tab-dispatch');
  const link = disp.locator('#queue tbody a', { hasText: filed.ticket_no });
  await link.waitFor();
  await link.click();
  const form = disp.locator('form[data-action=dispatch], form[data-action=reassign]');
  await form.waitFor();
  const control = form.locator('select, input[name=unit]').first();
  if (await control.evaluate((el) => el.tagName === 'SELECT')) await control.selectOption(String(unit.user.unit_id));
  else await control.fill(String(unit.user.unit_id));
  await form.locator('button[type=submit]').click();
  await disp.waitForSelector('#msg.ok');
  const after = await apiCall('GET', '/api/v1/tickets/' + ticket.id, { token: sup.access_token });
  assert.equal(after.status, 'dispatched');
  assert.ok(after.events.some((e) => e.kind === 'returned' && /街道办/.test(e.reason || e.text || '')));
});
