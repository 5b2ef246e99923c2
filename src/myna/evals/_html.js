// The HTML report's case table and details (inlined by _html.py). User strings are only
// ever set with textContent, never parsed as HTML.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("myna-data").textContent);
  var EVALS = DATA.evaluators, ROWS = DATA.cases, PAGE = DATA.page;
  var table = document.getElementById("cases");
  var tbody = table.tBodies[0], filter = document.getElementById("filter");
  var moreButton = document.getElementById("more"), shown = document.getElementById("shown");
  var toggles = document.querySelectorAll(".toggle");
  var state = {key: "k", dir: 1, text: "", hidden: {}, limit: PAGE, open: {}};

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent, tag, cls, text) { var n = el(tag, cls, text); parent.appendChild(n); return n; }
  function pct(x) { return Math.round(x * 100) + "%"; }
  function secs(s) {
    if (s < 1) return Math.round(s * 1000) + " ms";
    return s < 120 ? s.toFixed(2) + " s" : (s / 60).toFixed(1) + " min";
  }
  function money(x) {
    if (x === null || x === undefined) return "unknown";
    if (x === 0) return "$0";
    return x < 1 ? "$" + x.toFixed(4) : "$" + x.toFixed(2);
  }
  function tokens(n) { return (n || 0).toLocaleString("en-US"); }
  function show(v) { return typeof v === "string" ? v : JSON.stringify(v, null, 2); }
  function pill(status) {
    var p = el("span", "pill " + status);
    p.appendChild(el("i"));
    p.appendChild(document.createTextNode(status));
    return p;
  }

  // -- the header row and sorting ----------------------------------------------------------------
  var COLUMNS = [
    {label: "Status", key: "k", title: "Worst first: error, fail, flaky, pass"},
    {label: "Case", key: "n"},
    {label: "Runs", key: "rate", num: true, title: "Runs passed / runs"},
    {label: "95% interval", key: "lo", num: true, title: "Wilson interval of the pass rate"}
  ];
  EVALS.forEach(function (name, i) {
    COLUMNS.push({label: name, key: "sc" + i, num: true, title: "Mean score of " + name, score: i});
  });
  COLUMNS.push({label: "Latency", key: "l", num: true, title: "Mean per run"});
  COLUMNS.push({label: "Tokens", key: "t", num: true, title: "Target tokens, all runs"});
  COLUMNS.push({label: "Cost", key: "c", num: true, title: "Target cost (judge cost in the tooltip)"});

  var headRow = add(table.tHead, "tr");
  COLUMNS.forEach(function (col) {
    var th = add(headRow, "th", col.num ? "num" : "");
    add(th, "span", col.score === undefined ? "" : "ev", col.label);
    if (col.title) th.title = col.title;
    th.setAttribute("data-key", col.key);
    th.addEventListener("click", function () {
      if (state.key === col.key) state.dir = -state.dir;
      else { state.key = col.key; state.dir = col.key === "n" || col.key === "k" ? 1 : -1; }
      changed();
    });
  });

  function value(row, key) {
    if (key === "rate") return row.r ? row.p / row.r : 0;
    if (key.slice(0, 2) === "sc") return row.sc[+key.slice(2)];
    return row[key];
  }
  function compare(a, b) {
    var x = value(a, state.key), y = value(b, state.key);
    var xNull = x === null || x === undefined, yNull = y === null || y === undefined;
    if (xNull || yNull) return xNull === yNull ? a.k - b.k : xNull ? 1 : -1; // unknowns last
    if (x < y) return -state.dir;
    if (x > y) return state.dir;
    return a.k - b.k;
  }

  // -- rows ----------------------------------------------------------------------------------------
  function scoreCell(tr, score) {
    var td = add(tr, "td", "num");
    if (score === null || score === undefined) { td.appendChild(el("span", "dim", "—")); return; }
    add(td, "span", "sc " + (score >= 0.8 ? "good" : score >= 0.5 ? "ok" : "bad"), score.toFixed(2));
  }
  function rowNode(row) {
    var tr = el("tr", "row " + row.s + (state.open[row.n] ? " open" : ""));
    tr.tabIndex = 0;
    tr.setAttribute("data-case", row.n);
    tr.setAttribute("data-status", row.s);
    tr.setAttribute("aria-expanded", state.open[row.n] ? "true" : "false");
    add(tr, "td").appendChild(pill(row.s));
    var name = add(tr, "td", "name");
    var line = add(name, "div", "n");
    add(line, "span", "caret");
    line.appendChild(document.createTextNode(row.n));
    if (row.w) {
      var why = add(name, "div", "why", row.w + (row.wm ? "  (+" + row.wm + " more)" : ""));
      why.title = row.w;
    }
    var runs = add(tr, "td", "num runs " + row.s, row.p + "/" + row.r);
    runs.title = row.q + " of " + row.r + " needed to pass";
    add(add(runs, "span", "mini"), "i").style.width = pct(row.r ? row.p / row.r : 0);
    add(tr, "td", "num dim", row.r > 1 ? pct(row.lo) + "–" + pct(row.hi) : "—");
    row.sc.forEach(function (score) { scoreCell(tr, score); });
    add(tr, "td", "num", secs(row.l));
    var tok = add(tr, "td", "num", tokens(row.t));
    if (row.jt) tok.title = "judge: " + tokens(row.jt) + " tokens";
    var cost = add(tr, "td", "num", money(row.c));
    cost.title = "target " + money(row.c) + " · judge " + money(row.jc);
    tr.addEventListener("click", function () { toggle(row); });
    tr.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggle(row); }
    });
    return tr;
  }
  function toggle(row) {
    if (state.open[row.n]) delete state.open[row.n]; else state.open[row.n] = true;
    render();
  }

  function searchText(row) {  // the name, every reason and error; built once, when first searched
    if (row._search === undefined) {
      var parts = [row.n, row.w || ""];
      (row.d ? row.d.runs : []).forEach(function (run) {
        if (run.e) parts.push(run.e);
        run.res.forEach(function (res) { parts.push(res.reason || "", res.error || ""); });
      });
      row._search = parts.join("\n").toLowerCase();
    }
    return row._search;
  }
  function visible() {
    var text = state.text.toLowerCase();
    var list = ROWS.filter(function (row) {
      if (state.hidden[row.s]) return false;
      if (!text) return true;
      return searchText(row).indexOf(text) >= 0;
    });
    return state.key === "k" && state.dir === 1 ? list : list.sort(compare);
  }

  function render() {
    var list = visible();
    var frag = document.createDocumentFragment();
    var count = Math.min(list.length, state.limit);
    for (var i = 0; i < count; i++) {
      var row = list[i];
      frag.appendChild(rowNode(row));
      if (state.open[row.n]) {
        var tr = el("tr", "detail");
        var td = add(tr, "td");
        td.colSpan = COLUMNS.length;
        td.appendChild(details(row));
        frag.appendChild(tr);
      }
    }
    tbody.textContent = "";
    tbody.appendChild(frag);
    if (!list.length) {
      var empty = add(add(tbody, "tr"), "td", "empty", ROWS.length ? "No case matches the filter." : "No cases.");
      empty.colSpan = COLUMNS.length;
    }
    shown.textContent = "Showing " + count.toLocaleString("en-US") + " of " +
      list.length.toLocaleString("en-US") + (list.length === ROWS.length ? " cases" : " matching cases");
    moreButton.hidden = count >= list.length;
    moreButton.textContent = "Show " + Math.min(PAGE, list.length - count).toLocaleString("en-US") + " more";
    Array.prototype.forEach.call(toggles, function (button) {
      var hidden = state.hidden[button.getAttribute("data-status")];
      button.setAttribute("aria-pressed", hidden ? "false" : "true");
    });
    Array.prototype.forEach.call(headRow.children, function (th) {
      var key = th.getAttribute("data-key");
      if (key === state.key) th.setAttribute("aria-sort", state.dir === 1 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
  }

  // -- details -------------------------------------------------------------------------------------
  function box(parent, title, content) {
    var b = add(parent, "div", "box");
    add(b, "h4", null, title);
    add(b, "pre", null, content === undefined ? "—" : show(content));
    return b;
  }
  function details(row) {
    var root = el("div", "details");
    var d = row.d;
    if (!d) {
      add(root, "p", "note", "This case's runs are not embedded, to keep the file small; " +
        "the JSON report (report.to_json) has them.");
      return root;
    }
    var grid = add(root, "div", "d-grid");
    box(grid, "Inputs", d.inputs);
    if (d.expected !== undefined) box(grid, "Expected", d.expected);
    if (d.metadata) box(grid, "Metadata", d.metadata);
    d.runs.forEach(function (run) { root.appendChild(runNode(run, d.runs.length)); });
    return root;
  }
  function runNode(run, count) {
    var node = el("details", "run " + run.s);
    if (run.s !== "pass" || count === 1) node.open = true;
    var summary = add(node, "summary");
    add(summary, "b", null, "Repeat " + run.i);
    summary.appendChild(pill(run.s));
    add(summary, "span", "dim", secs(run.l));
    if (run.u) add(summary, "span", "dim", tokens(run.u.total_tokens) + " tokens · " + money(run.c));
    if (run.ju) add(summary, "span", "dim", "judge " + tokens(run.ju.total_tokens) + " tokens · " + money(run.jc));
    add(summary, "span", "dim", "seed " + run.seed);
    var body = add(node, "div", "run-body");
    if (run.e) add(body, "div", "err", "Target raised: " + run.e);
    else box(body, "Output", run.o);
    if (run.res.length) {
      add(body, "div", "section-title", "Evaluators");
      var t = add(body, "table", "res");
      var h = add(add(t, "thead"), "tr");
      ["Evaluator", "Result", "Score", "Reason"].forEach(function (label, i) {
        add(h, "th", i === 2 ? "num" : "", label);
      });
      var tb = add(t, "tbody");
      run.res.forEach(function (res) {
        var tr = add(tb, "tr");
        add(tr, "td", null, res.name);
        add(tr, "td").appendChild(pill(res.status));
        scoreCell(tr, res.score);
        var why = add(tr, "td", "why-cell" + (res.error ? " e" : ""));
        if (res.label) add(why, "span", "label-tag", res.label);
        why.appendChild(document.createTextNode(res.error || res.reason || ""));
      });
    }
    if (run.calls && run.calls.length) {
      add(body, "div", "section-title", "Model calls (" + run.calls.length + ")");
      run.calls.forEach(function (call, i) { body.appendChild(callNode(call, i)); });
    }
    return node;
  }
  function callNode(call, i) {
    var node = el("div", "call");
    var head = add(node, "div", "call-head");
    add(head, "span", "dim", "#" + (i + 1));
    add(head, "b", null, call.model || "model");
    if (call.messages) add(head, "span", "dim", call.messages + (call.messages === 1 ? " message" : " messages"));
    if (call.usage) {
      add(head, "span", "dim", tokens(call.usage.input_tokens) + " in · " +
        tokens(call.usage.output_tokens) + " out");
    }
    var grid = add(node, "div", "call-grid");
    var left = add(grid, "div"), right = add(grid, "div");
    add(left, "h5", null, "Last message sent");
    add(left, "pre", null, call.input === undefined ? "—" : call.input);
    add(right, "h5", null, "Reply");
    add(right, "pre", null, call.output === undefined ? "—" : call.output);
    if (call.tool_calls && call.tool_calls.length) {
      var tools = add(node, "div", "tools");
      call.tool_calls.forEach(function (tc) {
        add(tools, "div", null, "→ " + tc.name + "(" + JSON.stringify(tc.args) + ")");
      });
    }
    if (call.error) add(node, "div", "err", call.error);
    return node;
  }

  // -- controls, and the view in the URL -----------------------------------------------------------
  // The fragment holds the view, so a link reproduces it: #q=TEXT&status=fail,flaky&sort=-judge
  // (a column's name; "-" sorts descending), and #case=NAME opens one case, #open=all every one.
  function changed() { state.limit = PAGE; render(); writeHash(); }
  function columnName(col) { return col.label.toLowerCase(); }

  filter.addEventListener("input", function () { state.text = filter.value; changed(); });
  Array.prototype.forEach.call(toggles, function (button) {
    button.addEventListener("click", function () {
      var status = button.getAttribute("data-status");
      state.hidden[status] = !state.hidden[status];
      changed();
    });
  });
  moreButton.addEventListener("click", function () { state.limit += PAGE; render(); });

  function writeHash() {
    var parts = [];
    if (state.text) parts.push("q=" + encodeURIComponent(state.text));
    var statuses = ["error", "fail", "flaky", "pass"].filter(function (s) { return !state.hidden[s]; });
    if (statuses.length < 4) parts.push("status=" + statuses.join(","));
    if (state.key !== "k" || state.dir !== 1) {
      COLUMNS.forEach(function (col) {
        if (col.key === state.key) {
          parts.push("sort=" + (state.dir === 1 ? "" : "-") + encodeURIComponent(columnName(col)));
        }
      });
    }
    try {
      history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
    } catch (err) { /* some browsers refuse it for file:// pages; the view still works */ }
  }

  function fromHash() {
    var params = {}, name = null;
    location.hash.slice(1).split("&").forEach(function (part) {
      var at = part.indexOf("=");
      if (at < 0) return;
      var value = part.slice(at + 1);
      try { value = decodeURIComponent(value); } catch (err) { /* a bad escape: keep it raw */ }
      params[part.slice(0, at)] = value;
    });
    state.text = filter.value = params.q || "";
    state.hidden = {};
    if (params.status !== undefined) {
      var shownStatuses = params.status.split(",");
      ["error", "fail", "flaky", "pass"].forEach(function (s) {
        if (shownStatuses.indexOf(s) < 0) state.hidden[s] = true;
      });
    }
    state.key = "k";
    state.dir = 1;
    if (params.sort) {
      var wanted = params.sort.replace(/^-/, "").toLowerCase();
      COLUMNS.forEach(function (col) {
        if (columnName(col) === wanted && state.key === "k") {
          state.key = col.key;
          state.dir = params.sort.charAt(0) === "-" ? -1 : 1;
        }
      });
    }
    if (params.open === "all") {
      ROWS.forEach(function (row) { state.open[row.n] = true; });
      state.limit = Math.max(state.limit, ROWS.length);
    }
    if (params["case"] !== undefined) {
      name = params["case"];
      ROWS.forEach(function (row, i) {
        if (row.n === name) { state.open[name] = true; state.limit = Math.max(state.limit, i + 1); }
      });
    }
    render();
    for (var i = 0; name !== null && i < tbody.rows.length; i++) {
      if (tbody.rows[i].getAttribute("data-case") === name) {
        var top = tbody.rows[i].getBoundingClientRect().top;
        if (top < 0 || top > window.innerHeight - 80) tbody.rows[i].scrollIntoView({block: "start"});
        break;
      }
    }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
