// The field app's store on the phone: one IndexedDB database, `anju-field`. Every change that
// must survive a reload, a crash or a service-worker update is written in one transaction with
// whatever it depends on (an outbox entry with the next sequence number; a pull page with its
// cursor; a push answer with the removal of the entries it answers).
//
// Object stores:
//   kv        session, device id, node, next_seq, last_hlc, cursor, gen, resetting, last_sync, schemas, directory…
//   records   server state as last pulled: {id, record_type, version, deleted, fields, gen}
//             (gen: the download it came in; after a reset, those of older ones are dropped)
//   outbox    pending mutations in sequence order: {seq, record_type, record_id, op, base_version, fields, hlc}
//   acked     mutations the server accepted that no complete pull has brought back yet
//   conflicts per contested field: {key, seq, record_type, record_id, field, server_value, device_value, winner, …}
//   rejected  refused mutations with the reason: {seq, …, code, message_zh, message_en}
//   photos    resized photos by SHA-256: {sha256, blob, size, uploaded}
const NAME = 'anju-field';
const VERSION = 1;
export const STORES = ['kv', 'records', 'outbox', 'acked', 'conflicts', 'rejected', 'photos'];

function req(r) {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
}

/** Opens (and on first use creates) the database. */
export function open(name = NAME) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name, VERSION);
    r.onupgradeneeded = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
      if (!db.objectStoreNames.contains('records')) db.createObjectStore('records', { keyPath: 'id' }).createIndex('type', 'record_type');
      for (const s of ['outbox', 'acked', 'rejected']) if (!db.objectStoreNames.contains(s)) db.createObjectStore(s, { keyPath: 'seq' });
      if (!db.objectStoreNames.contains('conflicts')) db.createObjectStore('conflicts', { keyPath: 'key' });
      if (!db.objectStoreNames.contains('photos')) db.createObjectStore('photos', { keyPath: 'sha256' });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error('blocked'));
  });
}

/** A handle for one transaction: get/put/del/all/clear on its stores, each a promise. */
class Tx {
  constructor(t) { this.t = t; }
  get(store, key) { return req(this.t.objectStore(store).get(key)); }
  put(store, value, key) { return req(key === undefined ? this.t.objectStore(store).put(value) : this.t.objectStore(store).put(value, key)); }
  del(store, key) { return req(this.t.objectStore(store).delete(key)); }
  all(store, query, count) { return req(this.t.objectStore(store).getAll(query, count)); }
  byType(type) { return req(this.t.objectStore('records').index('type').getAll(type)); }
  count(store) { return req(this.t.objectStore(store).count()); }
  clear(store) { return req(this.t.objectStore(store).clear()); }
}

/** Runs fn(tx) in one transaction over `stores`; resolves with fn's result once it committed. */
export function run(db, stores, mode, fn) {
  return new Promise((resolve, reject) => {
    let t;
    try { t = db.transaction(stores, mode, { durability: 'strict' }); } catch (e) { reject(e); return; }
    let out;
    let failed = null;
    t.oncomplete = () => (failed ? reject(failed) : resolve(out));
    t.onerror = () => reject(t.error || failed);
    t.onabort = () => reject(t.error || failed || new Error('aborted'));
    Promise.resolve().then(() => fn(new Tx(t))).then((v) => { out = v; }, (e) => { failed = e; try { t.abort(); } catch { /* already done */ } });
  });
}

/** Reads several kv keys at once: {key: value}. */
export async function kv(db, keys) {
  return run(db, ['kv'], 'readonly', async (tx) => {
    const out = {};
    for (const k of keys) out[k] = await tx.get('kv', k);
    return out;
  });
}

export const setKv = (db, values) => run(db, ['kv'], 'readwrite', async (tx) => {
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) await tx.del('kv', k); else await tx.put('kv', v, k);
  }
});
