// A leaf photo as the phone sends it, and the request that sends it. Each photo gives a small copy
// (longest side 384 px, JPEG 0.8: about 20-30 KB, what the model reads; sent first, for the answer)
// and a larger one (longest side 1024 px: what officers zoom into; sent after the answer, in pieces,
// by store.js). The decision rule is fitted on photos shrunk exactly so (training/field/served_views.py
// SMALL_SIDE and SMALL_QUALITY): change both together.
(function (root) {
  "use strict";
  var SMALL_SIDE = 384;
  var SMALL_QUALITY = 0.8;
  var LARGE_SIDE = 1024;
  var LARGE_QUALITY = 0.85;
  var THUMB_SIDE = 96;

  function draw(bitmap, maxSide) {
    var scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function encode(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  // Resolves {small, large(), thumb}: ``large()`` encodes the larger copy when asked (after the small one
  // is sent) and resolves null when there is none worth sending. A photo the browser cannot decode is
  // sent as it is (the server says why it is refused, or reads it itself).
  function prepare(file) {
    var asIs = { small: file, large: function () { return Promise.resolve(null); }, thumb: "" };
    if (!root.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type)) return Promise.resolve(asIs);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var thumb = "";
      try { thumb = draw(bitmap, THUMB_SIDE).toDataURL("image/jpeg", 0.6); } catch (e) { /* no thumbnail */ }
      var side = Math.max(bitmap.width, bitmap.height);
      var small = draw(bitmap, SMALL_SIDE);
      var large = side > SMALL_SIDE ? draw(bitmap, LARGE_SIDE) : null;
      if (bitmap.close) bitmap.close();
      return encode(small, SMALL_QUALITY).then(function (blob) {
        return {
          small: blob || file,
          thumb: thumb,
          large: function () { return large ? encode(large, LARGE_QUALITY) : Promise.resolve(null); }
        };
      });
    }, function () { return asIs; });
  }

  // POSTs ``data`` (FormData); resolves {status, body} when the server answered, rejects without network.
  function post(url, data, onProgress) {
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open("POST", url);
      request.timeout = 120000;
      if (onProgress) request.upload.onprogress = function (e) { if (e.lengthComputable) onProgress(e.loaded, e.total); };
      request.onload = function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (e) { /* not JSON */ }
        resolve({ status: request.status, body: body });
      };
      request.onerror = request.ontimeout = function () { reject(new Error("network")); };
      request.send(data);
    });
  }

  // The query that asks for the answer in the response (one round trip) with the result page's HTML.
  var ANSWER_QUERY = "?wait=2&fragment=1";

  root.LeafPhotos = { prepare: prepare, post: post, draw: draw, ANSWER_QUERY: ANSWER_QUERY };
})(self);
