// The upload page: shrinks the photo in the browser (longest side 800 px, JPEG quality 0.8, about
// 100 KB instead of 3-5 MB) and sends it with a progress bar. Without network the photo waits on
// the phone (store.js) and is sent by itself when the network returns; the answer opens then.
// "My photos" lists the photos sent from this phone. Without JavaScript the plain form works.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var T = {};
  try { T = JSON.parse(document.getElementById("js-strings").textContent); } catch (e) { /* English below */ }
  var store = window.LeafStore && window.indexedDB ? window.LeafStore : null;
  var api = form.getAttribute("data-api");
  var input = document.getElementById("id_image");
  var preview = document.getElementById("preview");
  var errorBox = document.getElementById("form-error");
  var progress = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-progress-bar");
  var progressText = document.getElementById("upload-progress-text");
  var button = document.getElementById("submit-button");
  var waitingBox = document.getElementById("waiting");
  var waitingText = document.getElementById("waiting-text");
  var section = document.getElementById("my-photos");
  var list = document.getElementById("photo-list");
  var MAX_SIDE = 800;
  var QUALITY = 0.8;
  var THUMB_SIDE = 96;
  var RETRY_MS = 15000;
  var queuedHere = {}; // photos queued on this visit: their answer opens as soon as they are sent
  var retryTimer = null;

  function text(key, fallback) { return T[key] || fallback; }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    progress.hidden = true;
    button.disabled = false;
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file || !window.URL) return;
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    errorBox.hidden = true;
  });

  function draw(bitmap, maxSide) {
    var scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  // Resolves {blob, thumb}; the original file when the browser cannot decode it (the server says why).
  function shrink(file) {
    return new Promise(function (resolve) {
      var original = { blob: file, thumb: "" };
      if (!window.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type)) return resolve(original);
      createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
        var thumb = "";
        try { thumb = draw(bitmap, THUMB_SIDE).toDataURL("image/jpeg", 0.6); } catch (e) { /* no thumbnail */ }
        var small = Math.max(bitmap.width, bitmap.height) <= MAX_SIDE;
        if (small && file.type === "image/jpeg") return resolve({ blob: file, thumb: thumb });
        draw(bitmap, MAX_SIDE).toBlob(function (blob) {
          resolve({ blob: blob || file, thumb: thumb });
        }, "image/jpeg", QUALITY);
      }, function () { resolve(original); });
    });
  }

  // Resolves {status, body} when the server answered; rejects when there is no network.
  function send(blob, fields) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      data.append("image", blob, "leaf.jpg");
      data.append("district", fields.district);
      data.append("phone", fields.phone);
      var request = new XMLHttpRequest();
      request.open("POST", api);
      request.timeout = 120000;
      request.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.style.width = Math.round((100 * e.loaded) / e.total) + "%";
      };
      request.onload = function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (e) { /* not JSON */ }
        resolve({ status: request.status, body: body });
      };
      request.onerror = request.ontimeout = function () { reject(new Error("network")); };
      request.send(data);
    });
  }

  function queue(photo, fields) {
    if (!store) return showError(text("waiting", "No network. Please try again when you have signal."));
    return store.save({ status: "waiting", blob: photo.blob, thumb: photo.thumb, district: fields.district,
      phone: fields.phone }).then(function (item) {
      queuedHere[item.localId] = true;
      progress.hidden = true;
      button.disabled = false;
      input.value = "";
      preview.hidden = true;
      askForSync();
      retryLater();
      return render();
    }, function () { showError(text("uploadFailed", "Sending failed. Please try again.")); });
  }

  form.addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (!file) return; // let the server say what is missing
    event.preventDefault();
    var fields = { district: form.elements.district.value, phone: form.elements.phone.value };
    button.disabled = true;
    errorBox.hidden = true;
    progress.hidden = false;
    progressText.textContent = text("preparing", "Preparing photo…");
    bar.style.width = "0";
    shrink(file).then(function (photo) {
      if (navigator.onLine === false && store) return queue(photo, fields);
      progressText.textContent = text("sending", "Sending photo…");
      return send(photo.blob, fields).then(function (answer) {
        if (answer.status === 202 && answer.body.url) {
          var kept = store ? store.save({ status: "pending", submissionId: answer.body.id, url: answer.body.url,
            thumb: photo.thumb, district: fields.district }) : Promise.resolve();
          return kept.catch(function () {}).then(function () { window.location.assign(answer.body.url); });
        }
        if (answer.status >= 400 && answer.status < 500) {
          return showError(answer.body.error || text("uploadFailed", "Sending failed. Please try again."));
        }
        return queue(photo, fields); // the server is down: the photo waits like an offline one
      }, function () { return queue(photo, fields); });
    });
  });

  function askForSync() {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register(store.SYNC_TAG);
    }).catch(function () { /* the online event and the timer still send it */ });
  }

  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, RETRY_MS);
  }

  function flush() {
    if (!store) return;
    store.flush(api).then(function (left) {
      if (left) retryLater();
      return store.refresh(api.replace(/\/$/, ""));
    }).catch(function () { retryLater(); }).then(render);
  }

  function describe(item) {
    if (item.status === "waiting") return text("waitingShort", "Waiting for network");
    if (item.status === "pending") return text("looking", "Looking at your leaf…");
    if (item.status === "failed") return text("failed", "Could not send") + (item.error ? ": " + item.error : "");
    if (item.review) return text("checked", "Checked by an officer") + ": " + item.review;
    if (item.unsure) return text("unsure", "We are not sure") + " · " + text("officerWillLook", "an officer will look");
    return (item.name || text("open", "See the answer")) + (item.percent ? " (" + item.percent + "%)" : "");
  }

  function when(timestamp) {
    try {
      return new Date(timestamp).toLocaleString(document.documentElement.lang || undefined,
        { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    } catch (e) { return new Date(timestamp).toLocaleString(); }
  }

  function row(item) {
    var li = document.createElement("li");
    li.className = "photo " + item.status;
    if (item.thumb) {
      var img = document.createElement("img");
      img.src = item.thumb;
      img.alt = "";
      li.appendChild(img);
    }
    var info = document.createElement("span");
    var date = document.createElement("small");
    date.textContent = when(item.createdAt);
    var label = document.createElement(item.url ? "a" : "span");
    if (item.url) label.href = item.url;
    label.textContent = describe(item);
    info.appendChild(date);
    info.appendChild(document.createElement("br"));
    info.appendChild(label);
    li.appendChild(info);
    return li;
  }

  function render() {
    if (!store) return Promise.resolve();
    return store.all().then(function (items) {
      for (var i = 0; i < items.length; i++) {
        var item = items[i];
        if (queuedHere[item.localId] && item.url && item.status !== "waiting") {
          window.location.assign(item.url); // the farmer is still here: show the answer
          return;
        }
      }
      var waiting = items.filter(function (item) { return item.status === "waiting"; }).length;
      waitingBox.hidden = waiting === 0;
      waitingText.textContent = text("waiting", "");
      section.hidden = items.length === 0;
      list.textContent = "";
      items.forEach(function (item) { list.appendChild(row(item)); });
    }).catch(function () { /* private mode without IndexedDB: the list stays hidden */ });
  }

  if (store) {
    window.addEventListener("online", flush);
    if (window.BroadcastChannel) new BroadcastChannel("leaf-doctor").onmessage = render;
    render().then(flush);
  }
})();
