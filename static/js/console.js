// The create-backup dialog: htmx fills it, this opens and closes it. No inline script, so a
// strict Content Security Policy holds; without JavaScript the links lead to plain pages.
(function () {
  "use strict";

  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = event.detail.target.closest("dialog");
    if (dialog && !dialog.open) {
      dialog.showModal();
      var first = dialog.querySelector("[autofocus]");
      if (first) {
        first.focus();
        if (first.select) first.select();
      }
    }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-dialog-close]");
    var dialog = closer && closer.closest("dialog");
    if (dialog) {
      event.preventDefault();
      dialog.close();
    } else if (event.target.tagName === "DIALOG") {
      event.target.close(); // a click on the backdrop
    }
  });

  // Empty a closed dialog so the next one opens with a fresh form and suggested name.
  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG") {
      var body = event.target.querySelector("#dialog-body");
      if (body) body.replaceChildren();
    }
  }, true);

  // A running backup's "so far" duration and "started … ago" count on here, every second:
  // the live refresh redraws a row or a page only when its data changes (backups/live.py),
  // not with the clock. Each element counts from when it arrived, with the seconds the
  // server wrote then, so the browser's clock need not agree with the server's.
  var arrived = new WeakMap();
  function two(n) { return (n < 10 ? "0" : "") + n; }
  var formats = { // as the `duration` filter and `reltime` (backups/templatetags/console.py) write them
    elapsed: function (seconds) {
      if (seconds < 60) return seconds + " s so far";
      if (seconds < 3600) return Math.floor(seconds / 60) + " min " + two(seconds % 60) + " s so far";
      return Math.floor(seconds / 3600) + " h " + two(Math.floor(seconds % 3600 / 60)) + " min so far";
    },
    ago: function (seconds) {
      if (seconds < 10) return "just now";
      if (seconds < 60) return seconds + " s ago";
      if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
      if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
      var days = Math.floor(seconds / 86400);
      return days + " day" + (days > 1 ? "s" : "") + " ago";
    }
  };
  setInterval(function () {
    var now = Date.now();
    document.querySelectorAll("[data-elapsed], [data-ago]").forEach(function (element) {
      var kind = element.dataset.elapsed !== undefined ? "elapsed" : "ago";
      if (!arrived.has(element)) arrived.set(element, now - 1000 * Number(element.dataset[kind]));
      // The text only: a <time> inside keeps its exact time on hover.
      var text = element.querySelector("time") || element;
      text.textContent = formats[kind](Math.floor((now - arrived.get(element)) / 1000));
    });
  }, 1000);

  // Copy buttons (`data-copy="<id>"`): the element's value or text goes to the clipboard.
  // Hidden without JavaScript, where the text is selected and copied by hand.
  document.querySelectorAll("[data-copy][hidden]").forEach(function (button) {
    button.hidden = false;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    var source = button && document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    var label = button.textContent;
    navigator.clipboard.writeText(source.value !== undefined ? source.value : source.textContent).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();
