/* tminus default theme: theme toggle, version switcher, countdown, sortable tables,
 * copy buttons, email preview sizing, print preparation. No dependencies; works from
 * file:// (no fetch, no modules). Every feature is optional: the page works without it. */
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  var STORAGE_KEY = "tminus-theme";

  function ready(fn) {
    if (doc.readyState === "loading") { doc.addEventListener("DOMContentLoaded", fn); } else { fn(); }
  }
  function store(key, value) {
    try { if (value === null) { localStorage.removeItem(key); } else { localStorage.setItem(key, value); } } catch (e) { /* ignore */ }
  }

  /* ---------- Light / dark ---------- */
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function effectiveTheme() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") { return chosen; }
    return media && media.matches ? "dark" : "light";
  }
  function updateToggle() {
    var btn = doc.getElementById("theme-toggle");
    if (!btn) { return; }
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    btn.setAttribute("aria-label", "Switch to " + next + " theme");
    btn.setAttribute("title", "Switch to " + next + " theme");
  }
  function initTheme() {
    var btn = doc.getElementById("theme-toggle");
    if (!btn) { return; }
    btn.addEventListener("click", function () {
      var next = effectiveTheme() === "dark" ? "light" : "dark";
      var system = media && media.matches ? "dark" : "light";
      if (next === system) {
        /* Back to the system's choice: forget the override. */
        root.removeAttribute("data-theme");
        store(STORAGE_KEY, null);
      } else {
        root.setAttribute("data-theme", next);
        store(STORAGE_KEY, next);
      }
      updateToggle();
    });
    if (media) {
      var onChange = function () { updateToggle(); };
      if (media.addEventListener) { media.addEventListener("change", onChange); } else if (media.addListener) { media.addListener(onChange); }
    }
    updateToggle();
  }

  /* ---------- Version switcher ---------- */
  function compareVersions(a, b) {
    var pa = String(a).split(/[.-]/), pb = String(b).split(/[.-]/);
    for (var i = 0; i < Math.max(pa.length, pb.length); i++) {
      if (pa[i] === undefined) { return -1; }
      if (pb[i] === undefined) { return 1; }
      var na = /^\d+$/.test(pa[i]) ? parseInt(pa[i], 10) : NaN;
      var nb = /^\d+$/.test(pb[i]) ? parseInt(pb[i], 10) : NaN;
      if (!isNaN(na) && !isNaN(nb)) { if (na !== nb) { return na < nb ? -1 : 1; } }
      else if (pa[i] !== pb[i]) { return pa[i] < pb[i] ? -1 : 1; }
    }
    return 0;
  }
  function initVersions() {
    var select = doc.getElementById("version-select");
    if (!select) { return; }
    var base = select.getAttribute("data-versions-root") || "";
    var path = select.getAttribute("data-page-path") || "index.html";
    var current = select.getAttribute("data-current");
    var data = window.TMINUS_VERSIONS;
    if (data && data.versions && data.versions.length) {
      /* The shared list knows about versions built after this page: rebuild the menu. */
      var list = data.versions.slice();
      var known = {};
      list.forEach(function (v) { known[v.version] = true; });
      if (current && !known[current]) { list.push({ version: current, status: "" }); }
      list.sort(function (a, b) { return compareVersions(b.version, a.version); });
      while (select.firstChild) { select.removeChild(select.firstChild); }
      list.forEach(function (v) {
        var opt = doc.createElement("option");
        opt.value = base + "v" + v.version + "/" + path;
        var label = "v" + v.version;
        if (v.status === "draft") { label += " (draft)"; }
        if (data.latest && v.version === data.latest) { label += " · latest"; }
        opt.textContent = label;
        if (v.version === current) { opt.selected = true; }
        select.appendChild(opt);
      });
    }
    select.addEventListener("change", function () {
      if (select.value) { window.location.href = select.value; }
    });
  }

  /* ---------- Countdown ---------- */
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function initCountdowns() {
    var nodes = doc.querySelectorAll("[data-countdown]");
    if (!nodes.length) { return; }
    var items = [];
    Array.prototype.forEach.call(nodes, function (el) {
      var target = parseInt(el.getAttribute("data-countdown"), 10);
      if (isNaN(target)) { return; }
      var fallback = el.querySelector(".countdown-fallback");
      var fallbackText = fallback ? fallback.textContent : "";
      el.textContent = "";
      var units = {};
      [["d", "days"], ["h", "hours"], ["m", "min"], ["s", "sec"]].forEach(function (u) {
        var box = doc.createElement("span");
        box.className = "cd-unit";
        var num = doc.createElement("span");
        num.className = "cd-num";
        var lbl = doc.createElement("span");
        lbl.className = "cd-lbl";
        lbl.textContent = u[1];
        box.appendChild(num);
        box.appendChild(lbl);
        el.appendChild(box);
        units[u[0]] = num;
      });
      var sr = doc.createElement("span");
      sr.className = "visually-hidden";
      el.appendChild(sr);
      items.push({ el: el, target: target, units: units, sr: sr, fallback: fallbackText, done: false });
    });
    function tick() {
      var now = Date.now();
      items.forEach(function (it) {
        var diff = it.target - now;
        if (diff <= 0) {
          if (!it.done) {
            it.done = true;
            it.el.textContent = "";
            var live = doc.createElement("span");
            live.className = "cd-live";
            var since = Math.floor(-diff / 86400000);
            live.textContent = since > 0 ? "Live — T+" + since + " day" + (since === 1 ? "" : "s") : "Live now";
            it.el.appendChild(live);
          }
          return;
        }
        var s = Math.floor(diff / 1000);
        var d = Math.floor(s / 86400); s -= d * 86400;
        var h = Math.floor(s / 3600); s -= h * 3600;
        var m = Math.floor(s / 60); s -= m * 60;
        it.units.d.textContent = String(d);
        it.units.h.textContent = pad(h);
        it.units.m.textContent = pad(m);
        it.units.s.textContent = pad(s);
        it.sr.textContent = d + " days, " + h + " hours and " + m + " minutes to go (" + it.fallback + ")";
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  /* ---------- Sortable tables ---------- */
  function cellValue(row, index, type) {
    var cell = row.cells[index];
    if (!cell) { return type === "number" ? -Infinity : ""; }
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    raw = raw.trim();
    if (type === "number") {
      var n = parseFloat(raw);
      return isNaN(n) ? -Infinity : n;
    }
    return raw.toLowerCase();
  }
  function initSortable() {
    var tables = doc.querySelectorAll("table.sortable");
    Array.prototype.forEach.call(tables, function (table) {
      var tbody = table.tBodies[0];
      if (!tbody || !table.tHead) { return; }
      var original = Array.prototype.slice.call(tbody.rows);
      original.forEach(function (r, i) { r.setAttribute("data-order", String(i)); });
      var headers = table.tHead.rows[0].cells;
      Array.prototype.forEach.call(headers, function (th, index) {
        var type = th.getAttribute("data-sort-type") || "text";
        var btn = doc.createElement("button");
        btn.type = "button";
        btn.className = "sort-btn";
        while (th.firstChild) { btn.appendChild(th.firstChild); }
        th.appendChild(btn);
        btn.addEventListener("click", function () {
          var state = th.getAttribute("aria-sort");
          /* none → ascending → descending → original order */
          var next = state === "ascending" ? "descending" : state === "descending" ? "none" : "ascending";
          Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
          var rows = Array.prototype.slice.call(tbody.rows);
          if (next === "none") {
            rows.sort(function (a, b) { return a.getAttribute("data-order") - b.getAttribute("data-order"); });
          } else {
            th.setAttribute("aria-sort", next);
            var dir = next === "ascending" ? 1 : -1;
            rows.sort(function (a, b) {
              var va = cellValue(a, index, type), vb = cellValue(b, index, type);
              if (va < vb) { return -dir; }
              if (va > vb) { return dir; }
              return a.getAttribute("data-order") - b.getAttribute("data-order");
            });
          }
          var frag = doc.createDocumentFragment();
          rows.forEach(function (r) { frag.appendChild(r); });
          tbody.appendChild(frag);
        });
      });
    });
  }

  /* ---------- Copy buttons on code blocks ---------- */
  function initCopy() {
    if (!navigator.clipboard && !doc.queryCommandSupported) { return; }
    var blocks = doc.querySelectorAll("pre.code");
    Array.prototype.forEach.call(blocks, function (pre) {
      var host = doc.createElement("div");
      host.className = "code-host";
      pre.parentNode.insertBefore(host, pre);
      host.appendChild(pre);
      var btn = doc.createElement("button");
      btn.type = "button";
      btn.className = "copy-btn";
      btn.textContent = "Copy";
      btn.setAttribute("aria-label", "Copy code to clipboard");
      host.appendChild(btn);
      btn.addEventListener("click", function () {
        var text = pre.textContent;
        var done = function () { btn.textContent = "Copied"; window.setTimeout(function () { btn.textContent = "Copy"; }, 1500); };
        var fallback = function () {
          var ta = doc.createElement("textarea");
          ta.value = text;
          ta.setAttribute("readonly", "");
          ta.style.position = "fixed";
          ta.style.opacity = "0";
          doc.body.appendChild(ta);
          ta.select();
          try { doc.execCommand("copy"); done(); } catch (e) { /* ignore */ }
          doc.body.removeChild(ta);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  /* ---------- Email previews: fit the iframe to its content ---------- */
  function fitFrame(frame) {
    try {
      var d = frame.contentDocument;
      if (!d || !d.documentElement) { return; }
      var h = Math.max(d.documentElement.scrollHeight, d.body ? d.body.scrollHeight : 0);
      if (h > 0) { frame.style.height = (h + 8) + "px"; }
    } catch (e) { /* cross-origin or sandboxed: keep the default height */ }
  }
  function initFrames() {
    var frames = doc.querySelectorAll("iframe.email-frame");
    Array.prototype.forEach.call(frames, function (frame) {
      frame.addEventListener("load", function () { fitFrame(frame); });
      fitFrame(frame);
    });
    window.addEventListener("resize", function () {
      Array.prototype.forEach.call(frames, fitFrame);
    });
  }

  /* ---------- Print: light colours, open details ---------- */
  function initPrint() {
    var saved = null;
    var opened = [];
    window.addEventListener("beforeprint", function () {
      saved = root.getAttribute("data-theme");
      root.setAttribute("data-theme", "light");
      opened = [];
      Array.prototype.forEach.call(doc.querySelectorAll("details:not([open])"), function (d) {
        d.setAttribute("open", "");
        opened.push(d);
      });
    });
    window.addEventListener("afterprint", function () {
      if (saved) { root.setAttribute("data-theme", saved); } else { root.removeAttribute("data-theme"); }
      opened.forEach(function (d) { d.removeAttribute("open"); });
      opened = [];
    });
  }

  ready(function () {
    initTheme();
    initVersions();
    initCountdowns();
    initSortable();
    initCopy();
    initFrames();
    initPrint();
  });
})();
