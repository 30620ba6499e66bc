// Officers' dashboard: keyboard review (1..9 pick, Enter confirm, X reject, U unusable, J/K next/previous,
// Z zoom), the heatmap's state, and "select all" on the grid. Every action also works without it.
(function () {
  "use strict";

  function typing(target) {
    if (!target) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    return tag === "INPUT" && target.type !== "radio" && target.type !== "checkbox";
  }

  // --- The grid ---------------------------------------------------------------------------
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll('#queue-grid input[name="ids"]').forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }

  // --- Zoom -------------------------------------------------------------------------------
  var zoom = document.getElementById("zoom");
  var photo = document.getElementById("photo");
  function toggleZoom(event) {
    if (!zoom || !photo) return;
    var rx = 0.5, ry = 0.5;
    if (event && event.offsetX !== undefined && photo.clientWidth) {
      rx = event.offsetX / photo.clientWidth;
      ry = event.offsetY / photo.clientHeight;
    }
    var zoomed = zoom.classList.toggle("zoomed");
    if (zoomed) {
      zoom.scrollLeft = rx * photo.clientWidth - zoom.clientWidth / 2;
      zoom.scrollTop = ry * photo.clientHeight - zoom.clientHeight / 2;
    }
  }
  if (zoom) zoom.addEventListener("click", toggleZoom);
  var zoomButton = document.getElementById("zoom-button");
  if (zoomButton) zoomButton.addEventListener("click", function () { toggleZoom(); });

  // --- The verdict form and its keys ------------------------------------------------------
  var form = document.getElementById("label-form");
  if (form) {
    var radios = form.querySelectorAll('input[name="label"]');
    var confirmButton = document.getElementById("confirm-button");
    var rejectButton = document.getElementById("reject-button");
    var unusableButton = document.getElementById("unusable-button");
    var predicted = form.getAttribute("data-predicted");
    var submitting = false;

    var updateButton = function () {
      var chosen = form.querySelector('input[name="label"]:checked');
      if (!chosen) return;
      var name = chosen.getAttribute("data-display");
      var verb = chosen.value === predicted ? "Confirm: " : "Correct to: ";
      confirmButton.innerHTML = "";
      confirmButton.appendChild(document.createTextNode(verb + name + " "));
      var key = document.createElement("kbd");
      key.textContent = "Enter";
      confirmButton.appendChild(key);
    };
    radios.forEach(function (radio) { radio.addEventListener("change", updateButton); });
    updateButton();

    var submitWith = function (button) {
      if (submitting) return;
      submitting = true;
      if (form.requestSubmit) form.requestSubmit(button); else button.click();
    };
    form.addEventListener("submit", function () { submitting = true; });

    var go = function (id) {
      var link = document.getElementById(id);
      if (link) window.location.assign(link.href);
    };

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var key = event.key;
      if (/^[1-9]$/.test(key)) {
        var radio = radios[Number(key) - 1];
        if (radio) { radio.checked = true; radio.focus(); updateButton(); event.preventDefault(); }
      } else if (key === "Enter") {
        var tag = event.target && event.target.tagName;
        if (tag === "A" || tag === "BUTTON") return; // a focused link or button does its own thing
        event.preventDefault();
        submitWith(confirmButton);
      } else if (key === "x" || key === "X") {
        event.preventDefault();
        submitWith(rejectButton);
      } else if (key === "u" || key === "U") {
        event.preventDefault();
        submitWith(unusableButton);
      } else if (key === "j" || key === "J") {
        go("next-link");
      } else if (key === "k" || key === "K") {
        go("previous-link");
      } else if (key === "z" || key === "Z") {
        toggleZoom();
      }
    });
  }

  // --- The heatmap: ask the worker for it, then wait for it --------------------------------
  var box = document.getElementById("heatmap");
  if (box && window.fetch && form) {
    var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    var message = document.getElementById("heatmap-message");
    var image = document.getElementById("heatmap-image");
    var tries = 0;
    var post = function (url) {
      return fetch(url, { method: "POST", headers: { "X-CSRFToken": csrf, Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); });
    };
    var show = function (body) {
      box.setAttribute("data-state", body.state);
      message.textContent = body.message;
      if (body.state === "done" && body.url) { image.src = body.url; image.hidden = false; }
      if (body.state === "pending" && tries++ < 60) setTimeout(poll, Math.min(1000 * Math.pow(1.3, tries), 5000));
    };
    var poll = function () {
      fetch(box.getAttribute("data-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(show, function () { /* offline: leave the message */ });
    };
    var state = box.getAttribute("data-state");
    if (state === "none") post(box.getAttribute("data-url")).then(show);
    else if (state === "pending") show({ state: "pending", message: message.textContent });
    var retry = document.getElementById("heatmap-retry");
    if (retry) retry.addEventListener("click", function () { retry.hidden = true; post(box.getAttribute("data-url")).then(show); });
    // Warm the next photo's heatmap so it is ready when the officer gets there.
    var nextUrl = box.getAttribute("data-next-url");
    if (nextUrl && state !== "unavailable") post(nextUrl).catch(function () {});
  }
})();
