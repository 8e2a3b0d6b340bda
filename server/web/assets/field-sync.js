// The field app's sync, the same protocol and rules as the Rust client (client/src/sync.rs):
// photos uploaded by hash before the push that names them; the outbox pushed in order in batches
// of at most 500, each entry leaving only in the transaction that stores its answer; pull to the
// end with the device-bound cursor, each page committed with its cursor; 410 = download the scope
// again keeping unsent changes (and showing the records held until the new download is complete); network errors, 429 and 5xx retried with growing pauses (jitter,
// Retry-After); 401 = refresh the token pair once; revocation, an outdated protocol and a lost
// session stop the sync with the outbox untouched. A phone clock far ahead of the server's holds
// the push (the server would refuse the stamps: clock_drift); once the clock is right, stamps a
// wrong clock left in the outbox are renewed before they are sent.
import { request, ApiError, serverClock } from './api.js';
import { run, kv, setKv } from './field-db.js';

export const PROTOCOL = 1;
export const MAX_BATCH = 500;
const PULL_LIMIT = 1000;
/** The server refuses stamps more than 5 minutes ahead of its clock (`clock_drift`). */
export const MAX_DRIFT_MS = 5 * 60 * 1000;
/** How far the phone's clock may run ahead of the server's before the push waits (a margin under MAX_DRIFT_MS). */
export const MAX_AHEAD_MS = 4 * 60 * 1000;
/** How far behind the server's the phone's clock may run before the person is told. */
export const MAX_BEHIND_MS = 15 * 60 * 1000;

/** Why a sync stopped that trying again later will not fix by itself. */
export class SyncStop extends Error {
  constructor(kind, detail) { super(kind); this.kind = kind; this.detail = detail; }
}

// ---- hybrid logical clock: `{wall_ms:016x}-{counter:08x}-{node}`, sorts as the stamps do ----
const hex = (n, w) => n.toString(16).padStart(w, '0');
export function parseHlc(s) {
  const m = /^([0-9a-f]{16})-([0-9a-f]{8})-(.+)$/.exec(s || '');
  return m ? { wall: parseInt(m[1], 16), counter: parseInt(m[2], 16), node: m[3] } : null;
}
export const hlcText = (h) => hex(h.wall, 16) + '-' + hex(h.counter, 8) + '-' + h.node;
/** A stamp greater than `last` (and than the device's own clock). */
export function tick(last, node, now = Date.now()) {
  const l = parseHlc(last);
  // a stamp left far ahead by a wrong clock is not resumed (as client/src/store.rs: the server
  // would refuse every later stamp too)
  if (!l || l.wall > now + MAX_DRIFT_MS) return hlcText({ wall: now, counter: 0, node });
  return now > l.wall ? hlcText({ wall: now, counter: 0, node }) : hlcText({ wall: l.wall, counter: l.counter + 1, node });
}
function observe(last, remote, node, now = Date.now()) {
  const r = parseHlc(remote), l = parseHlc(last) || { wall: 0, counter: 0 };
  if (!r || r.wall > now + 300000) return last;
  const wall = Math.max(now, l.wall, r.wall);
  const counter = wall === l.wall && wall === r.wall ? Math.max(l.counter, r.counter) + 1 : wall === l.wall ? l.counter + 1 : wall === r.wall ? r.counter + 1 : 0;
  return hlcText({ wall, counter, node });
}

// ---- schemas: the JSON of anju_shared::records ----
export const kindOf = (f) => (typeof f.kind === 'string' ? f.kind : Object.keys(f.kind)[0]);
export const kindArgs = (f) => (typeof f.kind === 'string' ? {} : Object.values(f.kind)[0]);
export const policyOf = (f) => (typeof f.policy === 'string' ? f.policy : Object.keys(f.policy)[0]);
const rank = (order, v) => { const i = order.indexOf(v); return i < 0 ? null : i; };

