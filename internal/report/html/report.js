(function () {
  "use strict";
  var table = document.getElementById("risk-table");
  if (!table) { return; }
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody.risk"));
  var selects = Array.prototype.slice.call(document.querySelectorAll("#filters select"));
  var query = document.getElementById("f-q");
  var count = document.getElementById("f-count");
  var active = document.getElementById("f-active");
  var none = document.getElementById("no-match");
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var keys = { cluster: "cluster", ns: "ns", tier: "tier", owner: "owner", fix: "fix" };
  var names = { cluster: "cluster", ns: "namespace", tier: "tier", owner: "owner", fix: "fix available" };
  var tiers = ["immediate", "out-of-cycle", "scheduled", "defer"];

  function apply() {
    var want = [];
    selects.forEach(function (s) {
      if (s.value !== "") { want.push([keys[s.dataset.key], s.value, names[s.dataset.key]]); }
    });
    var q = query.value.trim().toLowerCase();
    var shown = 0, byTier = {};
    rows.forEach(function (r, i) {
      var ok = want.every(function (w) { return r.dataset[w[0]] === w[1]; }) && (q === "" || texts[i].indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) { shown++; byTier[r.dataset.tier] = (byTier[r.dataset.tier] || 0) + 1; }
    });
    none.hidden = shown > 0;
    var parts = tiers.filter(function (t) { return byTier[t]; }).map(function (t) { return byTier[t] + " " + t; });
    count.textContent = (want.length || q ? "Showing " + shown + " of " + rows.length + " risks" : "Showing all " + rows.length + " risks") +
      (parts.length ? " (" + parts.join(", ") + ")" : "");
    active.textContent = "";
    want.forEach(function (w) { chip(w[2] + ": " + w[1]); });
    if (q) { chip("search: " + q); }
  }
  function chip(text) {
    var c = document.createElement("span");
    c.className = "chip";
    c.textContent = text;
    active.appendChild(c);
  }
  function toggle(body) {
    var open = !body.classList.contains("open");
    body.classList.toggle("open", open);
    body.querySelector("tr.detail").hidden = !open;
    body.querySelector("tr.main").setAttribute("aria-expanded", String(open));
  }
  document.addEventListener("click", function (e) {
    if (e.target.closest("a")) { return; }
    var card = e.target.closest(".tier-card");
    if (card) {
      document.getElementById("f-tier").value = card.dataset.tier;
      apply();
      table.scrollIntoView({ behavior: "smooth" });
      return;
    }
    var main = e.target.closest("tbody.risk > tr.main");
    if (main) { toggle(main.parentNode); }
  });
  document.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target.matches && e.target.matches("tbody.risk > tr.main")) {
      e.preventDefault();
      toggle(e.target.parentNode);
    }
  });
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  query.addEventListener("input", apply);
  document.getElementById("f-clear").addEventListener("click", function () {
    selects.forEach(function (s) { s.value = ""; });
    query.value = "";
    apply();
  });
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () { closed.forEach(function (d) { d.open = false; }); });
  apply();
}());
