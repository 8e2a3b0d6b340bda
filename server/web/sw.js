/* anju service worker: the resident's app shell offline, and the complaint outbox sent by
 * Background Sync. __BUILD__ is replaced by the server with a hash of every asset, so a new
 * release installs a fresh cache and drops the old one. */
'use strict';
importScripts('/assets/outbox.js');
var VERSION = '__BUILD__';
var SHELL = 'anju-shell-' + VERSION;
var DATA = 'anju-data-v1';
var PRECACHE = ['/', '/t/', '/manifest.webmanifest', '/assets/app.css', '/assets/icon.svg',
  '/assets/outbox.js', '/assets/dom.js', '/assets/i18n.js', '/assets/api.js', '/assets/icons.js',
  '/assets/image.js', '/assets/resident.js', '/assets/track.js'];
// Public, personal-data-free GETs kept for offline use. Categories and the area tree rarely
// change: answered from the cache at once and refreshed behind (a weak signal must not hold the
// form back). The public figures: network first, cache when offline. Tracking answers
// (/api/v1/track/…) hold the resident's description and address: never stored here, so they
// do not outlive the page that asked (a shared phone keeps nothing).
var STALE_OK = [/^\/api\/v1\/categories$/, /^\/api\/v1\/areas$/];
var DATA_PATHS = [/^\/api\/v1\/public\//];
var TRACK = /^\/api\/v1\/track\//;

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(SHELL).then(function (c) {
    // 'no-cache': revalidated by ETag, so files the page just fetched come back as small 304s
    return c.addAll(PRECACHE.map(function (u) { return new Request(u, { cache: 'no-cache' }); }));
  }).then(function () { return self.skipWaiting(); }));
});

// Tracking answers an older worker stored are dropped.
function dropTrackingAnswers() {
  return caches.open(DATA).then(function (c) {
    return c.keys().then(function (reqs) {
      return Promise.all(reqs.filter(function (r) { return TRACK.test(new URL(r.url).pathname); })
        .map(function (r) { return c.delete(r); }));
    });
  });
}

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('anju-shell-') === 0 && k !== SHELL; })
      .map(function (k) { return caches.delete(k); }));
  }).then(dropTrackingAnswers).then(function () { return self.clients.claim(); }));
});

function networkFirst(req, cacheName, fallbackUrl) {
  return fetch(req).then(function (res) {
    if (res.ok) { var copy = res.clone(); caches.open(cacheName).then(function (c) { c.put(req, copy); }); }
    return res;
  }, function () {
    return caches.match(fallbackUrl || req).then(function (hit) {
      return hit || new Response(JSON.stringify({ code: 'offline', status: 503, title: 'offline' }),
        { status: 503, headers: { 'Content-Type': 'application/problem+json' } });
    });
  });
}

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  var p = url.pathname;
  if (req.headers.get('Authorization')) return; // staff data is never cached
  if (p.indexOf('/t/') === 0 && req.mode === 'navigate') {
    // the server says whether the code exists (404 page); offline, the cached shell asks the cache
    e.respondWith(fetch(req).catch(function () { return caches.match('/t/'); }));
    return;
  }
  if (PRECACHE.indexOf(p) >= 0) {
    e.respondWith(caches.match(p, { cacheName: SHELL }).then(function (hit) { return hit || fetch(req); }));
    return;
  }
  if (/^\/api\/v1\/uploads\/[^/]+$/.test(p)) {
    e.respondWith(caches.match(req).then(function (hit) { return hit || networkFirst(req, DATA); }));
    return;
  }
  if (STALE_OK.some(function (re) { return re.test(p); })) {
    var fresh = networkFirst(req, DATA);
    e.waitUntil(fresh.then(function () {}, function () {}));
    e.respondWith(caches.match(req).then(function (hit) { return hit || fresh; }));
    return;
  }
  if (DATA_PATHS.some(function (re) { return re.test(p); })) e.respondWith(networkFirst(req, DATA));
});

function tellClients() {
  return self.clients.matchAll({ includeUncontrolled: true, type: 'window' }).then(function (list) {
    list.forEach(function (c) { c.postMessage({ type: 'outbox' }); });
  });
}

self.addEventListener('sync', function (e) {
  if (e.tag !== 'anju-outbox') return;
  e.waitUntil(self.AnjuOutbox.flush(true).then(tellClients).then(function () { return self.AnjuOutbox.nextDue(); })
    .then(function (due) { if (due != null) throw new Error('still waiting'); })); // a rejection asks the browser to retry later
});

self.addEventListener('message', function (e) {
  if (e.data && e.data.type === 'flush') e.waitUntil(self.AnjuOutbox.flush(true).then(tellClients));
});
