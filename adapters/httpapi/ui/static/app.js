// Media Luna dashboard: the few behaviours html and htmx do not give.
// No inline script anywhere (the CSP forbids it); this file is all there is.
(function () {
  "use strict";

  // Every htmx request carries the page's CSRF token.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // Say whether live updates are connected.
  function liveState(text) {
    var el = document.getElementById("live-state");
    if (el) el.textContent = text;
  }
  document.addEventListener("htmx:sseOpen", function () { liveState("Live updates on"); });
  document.addEventListener("htmx:sseError", function () { liveState("Live updates reconnecting…"); });

  // Copy buttons: <button type="button" data-copy="#id">Copy …</button>.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var src = document.querySelector(btn.getAttribute("data-copy"));
    if (!src) return;
    var text = src.value !== undefined ? src.value : src.textContent;
    var done = function () {
      var old = btn.textContent;
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(src); });
    } else {
      selectText(src);
    }
  });
  function selectText(el) {
    if (el.select) { el.select(); return; }
    var r = document.createRange(); r.selectNodeContents(el);
    var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
  }

  // "Select all" checkboxes: <input type="checkbox" data-select-all="name">.
  document.addEventListener("change", function (e) {
    var all = e.target.closest("[data-select-all]");
    if (!all) return;
    var name = all.getAttribute("data-select-all");
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (c) { c.checked = all.checked; });
  });

  // The monitor form shows only the fields the chosen type takes:
  // <fieldset data-types="HTTP HEAD KEYWORD"> is hidden (and disabled, so
  // it is not submitted) for other types.
  function syncTypeFields(form) {
    var sel = form.querySelector("[data-type-select]");
    if (!sel) return;
    var type = sel.value;
    form.querySelectorAll("[data-types]").forEach(function (el) {
      var show = el.getAttribute("data-types").split(" ").indexOf(type) >= 0;
      el.hidden = !show;
      el.disabled = !show;
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-type-select]")) syncTypeFields(e.target.form);
  });
  function init(root) {
    root.querySelectorAll("form [data-type-select]").forEach(function (s) { syncTypeFields(s.form); });
    root.querySelectorAll("[data-chart]").forEach(drawChart);
    root.querySelectorAll("[data-replay]").forEach(initReplay);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });

  // Response-time charts: <div data-chart="/monitors/1/chart.json?range=24h">.
  // The JSON is {"x":[unix s...],"series":[{"label":"p50 local","values":[...]}]}.
  var palette = ["#2b4fb8", "#c62828", "#1a7f37", "#9a6700", "#6e56cf", "#00838f", "#ad1457", "#5d4037"];
  function drawChart(el) {
    if (el.dataset.drawn || typeof uPlot === "undefined") return;
    el.dataset.drawn = "1";
    fetch(el.getAttribute("data-chart"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        if (!d.x || d.x.length === 0) { el.textContent = "No checks in this range yet."; return; }
        var series = [{}], data = [d.x];
        d.series.forEach(function (s, i) {
          series.push({ label: s.label, stroke: palette[i % palette.length], width: s.label.indexOf("p95") === 0 ? 1 : 2,
            dash: s.label.indexOf("p95") === 0 ? [4, 3] : undefined, value: function (u, v) { return v == null ? "–" : v.toFixed(0) + " ms"; } });
          data.push(s.values);
        });
        el.textContent = "";
        var width = Math.max(280, el.clientWidth - 10);
        var u = new uPlot({ width: width, height: 240, series: series, axes: [{}, { label: "ms" }], scales: { x: { time: true } } }, data, el);
        window.addEventListener("resize", function () { u.setSize({ width: Math.max(280, el.clientWidth - 10), height: 240 }); });
      })
      .catch(function () { el.textContent = "The chart could not be loaded."; });
  }

  // Incident replay: a slider and step buttons over server-rendered steps;
  // each step's state is already in the page, this only shows one at a time.
  function initReplay(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    var steps = root.querySelectorAll("[data-step]");
    var range = root.querySelector("input[type=range]");
    var prev = root.querySelector("[data-replay-prev]");
    var next = root.querySelector("[data-replay-next]");
    var label = root.querySelector("[data-replay-label]");
    if (!range || steps.length === 0) return;
    function show(i) {
      i = Math.max(0, Math.min(steps.length - 1, i));
      range.value = i;
      steps.forEach(function (s, j) { s.hidden = j !== i; });
      if (label) label.textContent = "Step " + (i + 1) + " of " + steps.length;
      // Said by screen readers instead of the bare number: which event.
      range.setAttribute("aria-valuetext", "Step " + (i + 1) + " of " + steps.length + ": " + (steps[i].getAttribute("data-step-label") || ""));
      if (prev) prev.disabled = i === 0;
      if (next) next.disabled = i === steps.length - 1;
    }
    range.addEventListener("input", function () { show(parseInt(range.value, 10)); });
    if (prev) prev.addEventListener("click", function () { show(parseInt(range.value, 10) - 1); });
    if (next) next.addEventListener("click", function () { show(parseInt(range.value, 10) + 1); });
    show(parseInt(range.value, 10));
  }
})();

