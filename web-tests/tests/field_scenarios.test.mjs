// The sync scenarios of tests/scenarios/field_sync.json, run by the field app at 360×740: the
// page's own forms, offline switch and sync button, one browser context per device. The Rust
// device library runs the same file (tests/tests/e2e/sync_scenarios.rs), so both clients are held
// to the same outcomes on the same server scenarios: the records, conflicts and refusals on the
// server, and what each device holds afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BASE, PHONE, launch, watch, has, login, apiCall, creds, fieldSignIn } from '../lib.mjs';

const FILE = JSON.parse(readFileSync(new URL('../../tests/scenarios/field_sync.json', import.meta.url), 'utf8'));

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const skip = has('unit') && has('supervisor') ? false : 'needs ANJU_UNIT_USER and ANJU_SUPERVISOR_USER';

/** Reads a store of the page's IndexedDB. */
const idb = (page, store) => page.evaluate((store) => new Promise((resolve, reject) => {
  const r = indexedDB.open('anju-field');
  r.onsuccess = () => { const g = r.result.transaction(store).objectStore(store).getAll(); g.onsuccess = () => { r.result.close(); resolve(g.result); }; g.onerror = reject; };
  r.onerror = reject;
}), store);

/** Waits until no sync runs and none is about to start (a save asks for one 0.8 s later). */
async function settle(page) {
  await page.waitForTimeout(1200);
  await page.waitForFunction(() => document.body.dataset.sync !== 'running' && !document.querySelector('#sync-now')?.disabled, null, { timeout: 60000 });
}

async function device(name) {
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, serviceWorkers: 'block' });
  const page = await ctx.newPage();
  const problems = watch(page);
  await fieldSignIn(page);
  await settle(page);
  return { name, ctx, page, problems };
}

/** Fills the open form with `fields` (selects by value) and saves; the record's id. */
async function fillAndSave(page, fields, ids) {
  await page.waitForSelector('#form #save');
  for (const [k, raw] of Object.entries(fields)) {
    const v = String(ids[raw] ?? raw);
    const el = page.locator('#f-' + k);
    if (!(await el.count())) {
      // a new hazard starts open: the form sets it, it offers no control for it
      assert.equal(k, 'status', 'the form has a control for ' + k);
      continue;
    }
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(v); else await el.fill(v);
  }
  await page.click('#save');
  await page.waitForSelector('#record-view:not([hidden])');
  return page.url().split('#/r/')[1];
}

async function syncNow(page) {
  const n = await page.evaluate(() => Number(document.body.dataset.syncs || 0));
  await page.click('#sync-now');
  await page.waitForFunction((n) => Number(document.body.dataset.syncs || 0) > n, n, { timeout: 60000 });
  await settle(page);
}

