"""The self-contained HTML page of the report (inline CSS and JS; no network access).

Placeholders ``%%NAME%%`` are filled by ``report_html``. The per-segment table is rendered by
plain JS from an embedded JSON array, one page at a time, so 36k rows stay responsive.
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%%TITLE%%</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;
background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:16px 24px}
header h1{margin:0 0 4px;font-size:20px}
header p{margin:2px 0;font-size:13px;color:#c9cfdb}
main{padding:16px 24px;max-width:1400px}
h2{font-size:17px;margin:28px 0 10px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border-radius:8px;padding:10px 14px;min-width:128px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .v{font-size:22px;font-weight:600}
.card .k{font-size:12px;color:#5b6475}
.card.head .v{color:#2b5fab}
.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{background:#fff;margin:0;padding:8px;border-radius:8px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
figure img{display:block;max-width:100%}
figcaption{font-size:12px;color:#5b6475;margin-top:4px}
table{border-collapse:collapse;background:#fff;font-size:12.5px}
th,td{padding:4px 8px;border-bottom:1px solid #e3e6ec;text-align:left;white-space:nowrap}
th{background:#eef0f4;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
#segments th{cursor:pointer;user-select:none}
#segments th.asc::after{content:" \\25B2"}
#segments th.desc::after{content:" \\25BC"}
.controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:8px 0}
.controls input{padding:5px 8px;min-width:260px}
.scroll{overflow:auto;max-height:75vh}
.s-matched{color:#2e7d32}.s-missed{color:#c62828}.s-unavailable{color:#8d6e63}
.s-extra{color:#ef6c00}
.muted{color:#5b6475;font-size:12px}
</style>
</head>
<body>
<header>
<h1>%%TITLE%%</h1>
%%HEADER%%
</header>
<main>
<h2>Summary</h2>
<div class="cards" id="cards">%%CARDS%%</div>
<h2>Plots</h2>
<div class="plots" id="plots">%%PLOTS%%</div>
<h2>Segments</h2>
<p class="muted">One row per official segment, then one per generated segment without a partner
(<em>extra</em>). Click a column to sort; the filter matches any text column.</p>
<div class="controls">
<input id="filter" type="search" placeholder="filter: identity, reference, utterance, note"
aria-label="filter rows">
<label>status <select id="status-filter">
<option value="">all</option><option>matched</option><option>missed</option>
<option>unavailable</option><option>extra</option></select></label>
<label>rows per page <select id="page-size">
<option>50</option><option selected>100</option><option>500</option>
<option value="0">all</option></select></label>
<button id="prev" type="button">&larr; prev</button>
<button id="next" type="button">next &rarr;</button>
<span id="row-count" class="muted"></span>
</div>
<div class="scroll"><table id="segments"><thead><tr id="segments-head"></tr></thead>
<tbody id="segments-body"></tbody></table></div>
<h2>Worst videos</h2>
%%WORST%%
<h2>Unavailable videos</h2>
%%UNAVAILABLE%%
<h2>Identities</h2>
%%IDENTITIES%%
%%CLIPS%%
%%PROBLEMS%%
</main>
<script type="application/json" id="segment-data">%%DATA%%</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("segment-data").textContent);
  var cols = data.columns, rows = data.rows, numeric = data.numeric;
  var state = {filter: "", status: "", sortCol: -1, sortDir: 1, page: 0, pageSize: 100};
  var textCols = [];
  cols.forEach(function (c, i) { if (!numeric[i]) { textCols.push(i); } });
  var statusCol = cols.indexOf("status");
  var view = rows.map(function (_, i) { return i; });
  var head = document.getElementById("segments-head");
  var body = document.getElementById("segments-body");
  var counter = document.getElementById("row-count");

  function esc(v) {
    return String(v).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }
  function fmt(v, i) {
    if (v === null || v === undefined) { return ""; }
    if (numeric[i] === "f") { return Number(v).toFixed(3); }
    return esc(v);
  }
  function compare(a, b) {
    var c = state.sortCol, x = rows[a][c], y = rows[b][c];
    if (x === y) { return a - b; }
    if (x === null || x === undefined) { return 1; }
    if (y === null || y === undefined) { return -1; }
    if (numeric[c]) { return (x - y) * state.sortDir || a - b; }
    return (String(x) < String(y) ? -1 : 1) * state.sortDir;
  }
  function rebuild() {
    var needle = state.filter.toLowerCase();
    view = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (state.status && r[statusCol] !== state.status) { continue; }
      if (needle) {
        var hit = false;
        for (var k = 0; k < textCols.length && !hit; k++) {
          var v = r[textCols[k]];
          hit = v !== null && String(v).toLowerCase().indexOf(needle) >= 0;
        }
        if (!hit) { continue; }
      }
      view.push(i);
    }
    if (state.sortCol >= 0) { view.sort(compare); }
    state.page = 0;
    render();
  }
  function render() {
    var size = state.pageSize > 0 ? state.pageSize : view.length || 1;
    var pages = Math.max(1, Math.ceil(view.length / size));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * size, stop = Math.min(view.length, start + size);
    var html = [];
    for (var p = start; p < stop; p++) {
      var r = rows[view[p]], cells = [];
      for (var c = 0; c < cols.length; c++) {
        var cls = numeric[c] ? ' class="n"' : "";
        if (c === statusCol) { cls = ' class="s-' + esc(r[c]) + '"'; }
        cells.push("<td" + cls + ">" + fmt(r[c], c) + "</td>");
      }
      html.push('<tr data-row="' + view[p] + '">' + cells.join("") + "</tr>");
    }
    body.innerHTML = html.join("");
    counter.textContent = "showing " + (view.length ? start + 1 : 0) + "\\u2013" + stop +
      " of " + view.length + " rows (" + rows.length + " in total), page " + (state.page + 1) +
      " of " + pages;
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = state.page >= pages - 1;
  }
  cols.forEach(function (name, i) {
    var th = document.createElement("th");
    th.textContent = name;
    th.dataset.col = String(i);
    th.addEventListener("click", function () {
      state.sortDir = state.sortCol === i ? -state.sortDir : 1;
      state.sortCol = i;
      Array.prototype.forEach.call(head.children, function (h) { h.className = ""; });
      th.className = state.sortDir > 0 ? "asc" : "desc";
      rebuild();
    });
    head.appendChild(th);
  });
  document.getElementById("filter").addEventListener("input", function (e) {
    state.filter = e.target.value; rebuild();
  });
  document.getElementById("status-filter").addEventListener("change", function (e) {
    state.status = e.target.value; rebuild();
  });
  document.getElementById("page-size").addEventListener("change", function (e) {
    state.pageSize = parseInt(e.target.value, 10); state.page = 0; render();
  });
  document.getElementById("prev").addEventListener("click", function () {
    state.page = Math.max(0, state.page - 1); render();
  });
  document.getElementById("next").addEventListener("click", function () {
    state.page += 1; render();
  });
  rebuild();
}());
</script>
</body>
</html>
"""