/** The view of one record: server fields with acked and pending mutations on top (merge::rebase). */
export function rebase(schema, server, muts) {
  let view = server ? { ...server } : null;
  let deletedLocally = false;
  for (const m of muts) {
    if (m.op === 'delete') { view = null; deletedLocally = true; continue; }
    const creating = view === null;
    if (creating) {
      if (server || m.base_version != null || deletedLocally) continue; // edit of a record gone on the server
      view = {};
    }
    for (const [name, value] of Object.entries(m.fields || {})) {
      const spec = schema.fields.find((f) => f.name === name);
      if (!spec) continue;
      const pol = policyOf(spec);
      const cur = view[name];
      if (pol === 'add_wins_set') {
        const set = new Set(Array.isArray(cur) ? cur : []);
        const d = Array.isArray(value) ? { add: value } : (value || {});
        for (const r of d.remove || []) set.delete(r);
        for (const a of d.add || []) set.add(a);
        view[name] = [...set].sort();
        continue;
      }
      if (pol === 'server_authoritative' && !creating) continue;
      if (pol === 'monotonic') {
        const order = spec.policy.monotonic, s = rank(order, cur), d = rank(order, value);
        if (s !== null && (d === null || d < s)) continue;
      }
      if (value === null) delete view[name]; else view[name] = value;
    }
  }
  return view;
}

/** A phone's copy of the field records: outbox, view, sync. One per database. */
export class FieldStore {
  constructor(db) { this.db = db; this.schemas = []; this.running = null; }

  schema(type) { return this.schemas.find((s) => s.name === type); }

  /** Queues one mutation with the next sequence number, durably, in one transaction. */
  async enqueue(record_type, record_id, op, base_version, fields) {
    return run(this.db, ['kv', 'outbox'], 'readwrite', async (tx) => {
      const seq = (await tx.get('kv', 'next_seq')) || 1;
      let node = await tx.get('kv', 'node');
      if (!node) { node = 'web-' + crypto.randomUUID().slice(0, 13); await tx.put('kv', node, 'node'); }
      const hlc = tick(await tx.get('kv', 'last_hlc'), node);
      await tx.put('outbox', { seq, record_type, record_id, op, base_version, fields, hlc });
      await tx.put('kv', seq + 1, 'next_seq');
      await tx.put('kv', hlc, 'last_hlc');
      return seq;
    });
  }

  /** Stores a resized photo by its SHA-256; returns the hash. */
  async addPhoto(blob) {
    const buf = await blob.arrayBuffer();
    const sha256 = [...new Uint8Array(await crypto.subtle.digest('SHA-256', buf))].map((b) => hex(b, 2)).join('');
    await run(this.db, ['photos'], 'readwrite', async (tx) => {
      const had = await tx.get('photos', sha256);
      if (!had) await tx.put('photos', { sha256, blob: new Blob([buf], { type: blob.type || 'image/jpeg' }), size: buf.byteLength, uploaded: false });
    });
    return sha256;
  }
  photo(sha256) { return run(this.db, ['photos'], 'readonly', (tx) => tx.get('photos', sha256)); }

  /** Every visible record of `type` (or all), as the phone shows them. */
  async view(type) {
    const { records, muts, firstPending } = await run(this.db, ['records', 'acked', 'outbox'], 'readonly', async (tx) => {
      const records = type ? await tx.byType(type) : await tx.all('records');
      const acked = await tx.all('acked'), outbox = await tx.all('outbox');
      return { records, muts: acked.concat(outbox), firstPending: outbox.length ? outbox[0].seq : Infinity };
    });
    const by = new Map();
    for (const r of records) by.set(r.id, { row: r, muts: [] });
    for (const m of muts) {
      if (type && m.record_type !== type) continue;
      if (!by.has(m.record_id)) by.set(m.record_id, { row: null, muts: [] });
      by.get(m.record_id).muts.push(m);
    }
    const out = [];
    for (const [id, { row, muts: ms }] of by) {
      ms.sort((a, b) => a.seq - b.seq);
      const rtype = row ? row.record_type : ms[0] && ms[0].record_type;
      const schema = this.schema(rtype);
      if (!schema) continue;
      const server = row && !row.deleted ? row.fields : null;
      const fields = rebase(schema, server, ms);
      if (fields) out.push({ id, record_type: rtype, server_version: row && !row.deleted ? row.version : null, pending: ms.filter((m) => m.seq >= firstPending).length, fields });
    }
    out.sort((a, b) => (a.id < b.id ? 1 : -1)); // UUIDv7: newest first
    return out;
  }
  async show(id) {
    const row = await run(this.db, ['records'], 'readonly', (tx) => tx.get('records', id));
    const all = await this.view(row ? row.record_type : undefined);
    return all.find((r) => r.id === id) || null;
  }

