// Officers' collection on this phone (issue 27): garden visits and their photos in IndexedDB, and the sender
// that delivers them. Used by the Collect page and by its service worker (Background Sync); one sender at a
// time (Web Locks). Every visit and photo carries the id the phone gave it, so one sent twice (an answer lost
// on a bad network, the page and the worker at once) is stored once by the server.
// A visit: {id, district, parish, visitedOn, label, summary, evidence, farmerAgreed, createdAt, status:
// waiting|sent|failed, error, url}. A photo: {id, visitId, blob (until sent), thumb, takenAt, createdAt,
// status: waiting|sending|sent|failed, error}.
(function (root) {
  "use strict";
  var DB_NAME = "leaf-collect";
  var KEEP_SENT = 60;  // sent photos still listed (their thumbnails); the blobs go once sent
  var dbPromise = null;
  var channel = root.BroadcastChannel ? new BroadcastChannel("leaf-collect") : null;

  function open() {
    if (!root.indexedDB) return Promise.reject(new Error("no IndexedDB"));
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = root.indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          var db = request.result;
          db.createObjectStore("visits", { keyPath: "id" });
          db.createObjectStore("photos", { keyPath: "id" });
          db.createObjectStore("meta", { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { dbPromise = null; reject(request.error); };
      });
    }
    return dbPromise;
  }

  function run(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var request = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function all(name) {
    return run(name, "readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.createdAt - b.createdAt; });
    });
  }
  function put(name, item) { return run(name, "readwrite", function (store) { return store.put(item); }); }
  function remove(name, key) { return run(name, "readwrite", function (store) { return store.delete(key); }); }
  function getMeta(key) {
    return run("meta", "readonly", function (store) { return store.get(key); }).then(function (row) {
      return row ? row.value : null;
    });
  }
  function setMeta(key, value) { return put("meta", { key: key, value: value }); }
  function notify() { if (channel) channel.postMessage("changed"); }

  // A version 4 UUID: the server names the visit and the photo by it.
  function newId() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    root.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function save(name, fields) {
    var item = { id: newId(), createdAt: Date.now(), status: "waiting" };
    for (var key in fields) item[key] = fields[key];
    return put(name, item).then(function () { notify(); return item; });
  }

  // Resolves {status, body} for a JSON answer. Rejects when there is no network, the server is down, or the
  // answer is not ours (signed out: the login page; a stale CSRF token: Django's 403 page): it waits.
  function post(url, token, body, json) {
    var headers = { "X-CSRFToken": token || "", Accept: "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    return fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.type === "opaqueredirect" || type.indexOf("application/json") !== 0) {
          var error = new Error("not signed in");
          error.signedOut = response.type === "opaqueredirect" || response.status === 403;
          throw error;
        }
        return response.json().then(function (answer) { return { status: response.status, body: answer }; });
      });
  }

  // What an answer means for an item: sent, refused for good (sending again would not help), or try later.
  function settle(item, answer) {
    if (answer.status === 200 || answer.status === 201) {
      item.status = "sent";
      item.error = "";
    } else if (answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429) {
      item.status = "failed";
      item.error = answer.body.error || "";
    } else {
      throw new Error("server answered " + answer.status);
    }
    return item;
  }

  function sendVisit(visit, urls, token) {
    var body = JSON.stringify({
      id: visit.id, district: visit.district, parish: visit.parish, visited_on: visit.visitedOn,
      label: visit.label, evidence: visit.evidence, farmer_agreed: visit.farmerAgreed === true
    });
    return post(urls.visits, token, body, true).then(function (answer) {
      settle(visit, answer);
      if (answer.body.url) visit.url = answer.body.url;
      return put("visits", visit).then(notify);
    });
  }

  function sendPhoto(photo, urls, token) {
    var data = new FormData();
    data.append("id", photo.id);
    data.append("visit", photo.visitId);
    data.append("taken_at", photo.takenAt || "");
    data.append("image", photo.blob, "leaf.jpg");
    photo.status = "sending";
    return put("photos", photo).then(function () {
      notify();
      return post(urls.photos, token, data, false);
    }).then(function (answer) {
      settle(photo, answer);
      if (photo.status === "sent") delete photo.blob;
      return put("photos", photo).then(notify);
    }, function (error) {
      photo.status = "waiting";
      return put("photos", photo).then(function () { notify(); throw error; });
    });
  }

  function withLock(work) {
    var locks = root.navigator && root.navigator.locks;
    return locks && locks.request ? locks.request("leaf-collect-send", work) : work();
  }

  // Keeps the newest KEEP_SENT sent photos listed; nothing still to send is ever dropped.
  function prune() {
    return all("photos").then(function (photos) {
      var sent = photos.filter(function (p) { return p.status === "sent"; });
      return Promise.all(sent.slice(0, Math.max(0, sent.length - KEEP_SENT)).map(function (p) {
        return remove("photos", p.id);
      }));
    });
  }

  // Sends what waits, oldest first: each visit before its photos. Stops at the first failure of the network
  // or the server and resolves {waiting, signedOut}; the caller tries again later.
  function flush(urls) {
    return withLock(function () {
      return Promise.all([getMeta("csrf"), all("visits"), all("photos")]).then(function (read) {
        var token = read[0], visits = read[1], photos = read[2];
        var byId = {};
        visits.forEach(function (v) { byId[v.id] = v; });
        var work = visits.filter(function (v) { return v.status === "waiting"; }).map(function (v) {
          return function () { return sendVisit(v, urls, token); };
        }).concat(photos.filter(function (p) { return p.status === "waiting" || p.status === "sending"; }).map(function (p) {
          return function () {
            var visit = byId[p.visitId];
            if (visit && visit.status === "failed") {
              p.status = "failed";
              p.error = "its visit was refused: " + (visit.error || "");
              delete p.blob;
              return put("photos", p).then(notify);
            }
            if (!visit || visit.status !== "sent") return Promise.reject(new Error("visit not sent yet"));
            return sendPhoto(p, urls, token);
          };
        }));
        var index = 0;
        function next() {
          if (index >= work.length) return Promise.resolve({ waiting: 0, signedOut: false });
          return work[index]().then(function () { index += 1; return next(); }, function (error) {
            return { waiting: work.length - index, signedOut: !!(error && error.signedOut) };
          });
        }
        return next();
      }).then(function (result) { return prune().then(function () { return result; }); });
    });
  }

  root.CollectStore = {
    visits: function () { return all("visits"); },
    photos: function () { return all("photos"); },
    saveVisit: function (fields) { return save("visits", fields); },
    savePhoto: function (fields) { return save("photos", fields); },
    getMeta: getMeta,
    setMeta: setMeta,
    flush: flush,
    SYNC_TAG: "leaf-collect-send"
  };
})(self);