// Monitors list (ui-monitors): a live refresh of a fragment marked
// data-keep-checks keeps the checkboxes the user ticked, so a bulk
// selection survives monitors changing state underneath it.
(function () {
  "use strict";
  var kept = {};
  document.addEventListener("htmx:beforeSwap", function (e) {
    var t = e.detail.target;
    if (!t || !t.id || !t.hasAttribute("data-keep-checks")) return;
    kept[t.id] = Array.prototype.map.call(t.querySelectorAll("input[type=checkbox]:checked"), function (c) { return c.name + "=" + c.value; });
  });
  // On afterSwap, not afterSettle: the new rows must never show unticked.
  document.addEventListener("htmx:afterSwap", function () {
    Object.keys(kept).forEach(function (id) {
      var el = document.getElementById(id);
      var list = kept[id];
      delete kept[id];
      if (!el) return;
      el.querySelectorAll("input[type=checkbox]").forEach(function (c) {
        if (list.indexOf(c.name + "=" + c.value) >= 0) c.checked = true;
      });
    });
  });
})();

// Maintenance form (ui-maint): after Preview swaps the form, the keyboard
// and screen readers move to the occurrences it shows (a refusal's summary
// announces itself: role="alert").
document.addEventListener("htmx:afterSettle", function (e) {
  "use strict";
  var t = e.detail.elt;
  if (!t || t.id !== "maint-form") return;
  var preview = document.getElementById("maint-preview");
  if (preview && !document.getElementById("error-summary")) preview.focus();
});

// Account and billing (ui-pages): the page that hands the browser to the
// payment provider follows its link, <a data-follow href="…">. A form's
// redirect to another site would break the CSP's form-action 'self'; a
// navigation from script does not.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Only the hand-off page's one link, and only to an https address
    // (the server checked it is the provider's answer).
    var a = document.querySelector("a#follow-link[data-follow]");
    if (a && /^https:\/\//.test(a.href)) window.location.assign(a.href);
  });
})();

// Status page editor (sp-preview): the preview frame shows the public page
// as the form's current values make it. Half a second after the last
// change it is reloaded from /status-pages/preview/page with the form's
// fields (all but the CSRF token), replacing the frame's history entry so
// Back leaves the editor as usual.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-preview-frame]");
    if (!form) return;
    var frame = document.querySelector(form.getAttribute("data-preview-frame"));
    if (!frame) return;
    var timer = null;
    var last = frame.getAttribute("src");
    function reload() {
      timer = null;
      var q = new URLSearchParams(new FormData(form));
      q.delete("csrf");
      var url = "/status-pages/preview/page?" + q.toString();
      if (url === last) return;
      last = url;
      try {
        frame.contentWindow.location.replace(url);
      } catch (e) {
        frame.src = url;
      }
    }
    function changed() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(reload, 500);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
  });
})();
