/* The complaint outbox (classic script: loaded by the resident page and by the service worker).
 * Every complaint is written to IndexedDB *before* the first attempt to send it, with its photos
 * as Blobs and its Idempotency-Key, so a closed tab, a 429, a 500 or no signal loses nothing.
 * flush() sends what is waiting, one sender at a time (Web Locks), and records each answer. */
(function (root) {
  'use strict';
  var DB = 'anju-resident', STORE = 'outbox', LOCK = 'anju-outbox';

  function open() {
    return new Promise(function (resolve, reject) {
      var rq = indexedDB.open(DB, 1);
      rq.onupgradeneeded = function () {
        var db = rq.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'id' });
      };
      rq.onsuccess = function () { resolve(rq.result); };
      rq.onerror = function () { reject(rq.error); };
    });
  }
  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), st = t.objectStore(STORE), out;
        var r = fn(st);
        if (r) r.onsuccess = function () { out = r.result; };
        t.oncomplete = function () { db.close(); resolve(out); };
        t.onerror = t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }
  var put = function (rec) { return tx('readwrite', function (st) { return st.put(rec); }); };
  var get = function (id) { return tx('readonly', function (st) { return st.get(id); }); };
  var all = function () { return tx('readonly', function (st) { return st.getAll(); }); };
  var del = function (id) { return tx('readwrite', function (st) { return st.delete(id); }); };

  function notify(msg) {
    try { var bc = new BroadcastChannel('anju-outbox'); bc.postMessage(msg || { type: 'changed' }); bc.close(); } catch (e) { /* old browser */ }
  }
  function uuid() {
    if (root.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var x = Array.from(b, function (v) { return (v + 256).toString(16).slice(1); }).join('');
    return x.slice(0, 8) + '-' + x.slice(8, 12) + '-' + x.slice(12, 16) + '-' + x.slice(16, 20) + '-' + x.slice(20);
  }

  /** Keeps a new complaint: body is the JSON for POST /api/v1/complaints without photos. */
  function add(body, photos, lang) {
    var rec = { id: uuid(), key: uuid(), body: body, photos: photos || [], uploads: [], lang: lang || 'zh-CN',
      state: 'pending', attempts: 0, created: Date.now(), next: 0, result: null, error: null, seen: false };
    return put(rec).then(function () { notify(); return rec; });
  }

  function Failure(status, problem, retryAfter) {
    this.status = status; this.problem = problem || {}; this.retryAfter = retryAfter;
    this.transient = status === 0 || status === 408 || status === 429 || status >= 500;
  }
  function call(path, init, lang) {
    init.headers = Object.assign({ 'Accept': 'application/json', 'Accept-Language': lang }, init.headers || {});
    init.cache = 'no-store';
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null; try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) throw new Failure(res.status, data, parseInt(res.headers.get('Retry-After') || '', 10) || null);
        return data;
      });
    }, function () { throw new Failure(0, null, null); });
  }

  /** One attempt at one record; uploads that already succeeded are not repeated. */
  function sendOne(rec) {
    var i = 0;
    function nextPhoto() {
      if (i >= rec.photos.length) return Promise.resolve();
      if (rec.uploads[i]) { i++; return nextPhoto(); }
      var blob = rec.photos[i];
      return call('/api/v1/uploads', { method: 'POST', headers: { 'Content-Type': blob.type || 'image/jpeg' }, body: blob }, rec.lang)
        .then(function (up) { rec.uploads[i] = up.id; i++; return put(rec).then(nextPhoto); });
    }
    rec.attempts++;
    return nextPhoto().then(function () {
      var body = Object.assign({}, rec.body);
      if (rec.uploads.length) body.photos = rec.uploads.slice();
      return call('/api/v1/complaints', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': rec.key }, body: JSON.stringify(body) }, rec.lang);
    }).then(function (answer) {
      rec.state = 'sent'; rec.result = answer; rec.error = null; rec.photos = []; rec.sent = Date.now();
      return put(rec);
    }, function (f) {
      if (!(f instanceof Failure)) f = new Failure(0, null, null);
      if (f.transient) {
        var backoff = Math.min(300, Math.pow(2, Math.min(rec.attempts, 8))) * 1000;
        var wait = f.retryAfter ? Math.max(f.retryAfter * 1000, 1000) : backoff * (0.75 + Math.random() / 2);
        rec.next = Date.now() + wait; rec.error = { status: f.status, code: f.problem.code || null };
      } else {
        rec.state = 'failed'; rec.error = { status: f.status, code: f.problem.code || null, title: f.problem.title || null, detail: f.problem.detail || null, errors: f.problem.errors || null };
      }
      return put(rec);
    });
  }

  function withLock(fn) {
    if (root.navigator && navigator.locks && navigator.locks.request) return navigator.locks.request(LOCK, fn);
    return fn();
  }

  /** Sends every pending record whose retry time has come (or all of them, when force). */
  function flush(force) {
    return withLock(function () {
      return all().then(function (recs) {
        var now = Date.now(), chain = Promise.resolve(), sent = 0;
        recs.sort(function (a, b) { return a.created - b.created; }).forEach(function (r0) {
          if (r0.state !== 'pending' || (!force && r0.next > now)) return;
          chain = chain.then(function () { return get(r0.id); }).then(function (rec) {
            if (!rec || rec.state !== 'pending') return;
            return sendOne(rec).then(function () { if (rec.state === 'sent') sent++; notify(); });
          });
        });
        return chain.then(function () { return sent; });
      });
    });
  }

  function nextDue() {
    return all().then(function (recs) {
      var p = recs.filter(function (r) { return r.state === 'pending'; });
      return p.length ? Math.min.apply(null, p.map(function (r) { return r.next || 0; })) : null;
    });
  }

  root.AnjuOutbox = { add: add, all: all, get: get, put: put, del: del, flush: flush, nextDue: nextDue, uuid: uuid };
})(self);
