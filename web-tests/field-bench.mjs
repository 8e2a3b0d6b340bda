// The field app's sync figures in Chromium (issue 14): the first sync of 5,000 records (time,
// records on the phone, IndexedDB size) and 500 offline edits (time to queue them, time to push
// them and to be up to date again). Prints a table.
// Usage: bash web-tests/run.sh field-bench (or ANJU_URL=… ANJU_ADMIN_PASSWORD=… node field-bench.mjs).
// Seeding: an admin's device pushes RECORDS hazards (1,000 per batch, the protocol's limit) for a
// unit of the sample city through POST /api/v1/sync/push, and a fresh unit_staff account of that
// unit signs in on /field at 360×740, so its scope holds the seeded hazards plus whatever the
// sample city already gives that unit (the table says how many were pulled).
import { BASE, PHONE, launch, apiCall } from './lib.mjs';

const RECORDS = Number(process.env.RECORDS || 5000);
const EDITS = Number(process.env.EDITS || 500);
const UNIT = process.env.BENCH_UNIT || 'hexi_jianshe_office';
const PASSWORD = 'field-bench-password-1';

function uuidv7() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
  b[6] = (b[6] & 0x0f) | 0x70; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return x.slice(0, 8) + '-' + x.slice(8, 12) + '-' + x.slice(12, 16) + '-' + x.slice(16, 20) + '-' + x.slice(20);
}
const hlc = (i) => Date.now().toString(16).padStart(16, '0') + '-' + i.toString(16).padStart(8, '0') + '-bench';

async function seed() {
  const admin = await apiCall('POST', '/api/v1/auth/login', { json: { username: 'admin', password: process.env.ANJU_ADMIN_PASSWORD } });
  const cat = await apiCall('GET', '/api/v1/registers', { token: admin.access_token });
  const unit = cat.units.find((u) => u.code === UNIT);
  const area = cat.areas.find((a) => a.code === 'hexi-jianshe-1') || cat.areas[0];
  const username = 'bench.' + Date.now().toString(36);
  await apiCall('POST', '/api/v1/admin/users', { token: admin.access_token, json: { username, display_name: '基准测试经办人', role: 'unit_staff', unit: UNIT, password: PASSWORD } });
  const dev = await apiCall('POST', '/api/v1/devices', { token: admin.access_token, json: { name: 'field-bench seeder', platform: 'node' } });
  const bound = await apiCall('POST', '/api/v1/auth/login', { json: { username: 'admin', password: process.env.ANJU_ADMIN_PASSWORD, device_id: dev.device_id } });
  let seq = 0;
  const t0 = performance.now();
  for (let done = 0; done < RECORDS; done += 1000) {
    const mutations = [];
    for (let i = done; i < Math.min(RECORDS, done + 1000); i++) {
      mutations.push({ seq: ++seq, record_type: 'hazard', record_id: uuidv7(), op: 'upsert', base_version: null, hlc: hlc(i), fields: {
        description: `基准测试隐患 ${i + 1}：楼道墙面空鼓、外墙瓷砖松动，需铲除重做`, location: `${i % 40 + 1}号楼${i % 6 + 1}单元`,
        area_id: area.id, unit_id: unit.id, severity: ['low', 'medium', 'high'][i % 3], status: 'open',
        order_no: `基准整改〔2026〕${i + 1}号`, order_issued_on: '2026-12-01', deadline: '2027-01-31', responsible_person: '王建国' } });
    }
    const r = await apiCall('POST', '/api/v1/sync/push', { token: bound.access_token, json: { protocol: 1, device_id: dev.device_id, mutations } });
    const bad = r.results.filter((x) => x.outcome === 'rejected');
    if (bad.length) throw new Error('seed refused: ' + JSON.stringify(bad[0]));
  }
  return { username, seedMs: performance.now() - t0 };
}

const { username, seedMs } = await seed();
const browser = await launch();
const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
const page = await ctx.newPage();
page.on('pageerror', (e) => console.error('pageerror:', e.message));
await page.goto(BASE + '/field');
await page.waitForSelector('body[data-ready="1"]');
await page.waitForSelector('#login-view:not([hidden])');
await page.fill('#login-user', username);
await page.fill('#login-pass', PASSWORD);
const t0 = Date.now();
await page.click('#login-submit');
await page.waitForSelector('body[data-sync=done]', { timeout: 600000 });
const firstSync = Date.now() - t0;
await page.waitForTimeout(500);

