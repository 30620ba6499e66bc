// Installs the service worker (offline upload page, queued photos). A file, not an inline
// script, so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!("serviceWorker" in navigator) || !script) return;
  var url = script.getAttribute("data-sw");
  addEventListener("load", function () { navigator.serviceWorker.register(url).catch(function () {}); });
})();
