// Measures the resident page: bytes transferred on a first load and on a repeat load (service
// worker cache), and time to interactive on a throttled slow-3G profile (400 kbit/s, 400 ms RTT,
// CPU 4× slower). Prints a table. Usage: ANJU_URL=http://127.0.0.1:8080 node weight.mjs
// "Interactive" = the category buttons are on screen and wired (performance mark 'anju-interactive').
// ANJU_PAGE=/field measures the field app instead (interactive: its store is open and the first
// screen drawn, the same mark).
import { BASE, PHONE, launch } from './lib.mjs';

const SLOW3G = { offline: false, latency: 400, downloadThroughput: (400 * 1000) / 8, uploadThroughput: (400 * 1000) / 8 };
const RUNS = Number(process.env.RUNS || 3);
const PAGE = process.env.ANJU_PAGE || '/';

async function measure(browser, { throttle }) {
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  if (throttle) {
    await cdp.send('Network.emulateNetworkConditions', SLOW3G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  }
  const out = [];
  for (const label of ['first load', 'repeat load']) {
    let bytes = 0, requests = 0, fromNetwork = 0;
    const byType = {};
    const onFinished = async (req) => {
      const res = await req.response();
      if (!res) return;
      requests++;
      if (res.fromServiceWorker()) return; // answered from the phone's cache: nothing crossed the network
      const s = await req.sizes().catch(() => null);
      if (!s) return;
      const n = s.responseBodySize + s.responseHeadersSize + s.requestHeadersSize + s.requestBodySize;
      bytes += n; fromNetwork++;
      const kind = new URL(req.url()).pathname.startsWith('/api/') ? 'api' : req.resourceType();
      byType[kind] = (byType[kind] || 0) + n;
    };
    ctx.on('requestfinished', onFinished);
    const t0 = Date.now();
    if (label === 'first load') await page.goto(BASE + PAGE, { waitUntil: 'load' });
    else await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => performance.getEntriesByName('anju-interactive').length > 0, null, { timeout: 60000 });
    const tti = await page.evaluate(() => performance.getEntriesByName('anju-interactive')[0].startTime);
    const nav = await page.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd }; });
    if (label === 'first load') {
      // let the service worker finish installing its cache before the repeat load
      await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
      await page.waitForTimeout(throttle ? 8000 : 1000);
    } else await page.waitForTimeout(500);
    ctx.off('requestfinished', onFinished);
    out.push({ label, bytes, requests, fromNetwork, tti, dcl: nav.dcl, load: nav.load, byType, wall: Date.now() - t0 });
  }
  await ctx.close();
  return out;
}

const browser = await launch();
const rows = [];
const fast = await measure(browser, { throttle: false });
for (const r of fast) rows.push({ profile: 'unthrottled', ...r });
const slow = [];
for (let i = 0; i < RUNS; i++) slow.push(await measure(browser, { throttle: true }));
for (const k of [0, 1]) {
  const runs = slow.map((s) => s[k]).sort((a, b) => a.tti - b.tti);
  rows.push({ profile: `slow 3G + CPU 4× (median of ${RUNS})`, ...runs[Math.floor(runs.length / 2)] });
}
await browser.close();

const kb = (n) => (n / 1024).toFixed(1) + ' KB';
const ms = (n) => (n / 1000).toFixed(2) + ' s';
const table = [['profile', 'load', 'transferred', 'requests (network/all)', 'DOMContentLoaded', 'interactive', 'breakdown']];
for (const r of rows) table.push([r.profile, r.label, kb(r.bytes), `${r.fromNetwork}/${r.requests}`, ms(r.dcl), ms(r.tti),
  Object.entries(r.byType).map(([k, v]) => `${k} ${kb(v)}`).join(', ') || '—']);
const w = table[0].map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
console.log(`Page ${BASE}${PAGE} at ${PHONE.width}×${PHONE.height}`);
for (const [i, row] of table.entries()) {
  console.log('| ' + row.map((c, j) => String(c).padEnd(w[j])).join(' | ') + ' |');
  if (i === 0) console.log('| ' + w.map((n) => '-'.repeat(n)).join(' | ') + ' |');
}
console.log('Transferred = request and response headers + compressed bodies that crossed the network, as Chromium reports them, including the service worker installing its cache ("fetch"). Throttling is applied to the page target; the service worker\'s own requests are not throttled.');
