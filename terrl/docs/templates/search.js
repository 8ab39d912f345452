// Filters the territory table and details by path, title and owner. No network, no libraries.
(function () {
  "use strict";
  var input = document.getElementById("search");
  if (input) {
    var rows = document.querySelectorAll("[data-search]");
    var count = document.getElementById("search-count");
    input.parentNode.parentNode.hidden = false;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var hit = !q || rows[i].getAttribute("data-search").indexOf(q) !== -1;
        rows[i].hidden = !hit;
        if (hit && rows[i].tagName === "TR") { shown++; }
      }
      count.textContent = q ? shown + " found" : "";
    });
  }
  // Printing shows every long list in full.
  window.addEventListener("beforeprint", function () {
    var all = document.querySelectorAll("details");
    for (var i = 0; i < all.length; i++) { all[i].open = true; }
  });
})();
