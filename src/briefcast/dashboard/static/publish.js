// Load a chosen file into the textarea, so the form stays a plain urlencoded POST.
(function () {
  "use strict";
  var input = document.getElementById("file");
  var area = document.getElementById("markdown");
  if (!input || !area) return;
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) return;
    file.text().then(function (text) { area.value = text; });
  });
})();
