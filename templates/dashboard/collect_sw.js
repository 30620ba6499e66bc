// The Collect page's service worker (scope {{ scope|escapejs }}): the page and its files open without network
// (the page as last seen online), and photos waiting on the phone (collect-store.js) are sent by Background Sync
// where the browser has it (the page also sends them on its "online" event and on a timer). Only "collect-"
// caches are its own: the farmer's worker keeps its caches, and this one never touches them.
"use strict";
var VERSION = "{{ version }}";
var CACHE = "collect-" + VERSION;
var PAGE = "{{ page|escapejs }}";
var OFFLINE_STATIC = {{ static_urls|safe }};
var API = {{ api|safe }};
var NETWORK_TIMEOUT_MS = 4000;

importScripts("{{ store_url|escapejs }}");

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all([
      cache.addAll(OFFLINE_STATIC),
      fetch(PAGE, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) return cache.put(PAGE, response);
      })
    ]);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf("collect-") === 0 && name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(networkFirst(request));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== self.CollectStore.SYNC_TAG) return;
  event.waitUntil(self.CollectStore.flush(API).then(function (result) {
    if (result.waiting) throw new Error(result.waiting + " still waiting");  // the browser tries again later
  }));
});

function cacheFirst(request) {
  return caches.match(request, { ignoreVary: true }).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
      }
      return response;
    });
  });
}

function kept() {
  return caches.open(CACHE).then(function (cache) { return cache.match(PAGE, { ignoreVary: true, ignoreSearch: true }); });
}

// The page: the network (kept for offline), the kept copy when the network fails or is too slow.
function networkFirst(request) {
  return new Promise(function (resolve, reject) {
    var done = false;
    function answer(response) { if (!done && response) { done = true; resolve(response); } }
    fetch(request).then(function (response) {
      if (response.ok && !response.redirected && !new URL(request.url).search) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { return cache.put(PAGE, copy); });
      }
      answer(response);
    }, function (error) {
      kept().then(function (hit) { if (hit) answer(hit); else if (!done) { done = true; reject(error); } });
    });
    setTimeout(function () { if (!done) kept().then(answer); }, NETWORK_TIMEOUT_MS);
  });
}