for (const sc of FILE.scenarios) {
  test(sc.name, { skip }, async () => {
    const sup = await login('supervisor');
    const dir = await apiCall('GET', '/api/v1/directory', { token: sup.access_token });
    const ids = {};
    for (const a of dir.areas) ids['$area:' + a.code] = a.id;
    for (const u of dir.units) ids['$unit:' + u.code] = u.id;
    const devices = {};
    for (const name of sc.devices) devices[name] = await device(name);
    const records = {};
    for (const step of sc.steps) {
      if (step.office) {
        // the office changes the record in the registers, at its current version
        const url = '/api/v1/registers/hazard/' + records[step.office];
        const { record } = await apiCall('GET', url, { token: sup.access_token });
        const fields = Object.fromEntries(Object.entries(step.fields).map(([k, v]) => [k, ids[v] ?? v]));
        await apiCall('PATCH', url, { token: sup.access_token, json: { base_version: record.version, fields } });
        continue;
      }
      const { page, ctx } = devices[step.on];
      if (step.offline) await ctx.setOffline(true);
      else if (step.online) { await ctx.setOffline(false); await settle(page); }
      else if (step.create) {
        await page.goto(BASE + '/field#/new/' + step.create);
        records[step.as] = await fillAndSave(page, step.fields, ids);
      } else if (step.edit) {
        await page.goto(BASE + '/field#/edit/' + records[step.edit]);
        await fillAndSave(page, step.fields, ids);
      } else if (step.sync) await syncNow(page);
      else if (step.create_during_reset || step.edit_during_reset) {
        // the next pull with a cursor is answered 410; the download again waits for the new
        // record or the edit
        let resets = 0, held = 0, release;
        const gate = new Promise((r) => { release = r; });
        await page.route('**/api/v1/sync/pull*', async (route) => {
          const cursor = new URL(route.request().url()).searchParams.get('cursor');
          if (cursor && resets === 0) {
            resets++;
            return route.fulfill({ status: 410, contentType: 'application/problem+json', body: JSON.stringify({ code: 'reset_required', title: 'reset' }) });
          }
          if (!cursor && resets === 1 && held++ === 0) await gate;
          return route.continue();
        });
        await page.click('#sync-now');
        await page.waitForFunction(() => /重新下载/.test(document.querySelector('#progress-label')?.textContent || ''), null, { timeout: 60000 });
        if (step.create_during_reset) {
          await page.goto(BASE + '/field#/new/' + step.create_during_reset);
          records[step.as] = await fillAndSave(page, step.fields, ids);
        } else {
          await page.goto(BASE + '/field#/edit/' + records[step.edit_during_reset]);
          await fillAndSave(page, step.fields, ids);
        }
        assert.equal(Number(await page.getAttribute('#status-line', 'data-pending')), 1, 'the change waits during the download');
        release();
        await page.waitForFunction(() => Number(document.querySelector('#status-line')?.dataset.pending) === 0, null, { timeout: 60000 });
        await settle(page);
        await page.unroute('**/api/v1/sync/pull*');
        assert.equal(resets, 1, 'the reset was answered once');
      } else assert.fail('unknown step ' + JSON.stringify(step));
    }

    const ex = sc.expect;
    for (const [r, want] of Object.entries(ex.server || {})) {
      const res = await fetch(BASE + '/api/v1/registers/hazard/' + records[r], { headers: { Authorization: 'Bearer ' + sup.access_token } });
      if (want === null) { assert.equal(res.status, 404, `${r} is not on the server`); continue; }
      assert.equal(res.status, 200, `${r} is on the server`);
      const got = (await res.json()).record.fields;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], ids[v] ?? v, `server ${r}.${k}`);
    }
    for (const [r, want] of Object.entries(ex.conflicts || {})) {
      const got = await apiCall('GET', '/api/v1/sync/conflicts?status=all&record_id=' + records[r], { token: sup.access_token });
      assert.equal(got.length, want.length, `conflicts on ${r}: ${JSON.stringify(got)}`);
      want.forEach((w, i) => { for (const k of ['field', 'server_value', 'device_value']) assert.deepEqual(got[i][k], w[k], `conflict ${k} on ${r}`); });
    }
    for (const [name, want] of Object.entries(ex.devices || {})) {
      const { page, problems } = devices[name];
      const line = await page.$eval('#status-line', (e) => ({ ...e.dataset }));
      assert.equal(Number(line.pending), want.pending, `${name} pending`);
      assert.equal(Number(line.conflicts), want.conflicts, `${name} conflicts`);
      assert.deepEqual((await idb(page, 'rejected')).map((x) => x.code), want.rejected, `${name} refusals`);
      const held = await idb(page, 'records');
      for (const [r, f] of Object.entries(want.fields || {})) {
        const rec = held.find((x) => x.id === records[r]);
        if (f === null) { assert.equal(rec, undefined, `${name} no longer holds ${r}`); continue; }
        assert.ok(rec, `${name} holds ${r}`);
        for (const [k, v] of Object.entries(f)) assert.deepEqual(rec.fields[k], ids[v] ?? v, `${name} shows ${r}.${k}`);
      }
      assert.deepEqual(problems, []);
    }
    for (const d of Object.values(devices)) await d.ctx.close();
  });
}
