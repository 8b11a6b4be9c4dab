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
