// Print buttons (class "print-now") on the report print views; no inline script under the CSP.
document.addEventListener("click", function (e) {
  var t = e.target.closest ? e.target.closest(".print-now") : null;
  if (!t) return;
  e.preventDefault();
  window.print();
});