const facts = () => page.evaluate(async () => {
  const { open, run } = await import('/assets/field-db.js');
  const db = await open();
  const n = await run(db, ['records', 'outbox', 'rejected', 'conflicts'], 'readonly', async (tx) => ({ records: await tx.count('records'), outbox: await tx.count('outbox'), rejected: await tx.count('rejected'), conflicts: await tx.count('conflicts') }));
  db.close();
  const est = await navigator.storage.estimate();
  return { ...n, usage: est.usage, idb: est.usageDetails ? est.usageDetails.indexedDB : null };
});
const after1 = await facts();

// 500 edits offline, each saved as the app saves a form (one durable IndexedDB transaction with
// its sequence number and clock stamp), then the view the app shows rebuilt once.
await ctx.setOffline(true);
const queued = await page.evaluate(async (EDITS) => {
  const { open } = await import('/assets/field-db.js');
  const { FieldStore } = await import('/assets/field-sync.js');
  const { kv } = await import('/assets/field-db.js');
  const store = new FieldStore(await open());
  store.schemas = (await kv(store.db, ['schemas'])).schemas;
  const hazards = (await store.view('hazard')).filter((r) => r.server_version != null && /^基准测试隐患/.test(r.fields.description)).slice(0, EDITS);
  const t0 = performance.now();
  for (const [i, r] of hazards.entries()) {
    await store.enqueue('hazard', r.id, 'upsert', r.server_version, { rectification_note: '现场复查记录 ' + (i + 1), responsible_person: '李明' });
  }
  const queue = performance.now() - t0;
  const t1 = performance.now();
  const view = await store.view();
  const rebuild = performance.now() - t1;
  store.db.close();
  return { n: hazards.length, queue, rebuild, viewed: view.length };
}, EDITS);
const pendingNow = () => page.getAttribute('#status-line', 'data-pending').then(Number);
// the push requests' own span (first request sent to last answer read), apart from the pull after
await page.addInitScript(() => {
  const orig = window.fetch;
  window.__push = { start: null, end: null, batches: 0 };
  window.fetch = async (...args) => {
    const url = String(args[0] && args[0].url ? args[0].url : args[0]);
    if (!url.includes('/api/v1/sync/push')) return orig(...args);
    if (window.__push.start == null) window.__push.start = performance.now();
    const res = await orig(...args);
    const body = await res.clone().arrayBuffer();
    window.__push.end = performance.now();
    window.__push.batches++;
    void body;
    return res;
  };
});
await page.reload();
await page.waitForSelector('body[data-ready="1"]');
const beforePush = await pendingNow();

await ctx.setOffline(false);
const t2 = Date.now();
await page.waitForFunction(() => Number(document.querySelector('#status-line').dataset.pending) === 0 && document.body.dataset.sync === 'done', null, { timeout: 600000 });
const pushed = Date.now() - t2;
const push = await page.evaluate(() => window.__push);
const after2 = await facts();
await browser.close();

const kb = (n) => (n == null ? '—' : n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : (n / 1024).toFixed(0) + ' KB');
const s = (ms) => (ms / 1000).toFixed(2) + ' s';
const rows = [
  ['figure', 'value', 'notes'],
  ['seeding (server, not the phone)', s(seedMs), `${RECORDS} hazards pushed in batches of 1,000 by an admin device`],
  ['first sync: sign-in to up to date', s(firstSync), `${after1.records} records pulled (login, device, schemas, directory, checklists, pull pages of 1,000)`],
  ['first sync: per 1,000 records', s(firstSync / (after1.records / 1000)), ''],
  ['IndexedDB after the first sync', kb(after1.idb), `origin total ${kb(after1.usage)} (with the service worker's shell)`],
  [`${queued.n} offline edits: time to queue`, s(queued.queue), `${(queued.queue / queued.n).toFixed(1)} ms per edit (one durable transaction each)`],
  ['view rebuilt after them', s(queued.rebuild), `${queued.viewed} records with ${queued.n} pending changes on top`],
  [`${beforePush} queued edits: time to push`, s(push.end - push.start), `${push.batches} push requests of up to 500 (the app's batch), answers stored`],
  [`${beforePush} queued edits: reconnect to up to date`, s(pushed), 'the push, then the pull that brings the changed records back'],
  ['IndexedDB after the push', kb(after2.idb), `outbox ${after2.outbox}, refused ${after2.rejected}, conflicts ${after2.conflicts}`],
];
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
console.log(`Field sync figures, ${BASE}/field at ${PHONE.width}×${PHONE.height}, Chromium (headless), unthrottled`);
for (const [i, r] of rows.entries()) {
  console.log('| ' + r.map((c, j) => String(c).padEnd(w[j])).join(' | ') + ' |');
  if (i === 0) console.log('| ' + w.map((n) => '-'.repeat(n)).join(' | ') + ' |');
}
