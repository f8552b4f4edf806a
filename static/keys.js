// imagedash: keyboard shortcuts of the image list (issue 17, item 10).
// j/k or ↓/↑ move a row focus, Enter opens the row's image, c its copy form,
// e its edit form, x ticks its selection box, ? lists the keys ("/" focusing
// the search box is app.js's). Plain listeners on document (delegation), so
// they outlive every htmx swap of the table; the CSP forbids inline scripts.
//
// A row says what its person may do with it: data-copy-url and
// data-edit-url are rendered only when the role allows (handlers.rowActions).
// The keys only follow them; the server checks the role again.
(function () {
  "use strict";
  var ROWS = '#image-table tr[data-testid="image-row"]';
  // The row the keys act on, by image id, so a table reload (a sync, a
  // search) keeps it when the image is still listed.
  var currentID = null;
  // Whether a row had the focus when htmx swapped the table away.
  var refocus = false;

  // A field that takes text: keys typed there are the person's text.
  function textField(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    var t = (el.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset", "image", "file", "color", "range"].indexOf(t) < 0;
  }

  function rows() { return document.querySelectorAll(ROWS); }
  function rowOf(el) { return el && el.closest ? el.closest(ROWS) : null; }
  function current() {
    if (currentID === null) return null;
    var list = rows();
    for (var i = 0; i < list.length; i++) {
      if (list[i].getAttribute("data-id") === currentID) return list[i];
    }
    return null;
  }

  // mark makes row the current one: the only row in the Tab order (roving
  // tabindex) and highlighted. With no row, the first is the Tab stop.
  function mark(row) {
    var list = rows();
    currentID = row ? row.getAttribute("data-id") : null;
    for (var i = 0; i < list.length; i++) {
      var on = row ? list[i] === row : i === 0;
      list[i].setAttribute("tabindex", on ? "0" : "-1");
      list[i].classList.toggle("kb-current", !!row && list[i] === row);
    }
  }

  function focusRow(row) {
    if (!row) return;
    mark(row);
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (list.length === 0) return;
    var cur = current();
    var i = cur ? Array.prototype.indexOf.call(list, cur) + step : 0;
    focusRow(list[Math.max(0, Math.min(list.length - 1, i))]);
  }

  // Forms a row's person may open leave the page (a full load keeps the
  // history right without an htmx target to choose).
  function open(row, attr) {
    var url = row && row.getAttribute(attr);
    if (url) window.location.assign(url);
  }

  var dialog = null;
  var KEYS = [
    ["/", "Search"],
    ["j  or  ↓", "Next image"],
    ["k  or  ↑", "Previous image"],
    ["Enter", "Open the image"],
    ["c", "Copy the image (if you may copy)"],
    ["e", "Edit the image (if you may edit it)"],
    ["x", "Select or unselect the image"],
    ["?", "Show these shortcuts"],
    ["Esc", "Close this list"],
  ];

  // The shortcuts dialog, built once (textContent only: no markup strings).
  function shortcuts() {
    if (dialog && document.body.contains(dialog)) return dialog;
    dialog = document.createElement("dialog");
    dialog.id = "shortcuts";
    dialog.setAttribute("aria-labelledby", "shortcuts-title");
    dialog.setAttribute("data-testid", "shortcuts");
    var art = document.createElement("article");
    var head = document.createElement("header");
    var h = document.createElement("h2");
    h.id = "shortcuts-title";
    h.textContent = "Keyboard shortcuts";
    head.appendChild(h);
    art.appendChild(head);
    var dl = document.createElement("dl");
    dl.className = "shortcut-list";
    KEYS.forEach(function (k) {
      var dt = document.createElement("dt");
      k[0].split("  or  ").forEach(function (key, i) {
        if (i > 0) dt.appendChild(document.createTextNode(" or "));
        var kbd = document.createElement("kbd");
        kbd.textContent = key;
        dt.appendChild(kbd);
      });
      var dd = document.createElement("dd");
      dd.textContent = k[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    art.appendChild(dl);
    var foot = document.createElement("footer");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "secondary";
    close.textContent = "Close";
    close.setAttribute("data-testid", "shortcuts-close");
    close.addEventListener("click", function () { dialog.close(); });
    foot.appendChild(close);
    art.appendChild(foot);
    dialog.appendChild(art);
    // A click on the backdrop (the dialog itself, outside its article) closes.
    dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
    document.body.appendChild(dialog);
    return dialog;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (textField(e.target) || textField(document.activeElement)) return;
    if (document.querySelector("dialog[open]")) return; // Escape closes it natively
    var onRow = rowOf(document.activeElement) === document.activeElement && document.activeElement !== null;
    switch (e.key) {
      case "?":
        e.preventDefault();
        shortcuts().showModal();
        return;
      case "j":
      case "k":
        if (rows().length === 0) return;
        e.preventDefault();
        move(e.key === "j" ? 1 : -1);
        return;
      case "ArrowDown":
      case "ArrowUp":
        // Only on a row: elsewhere the arrows scroll the page.
        if (!onRow || e.shiftKey) return;
        e.preventDefault();
        move(e.key === "ArrowDown" ? 1 : -1);
        return;
      case "Enter":
        if (!onRow || e.shiftKey) return;
        var link = document.activeElement.querySelector('a[data-testid="name"]');
        if (!link) return;
        e.preventDefault();
        link.click(); // boosted: htmx loads the image page
        return;
      case "c":
        if (!current()) return;
        e.preventDefault();
        open(current(), "data-copy-url");
        return;
      case "e":
        if (!current()) return;
        e.preventDefault();
        open(current(), "data-edit-url");
        return;
      case "x":
        var row = current();
        var box = row && row.querySelector('input[type="checkbox"][name="id"]');
        if (!box) return;
        e.preventDefault();
        box.click(); // a change event, which app.js's selection follows
        return;
    }
  });

  // A click or Tab into a row (its box, its link) makes it the current row.
  document.addEventListener("focusin", function (e) {
    var row = rowOf(e.target);
    if (row && row.getAttribute("data-id") !== currentID) mark(row);
  });

  // The skip link on the image list lands on the current (or first) row.
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a.skip-link");
    if (!a) return;
    var target = document.querySelector(a.getAttribute("href"));
    if (!target || !target.querySelector(ROWS)) return;
    e.preventDefault();
    focusRow(current() || rows()[0]);
  });

  // Around a swap of the table: remember whether a row had the focus (the
  // swap drops it to <body>), then mark the same image's row in the new
  // table and give the focus back. A search box being typed in keeps it.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var a = document.activeElement;
    refocus = !!rowOf(a) && !!e.detail.target && e.detail.target.contains(a);
  });
  function settle() {
    // Another page (an image's, after Enter): keep the row for Back.
    if (rows().length === 0) {
      refocus = false;
      return;
    }
    var row = current();
    if (!row && refocus) row = rows()[0] || null;
    mark(row);
    if (row && refocus) focusRow(row);
    refocus = false;
  }
  document.addEventListener("htmx:afterSettle", settle);
  // Back to the list: the restored table keeps the row that was opened.
  document.addEventListener("htmx:historyRestore", function () {
    refocus = current() !== null;
    settle();
  });
  mark(null);
})();
