// Training page: keep the progress bars of queued and running runs up to date by polling each run's
// JSON (/dashboard/training/<id>.json); reload the page once a run ends, to show its results.
// Without JavaScript the page still shows where each run was when it was loaded.
(function () {
  "use strict";
  if (!window.fetch) return;

  var INTERVAL = 3000;
  var MAX_INTERVAL = 30000;
  var cards = document.querySelectorAll("[data-progress-url]");
  if (!cards.length) return;

  function field(card, name) {
    return card.querySelector('[data-field="' + name + '"]');
  }

  function show(card, data) {
    var bar = field(card, "bar");
    if (bar) {
      if (data.waiting || !data.total) {
        bar.removeAttribute("value"); // indeterminate: waiting for the worker
        bar.max = 1;
      } else {
        bar.max = data.total;
        bar.value = Math.min(data.step, data.total);
      }
      bar.textContent = data.percent + "%";
    }
    var status = field(card, "status");
    if (status) {
      status.textContent = data.status_display;
      status.className = "badge status-" + data.status;
    }
    var message = field(card, "message");
    if (message) message.textContent = data.waiting ? "Waiting for the training worker…" : (data.message || "Starting…");
    var eta = field(card, "eta");
    if (eta) eta.textContent = data.eta_text || "";
    var cancelling = field(card, "cancelling");
    if (cancelling) cancelling.hidden = !data.cancel_requested;
  }

  function watch(card) {
    var url = card.getAttribute("data-progress-url");
    var delay = INTERVAL;
    var timer = null;

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(poll, delay);
    }

    function poll() {
      if (document.hidden) { schedule(); return; }
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          show(card, data);
          if (data.is_finished) {
            window.location.reload(); // the finished run's results, error or metrics
            return;
          }
          delay = INTERVAL;
          schedule();
        }, function () {
          delay = Math.min(delay * 2, MAX_INTERVAL); // offline or signed out: back off, keep the last state
          schedule();
        });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { delay = INTERVAL; clearTimeout(timer); poll(); }
    });
    schedule();
  }

  Array.prototype.forEach.call(cards, watch);
})();
