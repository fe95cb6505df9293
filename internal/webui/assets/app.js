// runlens server UI: keyboard shortcuts, row selection and clickable
// rows. Everything works without it; htmx does the filter swaps.
(function () {
  "use strict";
  var pendingG = false, gTimer = null, lastQuery = null;

  function rows() {
    var t = document.querySelector("table.nav-rows");
    return t ? Array.prototype.slice.call(t.querySelectorAll("tbody tr.row")) : [];
  }
  function selected() { return document.querySelector("tr.row.sel"); }
  function select(r) {
    var cur = selected();
    if (cur) { cur.classList.remove("sel"); cur.removeAttribute("aria-selected"); }
    if (!r) { return; }
    r.classList.add("sel");
    r.setAttribute("aria-selected", "true");
    r.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var i = all.indexOf(selected());
    i = i < 0 ? (step > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, i + step));
    select(all[i]);
  }
  function open(r) {
    var href = r && r.getAttribute("data-href");
    if (href) { window.location.assign(href); }
  }
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA" || el.isContentEditable);
  }
  function help() {
    var d = document.getElementById("help");
    if (d && !d.open) { d.showModal(); }
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var el = document.activeElement;
    if (typing(el)) {
      if (e.key === "Escape") { el.blur(); }
      return;
    }
    if (document.querySelector("dialog[open]")) { return; }
    if (pendingG) {
      pendingG = false;
      clearTimeout(gTimer);
      var to = { o: "/", r: "/risks", a: "/actions", c: "/changes" }[e.key];
      if (to) { e.preventDefault(); window.location.assign(to); }
      return;
    }
    switch (e.key) {
    case "/":
      var q = document.getElementById("f-q");
      e.preventDefault();
      if (q) { q.focus(); q.select(); break; }
      // Elsewhere "/" searches the risks: go there, focus the box.
      try { window.sessionStorage.setItem("runlens-search", "1"); } catch (err) { /* storage off */ }
      window.location.assign("/risks");
      break;
    case "j": e.preventDefault(); move(1); break;
    case "k": e.preventDefault(); move(-1); break;
    case "Enter":
      if (selected() && (!el || el === document.body || el.tagName === "MAIN")) { e.preventDefault(); open(selected()); }
      break;
    case "g":
      pendingG = true;
      gTimer = setTimeout(function () { pendingG = false; }, 1200);
      break;
    case "?": e.preventDefault(); help(); break;
    }
  });

  // A click anywhere on a row opens it, except on its own links.
  document.addEventListener("click", function (e) {
    if (e.target.closest("a, button, input, select, summary")) { return; }
    var r = e.target.closest("tr.row");
    if (r && r.getAttribute("data-href")) { open(r); }
  });

  // Filters left empty stay out of the request and of the pushed URL.
  document.addEventListener("htmx:configRequest", function (e) {
    var p = e.detail.parameters;
    var keys = typeof p.keys === "function" ? Array.from(p.keys()) : Object.keys(p);
    keys.forEach(function (k) {
      var v = typeof p.get === "function" ? p.get(k) : p[k];
      if (v === "" || v === null) {
        if (typeof p.delete === "function") { p.delete(k); } else { delete p[k]; }
      }
    });
    var q = new URLSearchParams();
    (typeof p.keys === "function" ? Array.from(p.keys()) : Object.keys(p)).forEach(function (k) {
      q.append(k, typeof p.get === "function" ? p.get(k) : p[k]);
    });
    lastQuery = q.toString() ? "?" + q.toString() : "";
  });
  // A change that leaves the filters as they are (leaving the search box)
  // fetches nothing: the table, and its selected row, stay.
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (e.detail.elt.id === "filters" && lastQuery === window.location.search) { e.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var b = document.getElementById("help-open");
    if (b) { b.addEventListener("click", help); }
    try {
      if (window.sessionStorage.getItem("runlens-search")) {
        window.sessionStorage.removeItem("runlens-search");
        var q = document.getElementById("f-q");
        if (q) { q.focus(); }
      }
    } catch (err) { /* storage off */ }
    // On a finding's page, its own row among the occurrences is marked.
    rows().forEach(function (r) {
      if (r.getAttribute("data-href") === window.location.pathname) {
        r.classList.add("current");
        r.setAttribute("aria-current", "true");
      }
    });
  });
})();