  async counts() {
    return run(this.db, ['outbox', 'conflicts', 'rejected', 'records', 'kv'], 'readonly', async (tx) => ({
      pending: await tx.count('outbox'), conflicts: await tx.count('conflicts'), rejected: await tx.count('rejected'),
      records: await tx.count('records'), last_sync: await tx.get('kv', 'last_sync'), cursor: await tx.get('kv', 'cursor'),
    }));
  }
  conflicts() { return run(this.db, ['conflicts'], 'readonly', (tx) => tx.all('conflicts')); }
  rejections() { return run(this.db, ['rejected'], 'readonly', (tx) => tx.all('rejected')); }
  outbox() { return run(this.db, ['outbox'], 'readonly', (tx) => tx.all('outbox')); }
  /** Forgets a conflict this phone holds (after it was decided on the server). */
  dropConflict(key) { return run(this.db, ['conflicts'], 'readwrite', (tx) => tx.del('conflicts', key)); }

  // ---- the network side ----

  /** One API call as the device: 401 → refresh once; stops plainly on revocation or a lost session. */
  async authed(path, opts = {}) {
    for (let round = 0; ; round++) {
      const { session } = await kv(this.db, ['session']);
      if (!session) throw new SyncStop('login');
      try {
        return await retrying(() => request(path, { ...opts, token: session.access_token }));
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        if (e.code === 'device_revoked') throw new SyncStop('revoked');
        if (e.code === 'protocol_version_unsupported') throw new SyncStop('outdated', e.problem);
        if (e.status === 401 && round === 0) { await this.refresh(session); continue; }
        if (e.status === 401) throw new SyncStop('expired');
        throw e;
      }
    }
  }

