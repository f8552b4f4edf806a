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
})();
