// The photos on this phone ("my photos"), in IndexedDB, and the queue of photos taken without
// network. Used by the upload page and by the service worker (Background Sync): the same code
// sends the queue, one sender at a time (Web Locks), so a photo is never sent twice.
// An item is a case: {localId, createdAt, status: waiting|pending|done|failed, blobs (its photos' small
// copies, while waiting; older items have one blob), originals (their larger copies, while waiting),
// photos (how many), thumb, district, submissionId, url, name, unsure, percent, error}.
// The larger copies of photos already sent wait in a second store until they have all arrived
// (sendOriginals): the answer never waits for them, and a copy cut off halfway resumes where it stopped.
(function (root) {
  "use strict";
  var DB_NAME = "leaf-doctor";
  var STORE = "photos";
  var ORIGINALS = "originals";
  var PIECE_BYTES = 128 * 1024;
  var KEEP = 30;
  var dbPromise = null;
  var channel = root.BroadcastChannel ? new BroadcastChannel("leaf-doctor") : null;

  function open() {
    if (!root.indexedDB) return Promise.reject(new Error("no IndexedDB"));
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = root.indexedDB.open(DB_NAME, 2);
        request.onupgradeneeded = function (event) {
          if (event.oldVersion < 1) request.result.createObjectStore(STORE, { keyPath: "localId" });
          if (event.oldVersion < 2) request.result.createObjectStore(ORIGINALS, { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { dbPromise = null; reject(request.error); };
      });
    }
    return dbPromise;
  }

  function run(mode, work, storeName) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var name = storeName || STORE;
        var tx = db.transaction(name, mode);
        var request = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function all() {
    return run("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return b.createdAt - a.createdAt; });
    });
  }

  function put(item) { return run("readwrite", function (store) { return store.put(item); }); }
  function remove(localId) { return run("readwrite", function (store) { return store.delete(localId); }); }

  function notify(item) {
    if (channel) channel.postMessage({ localId: item.localId, status: item.status, url: item.url || "" });
  }

  function newId() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // Keeps the newest KEEP photos; a photo still waiting is never dropped.
  function prune() {
    return all().then(function (items) {
      return Promise.all(items.slice(KEEP).filter(function (item) { return item.status !== "waiting"; })
        .map(function (item) { return remove(item.localId); }));
    });
  }

  function save(fields) {
    var item = { localId: newId(), createdAt: Date.now() };
    for (var key in fields) item[key] = fields[key];
    return put(item).then(function () { notify(item); prune().catch(function () {}); return item; });
  }

  // Sends one waiting photo. Rejects when there is no network or the server is down: it waits.
  // A refused phone number never costs the photo: it is sent again without the number.
  function send(item, api) {
    var data = new FormData();
    (item.blobs || [item.blob]).forEach(function (blob, i) { data.append("image", blob, "leaf-" + (i + 1) + ".jpg"); });
    data.append("district", item.district || "");
    data.append("phone", item.phone || "");
    return fetch(api, { method: "POST", body: data, credentials: "same-origin" }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        var errors = Object.keys(body.errors || {});
        if (response.status === 400 && item.phone && errors.length === 1 && errors[0] === "phone") {
          delete item.phone;
          return send(item, api);
        }
        if ((response.status === 202 || response.status === 201) && body.id) {
          item.status = "pending";
          item.submissionId = body.id;
          item.url = body.url;
        } else if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
          item.status = "failed";  // refused (not a photo...): sending it again would not help
          item.error = body.error || "";
        } else {
          throw new Error("server answered " + response.status);
        }
        var larger = item.status === "pending" ? item.originals : null;
        delete item.blob;
        delete item.blobs;
        delete item.originals;
        delete item.phone;  // the server has it now; the phone keeps no copy
        // The larger copies move to their own store before the case's item forgets them.
        return (larger ? saveOriginals(item.submissionId, 0, larger) : Promise.resolve()).then(function () {
          return put(item);
        }).then(function () { notify(item); return item; });
      });
    });
  }

  function withLock(work) {
    var locks = root.navigator && root.navigator.locks;
    return locks && locks.request ? locks.request("leaf-doctor-send", work) : work();
  }

  // Sends the waiting photos, oldest first, until one fails; resolves with how many still wait.
  function flush(api) {
    return withLock(function () {
      return all().then(function (items) {
        var waiting = items.filter(function (item) { return item.status === "waiting"; }).reverse();
        var index = 0;
        function next() {
          if (index >= waiting.length) return 0;
          return send(waiting[index], api).then(function () { index += 1; return next(); },
            function () { return waiting.length - index; });
        }
        return next();
      });
    });
  }

  // Asks for the answers still being worked out, and for an officer's answer to photos of the last
  // REVIEW_DAYS days that have none yet (one small request each: data costs farmers money; the
  // result page itself shows a later correction); keeps them for offline.
  var REVIEW_DAYS = 30;
  function refresh(api) {
    var since = Date.now() - REVIEW_DAYS * 24 * 3600 * 1000;
    return all().then(function (items) {
      return Promise.all(items.filter(function (item) {
        return item.submissionId && (item.status === "pending" || (item.status === "done" && !item.review && item.createdAt > since));
      }).map(function (item) {
        return fetch(api + "/" + item.submissionId, { headers: { Accept: "application/json" }, cache: "no-store" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (body) {
            if (!body || body.status === "pending") return;
            var review = body.review ? body.review.title : "";
            if (body.status === item.status && review === (item.review || "")) return;
            item.status = body.status;
            item.review = review;
            var prediction = body.prediction;
            var answer = body.answer;  // what the farmer was told: no percentage unless one diagnosis
            if (answer) {
              item.name = answer.title;
              item.unsure = answer.kind === "not_sure" || answer.kind === "not_potato_leaf";
              item.percent = answer.kind === "diagnosis" && prediction ? Math.round(100 * prediction.confidence) : 0;
              item.photos = answer.photos;
            } else if (prediction) {
              item.name = prediction.display_name;
              item.unsure = prediction.is_unsure || !prediction.is_potato_leaf;
              item.percent = Math.round(100 * prediction.confidence);
            }
            return put(item).then(function () { notify(item); });
          }, function () {});
      }));
    });
  }

  // The larger copies of a case's photos from ``first`` on, to send after the answer (sendOriginals).
  function saveOriginals(submissionId, first, blobs) {
    return Promise.all((blobs || []).map(function (blob, i) {
      if (!blob) return null;
      var entry = { key: submissionId + "/" + (first + i), submissionId: submissionId, position: first + i,
        blob: blob, createdAt: Date.now() };
      return run("readwrite", function (store) { return store.put(entry); }, ORIGINALS);
    }));
  }

  function dropOriginal(entry) {
    return run("readwrite", function (store) { return store.delete(entry.key); }, ORIGINALS);
  }

  // A leaf's small copy goes first: while one is being sent the larger copies hold, and the piece on its
  // way is dropped (the server keeps the pieces it had; sending resumes from there).
  var held = false;
  var pieceInFlight = null;

  function holdOriginals() {
    held = true;
    if (pieceInFlight) pieceInFlight.abort();
  }

  // One larger copy, in pieces from what the server already holds; resolves when it is there or
  // refused for good, rejects when the network fails or sending is held (it resumes next time).
  function sendOriginal(entry, api) {
    var url = api + "/" + entry.submissionId + "/photos/" + entry.position + "/original";
    var total = entry.blob.size;
    function piece(start) {
      if (start >= total) return Promise.resolve();
      if (held) return Promise.reject(new Error("held"));
      var end = Math.min(total, start + PIECE_BYTES);
      pieceInFlight = root.AbortController ? new AbortController() : null;
      return fetch(url, { method: "PUT", body: entry.blob.slice(start, end), credentials: "same-origin",
        signal: pieceInFlight ? pieceInFlight.signal : undefined,
        headers: { "Content-Range": "bytes " + start + "-" + (end - 1) + "/" + total,
          "Content-Type": "application/octet-stream" } }).then(function (response) {
        pieceInFlight = null;
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.status === 200) return body.complete ? null : piece(body.received);
          if (response.status === 409) return piece(body.received || 0);
          if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
            return null;  // refused for good (no such case, not a photo): the small copy serves
          }
          throw new Error("server answered " + response.status);
        });
      });
    }
    return fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 404) return null;
        if (!response.ok) throw new Error("server answered " + response.status);
        return response.json().then(function (body) { return body.complete ? null : piece(body.received || 0); });
      }).then(function () { return dropOriginal(entry); });
  }

  // Sends the larger copies still on the phone, one at a time; resolves with how many are left.
  function sendOriginals(api) {
    held = false;
    var locks = root.navigator && root.navigator.locks;
    function work() {
      return run("readonly", function (store) { return store.getAll(); }, ORIGINALS).then(function (entries) {
        entries.sort(function (a, b) { return a.createdAt - b.createdAt || a.position - b.position; });
        var index = 0;
        function next() {
          if (index >= entries.length) return 0;
          return sendOriginal(entries[index], api).then(function () { index += 1; return next(); },
            function () { return entries.length - index; });
        }
        return next();
      });
    }
    return locks && locks.request ? locks.request("leaf-doctor-originals", work) : work();
  }

  root.LeafStore = { all: all, save: save, put: put, flush: flush, refresh: refresh, saveOriginals: saveOriginals,
    sendOriginals: sendOriginals, holdOriginals: holdOriginals, SYNC_TAG: "leaf-doctor-send" };
})(self);
