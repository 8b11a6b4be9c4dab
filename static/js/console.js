// The create-backup dialog: htmx fills it, this opens and closes it. No inline script, so a
// strict Content Security Policy holds; without JavaScript the links lead to plain pages.
(function () {
  "use strict";

  // The texts of the page's language, from Django's JavaScript catalogue (preferences/views.py),
  // loaded just before this file; English as written here if it failed to load.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (singular, plural, n) { return n === 1 ? singular : plural; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  };
  function say(format, values) { return interpolate(format, values, true); }

  // The browser's time zone, in which the server shows times (preferences/middleware.py) unless
  // the person chose one. Set on every page, the sign-in page too, so the first page after
  // signing in already shows local times; rewritten only when it changed (travel, a new laptop).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\/-]{1,64}$/.test(zone) && document.cookie.split("; ").indexOf("console_tz=" + zone) < 0) {
      document.cookie = "console_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
        (location.protocol === "https:" ? "; Secure" : "");
    }
  } catch (error) { /* no Intl: the server's zone (UTC) stays */ }

  // Opened after htmx has settled the new form, not on swap: htmx wires the form's hx-*
  // attributes (the name's check as it is typed) only when it settles, and keys typed into a
  // field focused before that would go unchecked.
  document.addEventListener("htmx:afterSettle", function (event) {
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
  function duration(seconds) { // as the `duration` filter (backups/templatetags/console.py) writes it
    if (seconds < 60) return say(gettext("%(seconds)s s"), { seconds: seconds });
    if (seconds < 3600) {
      return say(gettext("%(minutes)s min %(seconds)s s"), { minutes: Math.floor(seconds / 60), seconds: two(seconds % 60) });
    }
    return say(gettext("%(hours)s h %(minutes)s min"), { hours: Math.floor(seconds / 3600), minutes: two(Math.floor(seconds % 3600 / 60)) });
  }
  var formats = { // as the `backup_duration` and `reltime` filters write them
    elapsed: function (seconds) {
      return say(gettext("%(duration)s so far"), { duration: duration(seconds) });
    },
    ago: function (seconds) {
      if (seconds < 10) return gettext("just now");
      var n, format;
      if (seconds < 60) {
        n = seconds;
        format = ngettext("%(n)s s ago", "%(n)s s ago", n);
      } else if (seconds < 3600) {
        n = Math.floor(seconds / 60);
        format = ngettext("%(n)s min ago", "%(n)s min ago", n);
      } else if (seconds < 86400) {
        n = Math.floor(seconds / 3600);
        format = ngettext("%(n)s h ago", "%(n)s h ago", n);
      } else {
        n = Math.floor(seconds / 86400);
        format = ngettext("%(n)s day ago", "%(n)s days ago", n);
      }
      return say(format, { n: n });
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
      button.textContent = gettext("Copied");
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });

  // A field checked as it is typed (hx-post into its feedback element) is marked invalid while
  // its feedback shows an error, so a screen reader says so on the field itself, not only
  // in the feedback it is described by.
  document.addEventListener("htmx:afterSettle", function (event) {
    var field = event.detail.requestConfig && event.detail.requestConfig.elt; // who asked
    if (!field || !field.matches || !field.matches("input[aria-describedby], textarea[aria-describedby]")) return;
    var invalid = field.getAttribute("aria-describedby").split(/\s+/).some(function (id) {
      var described = document.getElementById(id);
      return described && described.querySelector(".field-error");
    });
    if (invalid) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  });
})();
