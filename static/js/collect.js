// The Collect page (issue 27): open a garden visit, then take photos one after another. Each photo is shrunk
// on the phone (longest side 1024 px, the size the server keeps), saved in IndexedDB (collect-store.js) and
// sent in the background, the visit first; the list shows each one waiting, sending or sent. Without network
// everything waits on the phone and goes by itself when the network returns (the `online` event, a retry every
// 15 s, Background Sync where the browser has it). Without this script the page's plain forms work.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  var store = window.CollectStore && window.indexedDB ? window.CollectStore : null;
  if (!form || !store || !window.FormData || !window.Promise) return;
  var config = JSON.parse(document.getElementById("collect-config").textContent);
  var panel = document.getElementById("visit-panel");
  var summary = document.getElementById("visit-summary");
  var offlineNote = document.getElementById("visit-offline");
  var visitLink = document.getElementById("visit-link");
  var input = document.getElementById("photo-input");
  var formError = document.getElementById("visit-form-error");
  var queueSection = document.getElementById("queue-section");
  var queueList = document.getElementById("queue");
  var queueSummary = document.getElementById("queue-summary");
  var MAX_SIDE = 1024;
  var QUALITY = 0.85;
  var THUMB_SIDE = 96;
  var RETRY_MS = 15000;
  var current = null;  // the open visit
  var retryTimer = null;
  var signedOut = false;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function checkedValues(name) {
    return Array.prototype.filter.call(form.elements[name] ? form.querySelectorAll('input[name="' + name + '"]') : [],
      function (box) { return box.checked; }).map(function (box) { return box.value; });
  }

  function optionText(select) {
    var option = select.options[select.selectedIndex];
    return option ? option.textContent : "";
  }

  function refuse(message) {
    formError.textContent = message;
    formError.hidden = false;
    formError.scrollIntoView({ block: "center" });
  }

  // The same rules the server applies (classifier.collection.services), so a visit opened offline is not
  // refused later; the server checks again.
  function readVisit() {
    var district = form.elements.district.value;
    var parish = form.elements.parish.value.replace(/\s+/g, " ").trim();
    var visitedOn = form.elements.visited_on.value;
    var label = (checkedValues("label")[0] || "");
    var labelBox = form.querySelector('input[name="label"]:checked');
    if (!district) return refuse("Choose the district.");
    if (!parish) return refuse("Name the parish (coarse location only).");
    if (/\d{4}/.test(parish)) return refuse("Only the parish's name: never a farmer's name or phone number.");
    if (!visitedOn) return refuse("Give the visit's date.");
    if (!form.elements.farmer_agreed.checked) return refuse("Ask the farmer first: photos are taken only with the farmer's agreement.");
    var labelName = labelBox ? labelBox.parentNode.textContent.trim() : "Not sure yet";
    return {
      district: district, parish: parish, visitedOn: visitedOn, label: label, evidence: checkedValues("evidence"),
      farmerAgreed: true, summary: optionText(form.elements.district) + ", " + parish + ", " + visitedOn + " · " + labelName
    };
  }

  function showVisit(visit) {
    current = visit;
    form.hidden = !!visit;
    panel.hidden = !visit;
    if (!visit) return;
    summary.textContent = visit.summary;
    offlineNote.hidden = visit.status === "sent";
    visitLink.hidden = !visit.url;
    if (visit.url) visitLink.href = visit.url;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    formError.hidden = true;
    var visit = readVisit();
    if (!visit) return;
    store.saveVisit(visit).then(function (saved) {
      store.setMeta("current", saved.id);
      showVisit(saved);
      flush();
      panel.scrollIntoView();
    }, function () { form.submit(); });  // no IndexedDB (private mode): the plain form opens it online
  });

  document.getElementById("end-visit").addEventListener("click", function () {
    store.setMeta("current", "");
    showVisit(null);
    var label = form.querySelector('input[name="label"]:checked');
    if (label) label.checked = false;
    Array.prototype.forEach.call(form.querySelectorAll('input[name="evidence"]'), function (box) { box.checked = false; });
    form.elements.farmer_agreed.checked = false;
  });

  var draw = window.LeafPhotos.draw;  // the farmer page's, one way to shrink a photo

  // Resolves {blob, thumb}: redrawn upright at most MAX_SIDE (no EXIF on the way), or the file as it is when
  // the browser cannot decode it (the server says why).
  function shrink(file) {
    return new Promise(function (resolve) {
      if (!window.createImageBitmap) return resolve({ blob: file, thumb: "" });
      createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
        var thumb = "";
        try { thumb = draw(bitmap, THUMB_SIDE).toDataURL("image/jpeg", 0.6); } catch (e) { /* no thumbnail */ }
        draw(bitmap, MAX_SIDE).toBlob(function (blob) { resolve({ blob: blob || file, thumb: thumb }); }, "image/jpeg", QUALITY);
      }, function () { resolve({ blob: file, thumb: "" }); });
    });
  }

  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files || []);
    var visit = current;
    input.value = "";  // ready for the next photo at once
    if (!visit) return;
    files.reduce(function (done, file) {
      return done.then(function () { return shrink(file); }).then(function (photo) {
        var taken = file.lastModified ? new Date(file.lastModified) : new Date();
        return store.savePhoto({ visitId: visit.id, blob: photo.blob, thumb: photo.thumb, takenAt: taken.toISOString() });
      }).then(render);
    }, Promise.resolve()).then(function () { askForSync(); flush(); });
  });

  function describe(photo) {
    if (photo.status === "sent") return "Sent";
    if (photo.status === "failed") return "Could not send" + (photo.error ? ": " + photo.error : "");
    if (photo.status === "sending") return "Sending…";
    return signedOut ? "Waiting: sign in again to send it" : "Waiting for network";
  }

  function render() {
    return Promise.all([store.visits(), store.photos()]).then(function (read) {
      var visits = {}, photos = read[1].slice().reverse();
      read[0].forEach(function (v) { visits[v.id] = v; });
      if (current && visits[current.id]) showVisit(visits[current.id]);
      queueSection.hidden = photos.length === 0;
      queueList.textContent = "";
      var waiting = 0, sent = 0, failed = 0;
      photos.forEach(function (photo) {
        if (photo.status === "sent") sent += 1; else if (photo.status === "failed") failed += 1; else waiting += 1;
        var li = document.createElement("li");
        li.className = "queued " + photo.status;
        li.setAttribute("data-photo", photo.id);
        if (photo.thumb) {
          var img = document.createElement("img");
          img.src = photo.thumb;
          img.alt = "";
          li.appendChild(img);
        }
        var text = document.createElement("span");
        var visit = visits[photo.visitId];
        text.textContent = (visit ? visit.summary + " · " : "") + describe(photo);
        li.appendChild(text);
        queueList.appendChild(li);
      });
      queueSummary.textContent = waiting
        ? waiting + " photo" + (waiting > 1 ? "s" : "") + (signedOut ? " waiting: sign in again to send them." : " waiting on this phone: sent when there is network.")
        : "All " + sent + " photo" + (sent === 1 ? "" : "s") + " sent." + (failed ? " " + failed + " could not be sent." : "");
    }).catch(function () { /* no IndexedDB: nothing listed */ });
  }

  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, RETRY_MS);
  }

  function flush() {
    var token = csrfToken();
    var saved = token ? store.setMeta("csrf", token) : Promise.resolve();
    return saved.then(function () { return store.flush(config); }).then(function (result) {
      signedOut = result.signedOut;
      if (result.waiting) retryLater();
    }, retryLater).then(render);
  }

  function askForSync() {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register(store.SYNC_TAG);
    }).catch(function () { /* the online event and the timer still send them */ });
  }

  // The page may be a copy kept days ago (opened offline): its date says the day it was kept, not today.
  (function today() {
    var input = form.elements.visited_on, now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (input && input.value === input.defaultValue) {
      input.value = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
    }
  })();

  window.addEventListener("online", flush);
  if (window.BroadcastChannel) new BroadcastChannel("leaf-collect").onmessage = render;
  Promise.all([store.getMeta("current"), store.visits()]).then(function (read) {
    var open = read[1].filter(function (v) { return v.id === read[0]; })[0];
    showVisit(open || null);
  }).catch(function () {}).then(render).then(flush);
})();
