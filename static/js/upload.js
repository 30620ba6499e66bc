// Shrinks the photo in the browser (longest side 1024 px, JPEG) and sends it with a progress bar.
// Without JavaScript the plain form posts the original photo and still works.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var input = document.getElementById("id_image");
  var preview = document.getElementById("preview");
  var errorBox = document.getElementById("form-error");
  var progress = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-progress-bar");
  var button = document.getElementById("submit-button");
  var MAX_SIDE = 1024;

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

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!window.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type)) return resolve(file);
      createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
        var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
        if (scale === 1 && file.type === "image/jpeg") return resolve(file);
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.85);
      }, function () { resolve(file); });
    });
  }

  form.addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (!file) return; // let the server say what is missing
    event.preventDefault();
    button.disabled = true;
    progress.hidden = false;
    bar.style.width = "0";
    shrink(file).then(function (blob) {
      var data = new FormData();
      data.append("image", blob, "leaf.jpg");
      data.append("district", form.elements.district.value);
      var request = new XMLHttpRequest();
      request.open("POST", form.getAttribute("data-api"));
      request.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.style.width = Math.round((100 * e.loaded) / e.total) + "%";
      };
      request.onload = function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (e) { /* not JSON */ }
        if (request.status === 202 && body.url) { window.location.assign(body.url); return; }
        showError(body.error || form.getAttribute("data-error") || "Upload failed (" + request.status + ").");
      };
      request.onerror = function () { showError("No network. Please try again when you have signal."); };
      request.send(data);
    });
  });
})();
