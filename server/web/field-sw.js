/* anju field app service worker, scoped to /field: keeps the app shell so that after one visit
 * /field opens with no network. __BUILD__ is replaced by the server with a hash of every asset,
 * so a new release installs a fresh shell and drops the old one. The records, the outbox and the
 * photos live in IndexedDB (the page's), never in this cache; API calls are never cached here. */
'use strict';
var VERSION = '__BUILD__';
var SHELL = 'anju-field-' + VERSION;
var PRECACHE = ['/field', '/field.webmanifest', '/assets/app.css', '/assets/field.css', '/assets/field.js',
  '/assets/field-db.js', '/assets/field-sync.js', '/assets/field-form.js', '/assets/field-text.js', '/assets/field-tickets.js', '/assets/field-orders.js',
  '/assets/dom.js', '/assets/i18n.js', '/assets/api.js', '/assets/image.js',
  '/assets/field-icon.svg', '/assets/field-icon-192.png', '/assets/field-icon-512.png'];

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(SHELL).then(function (c) {
    return c.addAll(PRECACHE.map(function (u) { return new Request(u, { cache: 'no-cache' }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('anju-field-') === 0 && k !== SHELL; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  var p = url.pathname;
  if (req.mode === 'navigate' && (p === '/field' || p === '/field/')) p = '/field';
  if (PRECACHE.indexOf(p) < 0) return; // the API goes to the network, as the page asked
  e.respondWith(caches.match(p, { cacheName: SHELL }).then(function (hit) { return hit || fetch(req); }));
});
