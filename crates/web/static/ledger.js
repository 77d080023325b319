// Ledger pages: print button, saved views (query strings kept in localStorage), and the
// milestone editor of the new-matter form. No inline script: the CSP forbids it.
(function () {
  "use strict";
  var KEY = "taizhang.savedViews";

  function loadViews() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function storeViews(v) {
    try { localStorage.setItem(KEY, JSON.stringify(v)); } catch (e) { /* private mode */ }
  }

  function renderViews() {
    var box = document.getElementById("saved-views");
    if (!box) return;
    var views = loadViews();
    while (box.children.length > 1) box.removeChild(box.lastChild);
    views.forEach(function (v, i) {
      var a = document.createElement("a");
      a.href = "/matters" + v.qs;
      a.textContent = v.name;
      a.className = "tag blue";
      var x = document.createElement("button");
      x.type = "button";
      x.className = "linkish";
      x.textContent = "×";
      x.title = "删除视图「" + v.name + "」";
      x.addEventListener("click", function () {
        var all = loadViews();
        all.splice(i, 1);
        storeViews(all);
        renderViews();
      });
      box.appendChild(a);
      box.appendChild(x);
    });
    box.hidden = views.length === 0;
  }

  function init() {
    var print = document.getElementById("print-page");
    if (print) print.addEventListener("click", function () { window.print(); });

    var save = document.getElementById("save-view");
    if (save) {
      save.addEventListener("click", function () {
        var name = window.prompt("视图名称", "我的视图");
        if (!name) return;
        var views = loadViews().filter(function (v) { return v.name !== name; });
        views.push({ name: name.slice(0, 30), qs: window.location.search });
        storeViews(views);
        renderViews();
      });
    }
    renderViews();

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
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
