/* tminus default theme: theme toggle, version switcher, countdown, sortable tables,
 * copy buttons, email preview sizing, print preparation, search. No dependencies; works from
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
        /* Stay on this page where that version has it (TMINUS_PAGES, from versions.js);
           otherwise go to that version's dashboard rather than to a missing page. */
        var pages = window.TMINUS_PAGES && window.TMINUS_PAGES[v.version];
        var target = !pages || pages.indexOf(path) >= 0 ? path : "index.html";
        opt.value = base + "v" + v.version + "/" + target;
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

  /* ---------- Build time ----------
     Pages do not carry their build time, so two builds of the same sources write the
     same bytes (tminus then keeps the files as they are). The footer's
     <span data-built="<version>"> gets a <time> from versions.js, which lists each version's
     built_at; without it the footer just says which tminus built the page. */
  function initBuiltAt() {
    var data = window.TMINUS_VERSIONS;
    if (!data || !data.versions) { return; }
    Array.prototype.forEach.call(doc.querySelectorAll("[data-built]"), function (el) {
      var version = el.getAttribute("data-built");
      var found = null;
      data.versions.forEach(function (v) { if (v.version === version) { found = v; } });
      if (!found || !/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(found.built_at || "")) { return; }
      var time = doc.createElement("time");
      time.setAttribute("datetime", found.built_at);
      time.textContent = found.built_at.slice(0, 10) + " " + found.built_at.slice(11, 16) + " UTC";
      el.textContent = "";
      el.appendChild(time);
      if (el.parentNode && el.parentNode.hasAttribute("hidden")) { el.parentNode.removeAttribute("hidden"); }
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


  /* ---------- Search ----------
   * The index (searchindex.js, window.searchIndex) and the elasticlunr runtime are loaded
   * with <script src> on first use — on focus, on "/" — so pages stay light and search
   * works from file:// too (no fetch). The header box is an ARIA combobox with a listbox
   * of results; search/index.html shows every result for ?q=. */
  var search = { index: null, docs: null, loading: false, waiting: [] };
  function loadScript(src, done, fail) {
    var el = doc.createElement("script");
    el.src = src;
    el.async = true;
    el.onload = done;
    el.onerror = fail;
    doc.head.appendChild(el);
  }
  /* searchindex.js holds an elasticlunr index written compactly by tminus (token →
   * [ref, count, …] per field, token counts per document): rebuild the elasticlunr.Index
   * with the library's own structures, as if it had indexed the documents itself. */
  function buildIndex(lunr, data) {
    var idx = new lunr.Index();
    idx.pipeline = lunr.Pipeline.load(data.pipeline);
    idx.setRef("id");
    idx.saveDocument(false);
    data.fields.forEach(function (f) { idx.addField(f); });
    data.fields.forEach(function (f) {
      var inverted = idx.index[f];
      var tokens = data.index[f];
      Object.keys(tokens).forEach(function (token) {
        var p = tokens[token];
        for (var i = 0; i < p.length; i += 2) {
          inverted.addToken(token, { ref: String(p[i]), tf: Math.sqrt(p[i + 1]) });
        }
      });
    });
    var store = idx.documentStore;
    data.lengths.forEach(function (lens, ref) {
      var info = {};
      data.fields.forEach(function (f, i) { info[f] = lens[i]; });
      store.docs[ref] = null;
      store.docInfo[ref] = info;
      store.length += 1;
    });
    return idx;
  }
  function withIndex(form, fn) {
    if (search.index) { fn(); return; }
    search.waiting.push(fn);
    if (search.loading) { return; }
    search.loading = true;
    var failed = function () {
      search.loading = false;
      search.waiting = [];
      search.failed = true;
    };
    var ready = function () {
      try {
        search.index = buildIndex(window.elasticlunr, window.searchIndex);
        search.docs = window.searchIndex.docs;
      } catch (e) { failed(); return; }
      var queue = search.waiting;
      search.waiting = [];
      queue.forEach(function (f) { f(); });
    };
    var afterRuntime = function () {
      if (window.searchIndex) { ready(); } else { loadScript(form.getAttribute("data-index"), ready, failed); }
    };
    if (window.elasticlunr) { afterRuntime(); } else { loadScript(form.getAttribute("data-runtime"), afterRuntime, failed); }
  }
  var SEARCH_FIELDS = { title: { boost: 3 }, breadcrumbs: { boost: 1 }, body: { boost: 1 } };
  function runSearch(query, limit) {
    query = query.trim();
    if (!query || !search.index) { return []; }
    var opts = { fields: SEARCH_FIELDS, bool: "AND", expand: true };
    var hits = search.index.search(query, opts);
    if (!hits.length) {
      opts.bool = "OR";
      hits = search.index.search(query, opts);
    }
    return hits.slice(0, limit).map(function (h) {
      var d = search.docs[parseInt(h.ref, 10)];
      return { title: d[0], kind: d[1], crumbs: d[2], url: d[3], teaser: d[4] };
    });
  }
  function queryTerms(query) {
    return query.toLowerCase().split(/[^\w\u00c0-\u024f]+/).filter(function (t) { return t.length > 1; });
  }
  /* Text with the query's words wrapped in <mark>, built from text nodes (never innerHTML). */
  function highlighted(text, terms) {
    var frag = doc.createDocumentFragment();
    if (!terms.length) { frag.appendChild(doc.createTextNode(text)); return frag; }
    var escaped = terms.map(function (t) { return t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
    var re = new RegExp("(" + escaped.join("|") + ")", "gi");
    var last = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) { frag.appendChild(doc.createTextNode(text.slice(last, m.index))); }
      var mark = doc.createElement("mark");
      mark.textContent = m[0];
      frag.appendChild(mark);
      last = m.index + m[0].length;
    }
    if (last < text.length) { frag.appendChild(doc.createTextNode(text.slice(last))); }
    return frag;
  }
  function resultBody(r, terms, root) {
    var frag = doc.createDocumentFragment();
    var head = doc.createElement("span");
    head.className = "sr-head";
    var title = doc.createElement("span");
    title.className = "sr-title";
    title.appendChild(highlighted(r.title, terms));
    var kind = doc.createElement("span");
    kind.className = "sr-kind";
    kind.textContent = r.kind;
    head.appendChild(title);
    head.appendChild(doc.createTextNode(" "));
    head.appendChild(kind);
    var crumbs = doc.createElement("span");
    crumbs.className = "sr-crumbs";
    crumbs.textContent = r.crumbs;
    var teaser = doc.createElement("span");
    teaser.className = "sr-teaser";
    teaser.appendChild(highlighted(r.teaser, terms));
    frag.appendChild(head);
    frag.appendChild(crumbs);
    frag.appendChild(teaser);
    return frag;
  }
  function initSearch() {
    var form = doc.querySelector("form.site-search");
    var input = doc.getElementById("search-input");
    if (!form || !input) { return; }
    var root = form.getAttribute("data-root") || "";
    var popup = doc.getElementById("search-popup");
    var list = doc.getElementById("search-listbox");
    var empty = popup.querySelector(".search-empty");
    var all = popup.querySelector(".search-all");
    var status = doc.getElementById("search-status");
    var results = [];
    var active = -1;
    var timer = null;

    function setActive(i) {
      var items = list.children;
      if (active >= 0 && items[active]) { items[active].setAttribute("aria-selected", "false"); }
      active = i;
      if (active >= 0 && items[active]) {
        items[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", items[active].id);
        if (items[active].scrollIntoView) { items[active].scrollIntoView({ block: "nearest" }); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function close() {
      popup.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }
    function open() {
      popup.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function go(i) {
      var r = results[i];
      if (r) { window.location.href = root + r.url; }
    }
    function render() {
      var q = input.value.trim();
      all.href = root + "search/index.html?q=" + encodeURIComponent(q);
      if (!q) { list.textContent = ""; results = []; close(); status.textContent = ""; return; }
      if (search.failed) {
        list.textContent = "";
        empty.hidden = false;
        empty.textContent = "Search is not available: the search index could not be loaded.";
        open();
        return;
      }
      withIndex(form, function () {
        if (input.value.trim() !== q) { return; }
        results = runSearch(q, 8);
        var terms = queryTerms(q);
        list.textContent = "";
        results.forEach(function (r, i) {
          var li = doc.createElement("li");
          li.id = "search-option-" + i;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", "false");
          li.className = "search-option";
          li.appendChild(resultBody(r, terms, root));
          li.addEventListener("mousedown", function (e) { e.preventDefault(); });
          li.addEventListener("click", function () { go(i); });
          list.appendChild(li);
        });
        active = -1;
        input.removeAttribute("aria-activedescendant");
        list.hidden = !results.length;
        empty.hidden = results.length > 0;
        empty.textContent = results.length ? "" : "No results for “" + q + "”.";
        status.textContent = results.length ? results.length + (results.length === 8 ? " or more" : "") + " results. Use the arrow keys to choose one." : "No results.";
        open();
      });
    }
    input.addEventListener("focus", function () { withIndex(form, function () {}); if (input.value.trim()) { render(); } });
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(render, 60);
    });
    input.addEventListener("keydown", function (e) {
      var n = results.length;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (popup.hidden && input.value.trim()) { render(); return; }
        if (n) { setActive(active + 1 >= n ? 0 : active + 1); }
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        if (n) { setActive(active <= 0 ? n - 1 : active - 1); }
      } else if (e.key === "Enter") {
        if (active >= 0) { e.preventDefault(); go(active); }
        /* otherwise the form submits: the full results page */
      } else if (e.key === "Escape") {
        if (!popup.hidden) { e.preventDefault(); close(); } else if (input.value) { e.preventDefault(); input.value = ""; }
      } else if (e.key === "Home" && active >= 0) {
        e.preventDefault(); setActive(0);
      } else if (e.key === "End" && active >= 0) {
        e.preventDefault(); setActive(n - 1);
      }
    });
    form.addEventListener("submit", function (e) {
      if (!input.value.trim()) { e.preventDefault(); }
    });
    doc.addEventListener("click", function (e) {
      if (!form.contains(e.target)) { close(); }
    });
    form.addEventListener("focusout", function (e) {
      if (e.relatedTarget && !form.contains(e.relatedTarget)) { close(); }
    });
    /* "/" focuses the search box from anywhere but a text field. */
    doc.addEventListener("keydown", function (e) {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) { return; }
      var t = e.target;
      var tag = t && t.tagName ? t.tagName.toLowerCase() : "";
      if (tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable)) { return; }
      e.preventDefault();
      input.focus();
      input.select();
    });
  }
  /* search/index.html: every result for ?q=, as a list of links. */
  function initSearchPage() {
    var out = doc.getElementById("search-page-results");
    var form = doc.querySelector("form.site-search");
    var field = doc.getElementById("search-page-input");
    var status = doc.getElementById("search-page-status");
    if (!out || !form || !field) { return; }
    var root = form.getAttribute("data-root") || "";
    var q = "";
    var m = /[?&]q=([^&#]*)/.exec(window.location.search);
    if (m) { try { q = decodeURIComponent(m[1].replace(/\+/g, " ")); } catch (e) { q = ""; } }
    field.value = q;
    if (!q.trim()) { status.textContent = "Type a word or two to search."; field.focus(); return; }
    status.textContent = "Searching…";
    withIndex(form, function () {
      var found = runSearch(q, 50);
      var terms = queryTerms(q);
      out.textContent = "";
      found.forEach(function (r) {
        var li = doc.createElement("li");
        li.className = "search-result";
        var a = doc.createElement("a");
        a.href = root + r.url;
        a.appendChild(resultBody(r, terms, root));
        li.appendChild(a);
        out.appendChild(li);
      });
      status.textContent = found.length ? found.length + " result" + (found.length === 1 ? "" : "s") + " for “" + q + "”" : "No results for “" + q + "”. Try fewer or different words.";
    });
    window.setTimeout(function () { if (search.failed) { status.textContent = "Search is not available: the search index could not be loaded."; } }, 3000);
  }

  /* ---------- Print buttons ---------- */
  function initPrintButtons() {
    Array.prototype.forEach.call(doc.querySelectorAll("[data-print]"), function (btn) {
      btn.addEventListener("click", function () { window.print(); });
    });
  }

  ready(function () {
    initTheme();
    initVersions();
    initBuiltAt();
    initCountdowns();
    initSortable();
    initCopy();
    initFrames();
    initPrint();
    initSearch();
    initSearchPage();
    initPrintButtons();
  });
})();
