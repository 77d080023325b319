// Ledger pages: print button, the milestone editor of the new-matter form and the size check
// of the 佐证材料 upload. No inline script: the CSP forbids it. (常用视图 are saved on the
// server: plain forms, no script.)
(function () {
  "use strict";

  function init() {
    var print = document.getElementById("print-page");
    if (print) print.addEventListener("click", function () { window.print(); });

    // On a phone the filters fold away unless some are in use.
    var box = document.getElementById("filters-box");
    if (box && window.matchMedia("(max-width: 720px)").matches && !window.location.search) {
      box.open = false;
    }

    var add = document.getElementById("ms-add");
    var rows = document.getElementById("ms-rows");
    var tpl = document.getElementById("ms-template");
    if (add && rows && tpl) {
      add.addEventListener("click", function () {
        rows.appendChild(tpl.content.cloneNode(true));
        var inputs = rows.querySelectorAll("input[name=ms_title]");
        if (inputs.length) inputs[inputs.length - 1].focus();
      });
      rows.addEventListener("click", function (e) {
        var t = e.target;
        if (t && t.classList && t.classList.contains("ms-del")) {
          var tr = t.closest("tr");
          if (tr) tr.remove();
        }
      });
    }

    // 佐证材料: a file over the limit is refused here, before a long upload, with the words the
    // server would use; the chosen file and the form stay as they are.
    var up = document.getElementById("attachment-upload");
    var file = up && up.querySelector("input[type=file][data-max-bytes]");
    if (up && file) {
      var note = document.getElementById("attachment-too-large");
      var max = Number(file.getAttribute("data-max-bytes")) || 0;
      var fits = function () {
        var f = file.files && file.files[0];
        var over = !!(f && max && f.size > max);
        if (note) note.hidden = !over;
        return !over;
      };
      file.addEventListener("change", fits);
      up.addEventListener("submit", function (e) {
        if (!fits()) e.preventDefault();
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
