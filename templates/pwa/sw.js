// Service worker: the upload page and its files open without network; result pages seen once
// stay readable offline; photos taken offline (store.js) are sent by Background Sync when the
// browser has it (the page also sends them on its "online" event and on a timer).
"use strict";
var VERSION = "{{ version }}";
var STATIC_CACHE = "static-" + VERSION;
var PAGE_CACHE = "pages-" + VERSION;
var HOME = "{{ home|escapejs }}";
var API = "{{ api|escapejs }}";
var OFFLINE_STATIC = {{ static_urls|safe }};
var NETWORK_TIMEOUT_MS = 4000;
var MAX_PAGES = 30;

importScripts("{{ store_url|escapejs }}");

self.addEventListener("install", function (event) {
  event.waitUntil(Promise.all([
    caches.open(STATIC_CACHE).then(function (cache) { return cache.addAll(OFFLINE_STATIC); }),
    caches.open(PAGE_CACHE).then(function (cache) { return cache.add(HOME); })
  ]).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    // Only its own caches: the officers' Collect page keeps its own ("collect-") on the same phone.
    return Promise.all(names.filter(function (name) {
      return /^(static|pages)-/.test(name) && name !== STATIC_CACHE && name !== PAGE_CACHE;
    })
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
  } else if (request.mode === "navigate" && (url.pathname === HOME || url.pathname.indexOf("/s/") === 0)) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== self.LeafStore.SYNC_TAG) return;
  event.waitUntil(self.LeafStore.flush(API).then(function (left) {
    if (left) throw new Error(left + " photos still waiting"); // the browser tries again later
    return self.LeafStore.sendOriginals(API);
  }));
});

// Hashed static files never change: the cache, else the network (kept for next time).
function cacheFirst(request) {
  return caches.match(request, { ignoreVary: true }).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(STATIC_CACHE).then(function (cache) { return cache.put(request, copy); });
      }
      return response;
    });
  });
}

function cached(path) {
  return caches.open(PAGE_CACHE).then(function (cache) {
    return cache.match(path, { ignoreVary: true, ignoreSearch: true }).then(function (hit) {
      return hit || cache.match(HOME, { ignoreVary: true, ignoreSearch: true });
    });
  });
}

function keep(path, response) {
  caches.open(PAGE_CACHE).then(function (cache) {
    return cache.put(path, response).then(function () { return cache.keys(); }).then(function (keys) {
      return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (key) {
        return new URL(key.url).pathname === HOME ? null : cache.delete(key);
      }));
    });
  });
}

// Pages: the network (kept for offline), the kept copy when the network fails or is too slow.
function networkFirst(request, path) {
  return new Promise(function (resolve, reject) {
    var done = false;
    function answer(response) { if (!done && response) { done = true; resolve(response); } }
    var network = fetch(request).then(function (response) {
      if (response.ok && !response.redirected) keep(path, response.clone());
      return response;
    });
    network.then(answer, function (error) {
      cached(path).then(function (hit) { if (hit) answer(hit); else if (!done) { done = true; reject(error); } });
    });
    setTimeout(function () {
      if (!done) caches.open(PAGE_CACHE).then(function (cache) {
        return cache.match(path, { ignoreVary: true, ignoreSearch: true });
      }).then(answer);
    }, NETWORK_TIMEOUT_MS);
  });
}