  async refresh(session) {
    let r;
    try {
      r = await retrying(() => request('/api/v1/auth/refresh', { json: { refresh_token: session.refresh_token } }));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'device_revoked') throw new SyncStop('revoked');
      if (e instanceof ApiError && [400, 401, 403].includes(e.status)) throw new SyncStop('expired');
      throw e;
    }
    await setKv(this.db, { session: { ...r, user: r.user || session.user } });
  }

  /** Logs in, registers this phone as a device on first login, keeps a device-bound token pair. */
  async login(username, password) {
    const st = await kv(this.db, ['device_id', 'session', 'user']);
    if (st.user && st.user.username !== username) {
      const c = await this.counts();
      if (c.pending > 0) throw new SyncStop('other_user', st.user.username);
      await run(this.db, ['kv', 'records', 'acked', 'conflicts', 'rejected', 'photos'], 'readwrite', async (tx) => {
        for (const s of ['records', 'acked', 'conflicts', 'rejected', 'photos']) await tx.clear(s);
        for (const k of ['device_id', 'cursor', 'last_sync', 'session', 'user', 'directory', 'checklists', 'resetting']) await tx.del('kv', k);
      });
      st.device_id = null;
    }
    const once = (device_id) => request('/api/v1/auth/login', { json: device_id ? { username, password, device_id } : { username, password } });
    if (st.device_id) {
      const s = await once(st.device_id);
      await setKv(this.db, { session: s, user: s.user });
      return s.user;
    }
    const s = await once(null);
    const reg = await request('/api/v1/devices', { json: { name: ('安居外业 ' + navigator.userAgent).slice(0, 100), platform: 'web' }, token: s.access_token });
    await setKv(this.db, { device_id: reg.device_id, session: s, user: s.user });
    const bound = await once(reg.device_id);
    await setKv(this.db, { session: bound, user: bound.user });
    return bound.user;
  }

  /** Refreshes the schemas, pickers and checklists kept for offline use. */
  async loadReference() {
    const schemas = await this.authed('/api/v1/sync/schemas');
    const directory = await this.authed('/api/v1/directory');
    const fresh = { schemas, directory };
    // the checklists are a convenience: a failed download keeps the copy the phone has
    try { fresh.checklists = await this.authed('/api/v1/checklists'); } catch (e) { if (e instanceof SyncStop) throw e; }
    await setKv(this.db, fresh);
    this.schemas = schemas;
  }

  /** Photos, push, pull; one at a time per browser (Web Locks when there). */
  sync(progress = () => {}) {
    if (this.running) return this.running;
    const go = () => this.syncOnce(progress);
    const p = navigator.locks ? navigator.locks.request('anju-field-sync', go) : go();
    this.running = p.finally(() => { this.running = null; });
    return this.running;
  }

  async syncOnce(progress) {
    const report = { photos: 0, pushed: 0, conflicted: 0, rejected: 0, refusals: [], pulled: 0, reset: false };
    const { device_id } = await kv(this.db, ['device_id']);
    if (!device_id) throw new SyncStop('login');
    await this.loadReference();
    // the answers just read say how the phone's clock stands against the server's
    const skew = serverClock.skewMs;
    if (skew != null && skew > MAX_AHEAD_MS) report.clockAhead = skew;
    else if (skew != null && skew < -MAX_BEHIND_MS) report.clockBehind = -skew;
    await this.uploadPhotos(report, progress);
    if (!report.clockAhead) {
      await this.restamp(skew || 0);
      await this.pushOutbox(device_id, report, progress);
    }
    await this.pullAll(device_id, report, progress);
    return report;
  }

  /**
   * Renews the stamps of the outbox when one of them is ahead of the server's clock by more than
   * it accepts (written while the phone's clock ran ahead): fresh stamps from the corrected clock,
   * in sequence order, in one transaction. Returns how many were renewed.
   */
  restamp(skew) {
    const serverNow = Date.now() - skew;
    return run(this.db, ['outbox', 'kv'], 'readwrite', async (tx) => {
      const all = await tx.all('outbox');
      if (!all.some((m) => { const h = parseHlc(m.hlc); return !h || h.wall > serverNow + MAX_AHEAD_MS; })) return 0;
      const node = (await tx.get('kv', 'node')) || 'web';
      let last = null;
      for (const m of all) {
        last = tick(last, node);
        await tx.put('outbox', { ...m, hlc: last });
      }
      await tx.put('kv', last, 'last_hlc');
      return all.length;
    });
  }

  async uploadPhotos(report, progress) {
    const todo = (await run(this.db, ['photos'], 'readonly', (tx) => tx.all('photos'))).filter((p) => !p.uploaded);
    if (!todo.length) return;
    const { missing } = await this.authed('/api/v1/attachments/missing', { json: { hashes: todo.map((p) => p.sha256) } });
    const need = new Set(missing || []);
    let done = 0;
    progress({ phase: 'photos', done, total: need.size });
    for (const p of todo) {
      if (need.has(p.sha256)) {
        await this.authed('/api/v1/attachments/' + p.sha256, { method: 'PUT', body: p.blob, headers: { 'Content-Type': p.blob.type || 'image/jpeg' } });
        report.photos++; done++;
        progress({ phase: 'photos', done, total: need.size });
      }
      // marked one by one so an interrupted upload does not start over
      await run(this.db, ['photos'], 'readwrite', async (tx) => { const x = await tx.get('photos', p.sha256); if (x) { x.uploaded = true; await tx.put('photos', x); } });
    }
  }

  async pushOutbox(device_id, report, progress) {
    const total = (await this.counts()).pending;
    let done = 0;
    for (;;) {
      const batch = await run(this.db, ['outbox'], 'readonly', (tx) => tx.all('outbox', null, MAX_BATCH));
      if (!batch.length) return;
      progress({ phase: 'push', done, total });
      const mutations = batch.map(({ seq, record_type, record_id, op, base_version, fields, hlc }) => ({ seq, record_type, record_id, op, base_version: base_version ?? null, fields, hlc }));
      let resp;
      try {
        resp = await this.authed('/api/v1/sync/push', { json: { protocol: PROTOCOL, device_id, mutations } });
      } catch (e) {
        if (e instanceof ApiError && e.code === 'sequence_gap') throw new SyncStop('gap', e.problem);
        throw e;
      }
      const ok = resp && Array.isArray(resp.results) && resp.results.length === mutations.length && resp.results.every((r, i) => r.seq === mutations[i].seq && r.record_id === mutations[i].record_id);
      if (!ok) throw new SyncStop('garbage');
      await this.recordResults(batch, resp, report);
      done += batch.length;
      progress({ phase: 'push', done, total });
    }
  }

  /** Stores a push answer and removes the answered entries, in one transaction. */
  recordResults(batch, resp, report) {
    return run(this.db, ['outbox', 'acked', 'conflicts', 'rejected', 'kv'], 'readwrite', async (tx) => {
      const now = new Date().toISOString();
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i], r = resp.results[i];
        await tx.del('outbox', m.seq);
        report.pushed++;
        if (r.outcome === 'rejected') {
          report.rejected++;
          const x = { ...m, code: r.code, message_zh: r.message_zh, message_en: r.message_en, rejected_at: now };
          report.refusals.push(x);
          await tx.put('rejected', x);
          continue;
        }
        let kept = m;
        if (r.outcome === 'conflict') {
          report.conflicted++;
          const lost = new Set();
          for (const c of r.conflicts || []) {
            await tx.put('conflicts', { key: m.seq + ':' + c.field, seq: m.seq, record_type: m.record_type, record_id: m.record_id, ...c, at: now });
            if (c.winner === 'server') lost.add(c.field);
          }
          kept = { ...m, fields: Object.fromEntries(Object.entries(m.fields).filter(([k]) => !lost.has(k))) };
        }
        await tx.put('acked', { ...kept, version: r.version ?? null });
      }
      const node = await tx.get('kv', 'node');
      const last = await tx.get('kv', 'last_hlc');
      const next = observe(last, resp.server_hlc, node || 'web');
      if (next) await tx.put('kv', next, 'last_hlc');
    });
  }

  async pullAll(device_id, report, progress) {
    const ackedBefore = await run(this.db, ['acked'], 'readonly', async (tx) => { const a = await tx.all('acked'); return a.length ? a[a.length - 1].seq : 0; });
    const first = !(await kv(this.db, ['last_sync'])).last_sync;
    for (;;) {
      const { cursor } = await kv(this.db, ['cursor']);
      const q = '?device_id=' + encodeURIComponent(device_id) + '&limit=' + PULL_LIMIT + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      let page;
      try {
        page = await this.authed('/api/v1/sync/pull' + q, { headers: { 'X-Anju-Protocol': String(PROTOCOL) } });
      } catch (e) {
        if (e instanceof ApiError && e.status === 410) {
          if (!cursor) throw new SyncStop('garbage');
          progress({ phase: 'reset' });
          // the scope is downloaded again under a new generation; the records held stay on show
          // until it is complete, then those it did not bring back are dropped. The outbox, acked
          // overlay, conflicts and rejections stay.
          await run(this.db, ['kv'], 'readwrite', async (tx) => {
            await tx.put('kv', ((await tx.get('kv', 'gen')) || 0) + 1, 'gen');
            await tx.put('kv', true, 'resetting');
            await tx.del('kv', 'cursor');
          });
          report.reset = true;
          continue;
        }
        throw e;
      }
      await run(this.db, ['records', 'kv'], 'readwrite', async (tx) => {
        const gen = (await tx.get('kv', 'gen')) || 0;
        for (const c of page.changes) {
          if (c.kind === 'upsert') await tx.put('records', { id: c.id, record_type: c.record_type, version: c.version, deleted: false, fields: c.fields, gen });
          else if (c.kind === 'tombstone') await tx.put('records', { id: c.id, record_type: c.record_type, version: c.version, deleted: true, fields: {}, gen });
          else if (c.kind === 'revoke') await tx.del('records', c.id);
        }
        await tx.put('kv', page.next_cursor, 'cursor');
      });
      report.pulled += page.changes.length;
      progress({ phase: 'pull', received: report.pulled, first });
      if (!page.has_more) break;
    }
    await run(this.db, ['records', 'acked', 'kv'], 'readwrite', async (tx) => {
      if (await tx.get('kv', 'resetting')) {
        const gen = (await tx.get('kv', 'gen')) || 0;
        for (const r of await tx.all('records')) if (r.gen !== gen) await tx.del('records', r.id);
        await tx.del('kv', 'resetting');
      }
      for (const a of await tx.all('acked')) if (a.seq <= ackedBefore) await tx.del('acked', a.seq);
      await tx.put('kv', new Date().toISOString(), 'last_sync');
    });
  }
}

/** Retries network failures, 408, 429 and 5xx: 4 attempts, 0.5 s doubling with jitter, Retry-After honoured, 30 s at most. */
export async function retrying(fn, attempts = 4) {
  for (let i = 0; ; i++) {
    try { return await fn(); } catch (e) {
      const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
      if (!(e instanceof ApiError) || !e.transient || offline || i + 1 >= attempts) throw e;
      const exp = Math.min(30000, 500 * 2 ** i);
      const wait = e.retryAfter != null ? Math.min(30000, e.retryAfter * 1000) : exp / 2 + Math.random() * exp / 2;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
