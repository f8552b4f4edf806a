// imagedash: the little JavaScript htmx cannot do. Plain event listeners
// only: the CSP forbids inline scripts, and htmx runs with allowEval:false
// (no hx-on, no trigger filters). Everything here is an extra: without it
// the pages still work as links and forms.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js"); // shows the copy buttons (app.css)

  function searchBox() {
    return document.getElementById("q");
  }

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // "/" focuses the search box, as on GitHub and MDN.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) return;
    var q = searchBox();
    if (!q) return;
    e.preventDefault();
    q.focus();
    q.select();
  });

  // Copy buttons: <button class="copy" data-copy="text">.
  function copied(btn, ok) {
    btn.classList.add(ok ? "copied" : "copy-failed");
    btn.setAttribute("title", ok ? "Copied" : "Select and copy by hand");
    window.setTimeout(function () {
      btn.classList.remove("copied", "copy-failed");
      btn.setAttribute("title", "Copy id");
    }, 1500);
  }

  function selectText(btn) {
    var code = btn.parentElement && btn.parentElement.querySelector("code");
    if (!code) return;
    var range = document.createRange();
    range.selectNodeContents(code);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("button.copy[data-copy]");
    if (!btn) return;
    e.preventDefault();
    var text = btn.getAttribute("data-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(btn, true); },
        function () { selectText(btn); copied(btn, false); }
      );
    } else {
      // Plain http on a non-loopback host has no clipboard API: select
      // the id so Ctrl+C copies it.
      selectText(btn);
      copied(btn, false);
    }
  });

  // The search box and the folder checkboxes live outside the regions htmx
  // swaps, so after Back (a history restore) or a swap that changed the URL
  // (a removed filter chip) they are set from the URL, which holds the
  // state. The search box is left alone while someone types in it.
  function syncFromURL() {
    var params = new URLSearchParams(window.location.search);
    var q = searchBox();
    if (q && document.activeElement !== q) {
      q.value = params.get("q") || "";
    }
    var folders = params.getAll("folder");
    var boxes = document.querySelectorAll('#folder-picker input[type="checkbox"][name="folder"]');
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].checked = folders.indexOf(boxes[i].value) >= 0;
    }
  }

  document.addEventListener("htmx:historyRestore", syncFromURL);
  document.addEventListener("htmx:pushedIntoHistory", syncFromURL);
  document.addEventListener("htmx:replacedInHistory", syncFromURL);
  window.addEventListener("pageshow", syncFromURL);

  // Close an open dropdown (folder picker, freshness) on Escape or a click
  // elsewhere, as a native <select> does.
  function closeDropdowns(except) {
    var open = document.querySelectorAll("details.dropdown[open]");
    for (var i = 0; i < open.length; i++) {
      if (open[i] !== except) open[i].removeAttribute("open");
    }
  }
  document.addEventListener("click", function (e) {
    closeDropdowns(e.target.closest && e.target.closest("details.dropdown"));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var d = document.activeElement && document.activeElement.closest && document.activeElement.closest("details.dropdown[open]");
    closeDropdowns(null);
    if (d) d.querySelector("summary").focus();
  });

  // The label editor (views.LabelEditor): Add label clones the row
  // template, × removes its row. Without JavaScript the spare rows add and
  // clearing a key removes.
  document.addEventListener("click", function (e) {
    var add = e.target.closest && e.target.closest("[data-add-label]");
    if (add) {
      e.preventDefault();
      var ed = add.closest(".label-editor");
      var tpl = ed.querySelector("template[data-label-template]");
      var row = tpl.content.firstElementChild.cloneNode(true);
      ed.querySelector("[data-label-rows]").appendChild(row);
      row.querySelector("input").focus();
      return;
    }
    var rm = e.target.closest && e.target.closest("[data-remove-label]");
    if (rm) {
      e.preventDefault();
      var r = rm.closest(".label-row");
      var next = r.nextElementSibling || r.previousElementSibling;
      r.remove();
      if (next) next.querySelector("input").focus();
    }
  });

  // Live elements (operation badges, the operations monitor, the header's
  // counts) poll with hx-trigger="every …"; a hidden tab does not need them,
  // so their requests are dropped while the page is hidden and one is sent
  // as soon as it shows again.
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (document.hidden && e.detail.elt && e.detail.elt.hasAttribute("data-live")) e.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    var live = document.querySelectorAll("[data-live]");
    for (var i = 0; i < live.length; i++) htmx.trigger(live[i], "imagedash:visible");
  });

  // Bulk selection (views.BulkBar): the ticked rows of a service are kept in
  // sessionStorage, so a selection survives paging and filtering; the bulk
  // form sends all of them. Without JavaScript the form sends the boxes of
  // the page (they belong to it by their form attribute).
  function selKey(svc) { return "imagedash:selected:" + svc; }
  function loadSel(svc) {
    try { return JSON.parse(sessionStorage.getItem(selKey(svc)) || "[]"); } catch (e) { return []; }
  }
  function saveSel(svc, ids) {
    try { sessionStorage.setItem(selKey(svc), JSON.stringify(ids)); } catch (e) { /* private mode: page only */ }
  }
  function bulkForm() { return document.getElementById("bulk"); }
  function showSelection() {
    var form = bulkForm();
    if (!form) return;
    var svc = form.getAttribute("data-service");
    var sel = loadSel(svc);
    var boxes = document.querySelectorAll('input[type="checkbox"][name="id"][form="bulk"]');
    var all = boxes.length > 0;
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].checked = sel.indexOf(boxes[i].value) >= 0;
      if (!boxes[i].checked) all = false;
    }
    var page = document.querySelector("[data-select-page]");
    if (page) page.checked = all;
    var count = form.querySelector("[data-selected-count]");
    if (count && sel.length > 0) count.textContent = sel.length + (sel.length === 1 ? " image selected" : " images selected");
    var clearBtn = form.querySelector("[data-clear-selection]");
    if (clearBtn) clearBtn.hidden = sel.length === 0;
  }
  function toggle(svc, id, on) {
    var sel = loadSel(svc).filter(function (x) { return x !== id; });
    if (on) sel.push(id);
    saveSel(svc, sel);
  }
  document.addEventListener("change", function (e) {
    var form = bulkForm();
    if (!form) return;
    var svc = form.getAttribute("data-service");
    var t = e.target;
    if (t.matches && t.matches('input[type="checkbox"][name="id"][form="bulk"]')) {
      toggle(svc, t.value, t.checked);
      showSelection();
    } else if (t.matches && t.matches("[data-select-page]")) {
      var boxes = document.querySelectorAll('input[type="checkbox"][name="id"][form="bulk"]');
      for (var i = 0; i < boxes.length; i++) toggle(svc, boxes[i].value, t.checked);
      showSelection();
    }
  });
  document.addEventListener("click", function (e) {
    var c = e.target.closest && e.target.closest("[data-clear-selection]");
    if (!c) return;
    var form = bulkForm();
    saveSel(form.getAttribute("data-service"), []);
    showSelection();
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = "Selection cleared.";
  });
  // On sending, the selection rides along as hidden fields (the page's own
  // boxes are sent by the browser; the rest are added).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    // Not form.id: the form's own fields named "id" shadow that property.
    if (form.getAttribute("id") !== "bulk") return;
    var svc = form.getAttribute("data-service");
    var old = form.querySelectorAll("input[data-carried]");
    for (var i = 0; i < old.length; i++) old[i].remove();
    var onPage = {};
    var boxes = document.querySelectorAll('input[type="checkbox"][name="id"][form="bulk"]');
    for (var j = 0; j < boxes.length; j++) onPage[boxes[j].value] = true;
    loadSel(svc).forEach(function (id) {
      if (onPage[id]) return;
      var h = document.createElement("input");
      h.type = "hidden"; h.name = "id"; h.value = id; h.setAttribute("data-carried", "");
      form.appendChild(h);
    });
    // The next page (a bulk form) carries the ids on; a fresh list starts
    // with nothing ticked.
    saveSel(svc, []);
  }, true);
  document.addEventListener("htmx:afterSettle", showSelection);
  window.addEventListener("pageshow", showSelection);
})();
