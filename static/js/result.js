// The answer on the page, kept current: while the case is being looked at it asks every second or so;
// afterwards, every 5 to 30 seconds, whether an extension officer has answered (or changed the answer),
// and reloads the page when so. "Add another leaf" sends the leaf's small copy and shows the case's new
// answer in place when the server has it within a moment (one round trip), with a progress bar; the
// larger copy follows in the background (store.js). The upload page shows a first answer the same way
// (LeafResult.show).
(function (root) {
  "use strict";
  var timer = null;
  var stopAt = Date.now() + 6 * 3600 * 1000;  // a page left open all day stops asking
  var apiRoot = "";

  function text(key, fallback) {
    var strings = {};
    try { strings = JSON.parse(document.getElementById("js-strings").textContent); } catch (e) { /* English */ }
    return strings[key] || fallback;
  }

  function watch(result) {
    clearTimeout(timer);
    var url = result.getAttribute("data-api");
    var status = result.getAttribute("data-status");
    var reviewedAt = result.getAttribute("data-reviewed-at") || "";
    var pending = status === "pending";
    var delay = pending ? 1000 : 5000;
    var maxDelay = pending ? 5000 : 30000;
    if (status === "failed") return;

    function changed(body) {
      if (!body.status) return false;
      if (body.status !== status) return true;
      var answer = body.review && body.review.reviewed_at ? body.review.reviewed_at : "";
      return answer !== reviewedAt;
    }

    function later() {
      if (Date.now() > stopAt) return;
      delay = Math.min(delay * 1.3, maxDelay);
      timer = setTimeout(poll, delay);
    }

    function poll() {
      timer = null;
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) { return response.json(); })
        .then(function (body) { if (changed(body)) root.location.reload(); else later(); }, later);
    }

    root.onvisibilitychange = function () {
      if (document.visibilityState === "visible" && timer) {  // back on the page: ask now
        clearTimeout(timer);
        delay = pending ? 1000 : 5000;
        poll();
      }
    };
    timer = setTimeout(poll, delay);
  }

  function sendOriginals() {
    var store = root.LeafStore && root.indexedDB ? root.LeafStore : null;
    if (store && apiRoot) store.sendOriginals(apiRoot).catch(function () { /* next visit sends them */ });
  }

  function enhanceAddLeaf(result) {
    var form = document.getElementById("add-leaf-form");
    var input = document.getElementById("add-leaf-input");
    if (!form || !input || !root.LeafPhotos || !root.FormData) return;
    var api = form.getAttribute("data-api");
    form.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      if (!file) return;
      event.preventDefault();
      if (root.LeafStore && root.LeafStore.holdOriginals) root.LeafStore.holdOriginals();  // this leaf first
      var button = document.getElementById("add-leaf-button");
      button.disabled = true;
      var box = document.createElement("div");
      box.className = "progress";
      box.id = "add-leaf-progress";
      var bar = document.createElement("div");
      bar.className = "progress-bar";
      bar.style.width = "0";
      box.appendChild(bar);
      var note = document.createElement("span");
      note.textContent = text("sending", "Sending photo…");
      box.appendChild(note);
      form.appendChild(box);
      var old = document.getElementById("form-error");
      if (old) old.remove();
      function refused(message) {
        box.remove();
        button.disabled = false;
        var error = document.createElement("div");
        error.className = "error";
        error.id = "form-error";
        error.setAttribute("role", "alert");
        error.textContent = message || text("uploadFailed", "Sending failed. Please try again.");
        form.parentNode.insertBefore(error, form);
        sendOriginals();  // held for this leaf: go on
      }
      var photo = null;
      root.LeafPhotos.prepare(file).then(function (prepared) {
        photo = prepared;
        var data = new FormData();
        data.append("image", photo.small, "leaf.jpg");
        return root.LeafPhotos.post(api + root.LeafPhotos.ANSWER_QUERY, data, function (loaded, total) {
          bar.style.width = Math.round((100 * loaded) / total) + "%";
        });
      }).then(function (answer) {
        if ((answer.status === 201 || answer.status === 202) && answer.body.html) {
          keepOriginal(answer.body, photo);
          show(answer.body.html, null);
        } else if (answer.status >= 400 && answer.status < 500) {
          refused(answer.body.error);
        } else {
          form.submit();  // the server answered but is unwell: the plain form says what happened
        }
      }, function () {
        // No answer (no network, or cut off): the photo may have arrived; sending it again is the farmer's
        // choice, never automatic (the same leaf twice would count twice).
        refused("");
      });
    });
  }

  // The larger copy of a photo just added (its position is the case's last), sent after the answer.
  function keepOriginal(body, photo) {
    var store = root.LeafStore && root.indexedDB ? root.LeafStore : null;
    if (!store || !body.id) return;
    photo.large().then(function (blob) {
      return blob ? store.saveOriginals(body.id, body.photos - 1, [blob]) : null;
    }).then(sendOriginals).catch(function () { /* the small copy serves */ });
  }

  // Puts a case's answer (the result page's HTML, from the upload's response) on the page, in place.
  function show(html, url) {
    var current = document.getElementById("answer-page");
    if (current) {
      current.outerHTML = html;
    } else {
      document.querySelector("main").innerHTML = html;
    }
    if (url && root.history && root.history.pushState) {
      root.history.pushState({ answer: true }, "", url);
      root.onpopstate = function () { root.location.reload(); };
    }
    start();
    var heading = document.getElementById("diagnosis") || document.querySelector("#result h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  }

  function start() {
    var result = document.getElementById("result");
    if (!result || !root.fetch) return;
    apiRoot = result.getAttribute("data-api-root") || apiRoot;
    watch(result);
    enhanceAddLeaf(result);
    sendOriginals();
  }

  root.LeafResult = { show: show, start: start };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})(self);
