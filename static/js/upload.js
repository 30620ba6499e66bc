// The upload page: a case of 1 to 6 photos (several chosen at once, or "Add another leaf" one by one).
// Each photo's small copy (photos.js: what the model reads, a few tens of KB instead of 3-5 MB) is sent
// first, the case in one request, each photo with its own progress bar, and the response carries the
// answer when the worker has it within a moment: it is shown on this page (result.js), one round trip.
// The larger copies follow in the background (store.js). Without network the
// case waits on the phone with its photos (store.js) and is sent by itself when the network returns;
// the answer opens then. "My photos" lists the cases sent from this phone. Without JavaScript the
// plain form works (several photos can be chosen in its file input).
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !window.LeafPhotos) return;
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
  var caseList = document.getElementById("case-list");
  var addLeaf = document.getElementById("add-leaf");
  var added = []; // photos added one by one with "Add another leaf"
  var bars = [];  // each photo's progress bar, in the order they are sent
  var MAX_PHOTOS = 6;
  var RETRY_MS = 15000;
  var queuedHere = {}; // photos queued on this visit: their answer opens as soon as they are sent
  var retryTimer = null;

  function text(key, fallback) { return T[key] || fallback; }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    progress.hidden = true;
    button.disabled = false;
    if (store) store.sendOriginals(api).catch(function () { /* held for this case: go on */ });
  }

  function chosen() {
    var files = [];
    for (var i = 0; input.files && i < input.files.length; i++) files.push(input.files[i]);
    return files.concat(added);
  }

  // The case's photos, each with a small preview and its own progress bar.
  function showCase() {
    var files = chosen();
    caseList.textContent = "";
    bars = [];
    files.forEach(function (file) {
      var li = document.createElement("li");
      if (window.URL) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = "";
        li.appendChild(img);
      }
      var box = document.createElement("div");
      box.className = "progress";
      var fill = document.createElement("div");
      fill.className = "progress-bar";
      fill.style.width = "0";
      box.appendChild(fill);
      li.appendChild(box);
      bars.push(fill);
      caseList.appendChild(li);
    });
    caseList.hidden = files.length === 0;
    preview.hidden = true;
    addLeaf.hidden = files.length >= MAX_PHOTOS;
    errorBox.hidden = true;
  }

  input.required = false; // photos may come from "Add another leaf" alone; the submit handler checks
  input.addEventListener("change", showCase);
  addLeaf.hidden = false;
  addLeaf.addEventListener("click", function () {
    var more = document.createElement("input");
    more.type = "file";
    more.accept = "image/*";
    more.setAttribute("capture", "environment");
    more.className = "visually-hidden-file";
    more.setAttribute("data-added-leaf", "");
    more.addEventListener("change", function () {
      if (more.files && more.files[0] && chosen().length < MAX_PHOTOS) added.push(more.files[0]);
      more.remove();
      showCase();
    });
    form.appendChild(more);
    more.click();
  });

  // Each photo's bar from the bytes sent so far: the photos go in order, one after the other.
  function showProgress(loaded, total, blobs) {
    bar.style.width = Math.round((100 * loaded) / total) + "%";
    var sizes = blobs.map(function (blob) { return blob.size; });
    var rest = total - sizes.reduce(function (a, b) { return a + b; }, 0); // the form's other fields
    var start = Math.max(0, rest / 2);
    sizes.forEach(function (size, i) {
      var done = Math.min(1, Math.max(0, (loaded - start) / (size || 1)));
      if (bars[i]) bars[i].style.width = Math.round(100 * done) + "%";
      start += size;
    });
  }

  // Resolves {status, body} when the server answered; rejects when there is no network. Asks for the
  // answer in the response (one round trip on a slow link), with the result page's HTML to show it.
  function send(blobs, fields) {
    var data = new FormData();
    blobs.forEach(function (blob, i) { data.append("image", blob, "leaf-" + (i + 1) + ".jpg"); });
    data.append("district", fields.district);
    data.append("phone", fields.phone);
    return window.LeafPhotos.post(api + window.LeafPhotos.ANSWER_QUERY, data, function (loaded, total) {
      showProgress(loaded, total, blobs);
    });
  }

  // The larger copies, encoded once the small ones are on their way (null where there is none).
  function larger(photos) {
    return Promise.all(photos.map(function (p) { return p.large().catch(function () { return null; }); }));
  }

  function queue(photos, fields) {
    if (!store) return showError(text("waiting", "No network. Please try again when you have signal."));
    return larger(photos).then(function (originals) {
      return store.save({ status: "waiting", blobs: photos.map(function (p) { return p.small; }),
        originals: originals, thumb: photos[0].thumb, photos: photos.length, district: fields.district,
        phone: fields.phone });
    }).then(function (item) {
      queuedHere[item.localId] = true;
      progress.hidden = true;
      button.disabled = false;
      input.value = "";
      added = [];
      showCase();
      askForSync();
      retryLater();
      return render();
    }, function () { showError(text("uploadFailed", "Sending failed. Please try again.")); });
  }

  form.addEventListener("submit", function (event) {
    var files = chosen();
    if (!files.length) return; // let the server say what is missing
    event.preventDefault();
    var fields = { district: form.elements.district.value, phone: form.elements.phone.value };
    button.disabled = true;
    errorBox.hidden = true;
    progress.hidden = false;
    progressText.textContent = text("preparing", "Preparing photo…");
    bar.style.width = "0";
    if (store) store.holdOriginals();  // this case's small copies first
    Promise.all(files.map(window.LeafPhotos.prepare)).then(function (photos) {
      if (navigator.onLine === false && store) return queue(photos, fields);
      progressText.textContent = text("sending", "Sending photo…");
      var blobs = photos.map(function (p) { return p.small; });
      return send(blobs, fields).then(function (answer) {
        if ((answer.status === 201 || answer.status === 202) && answer.body.url) {
          return answered(answer.body, photos, fields);
        }
        if (answer.status >= 400 && answer.status < 500) {
          return showError(answer.body.error || text("uploadFailed", "Sending failed. Please try again."));
        }
        return queue(photos, fields); // the server is down: the case waits like an offline one
      }, function () { return queue(photos, fields); });
    });
  });

  // The case is stored: its answer on this page when the response has it (else the result page, which
  // waits for it), and its photos' larger copies kept on the phone until they have all been sent.
  function answered(body, photos, fields) {
    var kept = store ? store.save({ status: "pending", submissionId: body.id, url: body.url,
      thumb: photos[0].thumb, photos: photos.length, district: fields.district }).catch(function () {}) : Promise.resolve();
    var originals = kept.then(function () { return larger(photos); }).then(function (blobs) {
      return store ? store.saveOriginals(body.id, 0, blobs) : null;
    }).catch(function () { /* the small copies serve */ });
    if (body.html && window.LeafResult) {
      window.LeafResult.show(body.html, body.url);
      return originals.then(function () { return store ? store.sendOriginals(api).catch(function () {}) : null; });
    }
    return originals.then(function () { window.location.assign(body.url); });
  }

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
      store.sendOriginals(api).catch(function () { /* sent on the next flush */ });
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
    if (item.photos > 1) date.textContent += " · " + item.photos + " ×";
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
