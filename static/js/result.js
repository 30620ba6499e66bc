// Asks for the result every two seconds and shows it as soon as it is ready.
(function () {
  "use strict";
  var result = document.getElementById("result");
  if (!result || !window.fetch) return;
  var url = result.getAttribute("data-api");
  var delay = 1000;
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.status && body.status !== "pending") { window.location.reload(); return; }
        delay = Math.min(delay * 1.3, 5000);
        setTimeout(poll, delay);
      }, function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, delay);
})();
