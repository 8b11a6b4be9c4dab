// The colours axe-core does not measure, as pairs to compare (tests/browser/support.py):
// the text of disabled buttons (axe skips them), progress bars, text field borders and focus
// rings, each against the first opaque background behind it (WCAG 1.4.3 and 1.4.11).
() => {
  const behind = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const colour = getComputedStyle(e).backgroundColor;
      if (!/, 0\)$/.test(colour) && colour !== "transparent") return colour;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  };
  const name = (element) => {
    const classes = typeof element.className === "string" ? element.className.trim().split(/\s+/).filter(Boolean) : [];
    return element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") + classes.map((c) => "." + c).join("");
  };
  // Under an open modal dialog the page is inert: only the dialog can take the focus.
  const dialog = document.querySelector("dialog[open]");
  const scope = dialog || document;
  const pairs = [];
  const pair = (what, element, fg, bg, need) => pairs.push({ what, element: name(element), fg, bg, need });

  scope.querySelectorAll(".button[disabled], .button[aria-disabled=true]").forEach((button) => {
    pair("disabled button text", button, getComputedStyle(button).color, behind(button), 4.5);
  });
  scope.querySelectorAll("progress").forEach((bar) => {
    pair("progress bar", bar, getComputedStyle(bar).borderTopColor, behind(bar.parentElement), 3);
  });
  const field = scope.querySelector("input[type=text], input[type=search], input[type=password], select, textarea");
  if (field) pair("text field border", field, getComputedStyle(field).borderTopColor, behind(field.parentElement), 3);

  const links = dialog
    ? [dialog.querySelector("a[href]")]
    : [document.querySelector("main a[href]"), document.querySelector(".topbar a[href]")];
  for (const element of [field, ...links]) {
    if (!element) continue;
    element.focus();
    const style = getComputedStyle(element);
    const ring = style.outlineStyle === "none" ? "no outline" : style.outlineColor;
    pair("focus ring", element, ring, behind(element.parentElement), 3);
    element.blur();
  }
  return pairs;
}
