// 工作日历 import: read the chosen notice file into the text area (nothing is uploaded until
// the form is submitted, and the text can be checked first).
document.addEventListener("DOMContentLoaded", function () {
  var file = document.getElementById("calendar-file");
  var text = document.getElementById("calendar-text");
  if (!file || !text || !window.FileReader) return;
  file.addEventListener("change", function () {
    var f = file.files && file.files[0];
    if (!f) return;
    var r = new FileReader();
    r.onload = function () { text.value = String(r.result || "").replace(/^\uFEFF/, ""); };
    r.readAsText(f, "utf-8");
  });
});
