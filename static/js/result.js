// Keeps the result page current without a reload by hand: while the photo is being looked at it
// asks every second or so; afterwards, every 5 to 30 seconds, whether an extension officer has
// answered (or changed the answer), and reloads the page when so.
(function () {
  "use strict";
  var result = document.getElementById("result");
  if (!result || !window.fetch) return;
  var url = result.getAttribute("data-api");
  var status = result.getAttribute("data-status");
  var reviewedAt = result.getAttribute("data-reviewed-at") || "";
  var pending = status === "pending";
  var delay = pending ? 1000 : 5000;
  var maxDelay = pending ? 5000 : 30000;
  var stopAt = Date.now() + 6 * 3600 * 1000;  // a page left open all day stops asking
  var timer = null;

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
      .then(function (body) { if (changed(body)) window.location.reload(); else later(); }, later);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && timer) {  // back on the page: ask now
      clearTimeout(timer);
      delay = pending ? 1000 : 5000;
      poll();
    }
  });
  timer = setTimeout(poll, delay);
})();
