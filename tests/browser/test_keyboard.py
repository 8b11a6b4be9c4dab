"""The create-backup flow with the keyboard alone: sign in, reach Instances, open the dialog,
close it with Escape and come back to its trigger, be told an invalid name is wrong without
losing the field, create the backup and find it in the history. Only Tab, Shift+Tab, Enter,
Escape and typing; every stop on the way shows where the focus is."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from backups.models import Backup

from .test_backup_flow import DESKTOP, PASSWORD, browser, console_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Far more stops than any page has before what is looked for: a missed element fails, not hangs.
MAX_TABS = 60

FOCUSED = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    const style = getComputedStyle(element);
    return {
        tag: element.tagName.toLowerCase(),
        id: element.id,
        type: element.getAttribute("type"),
        text: (element.innerText || element.value || element.getAttribute("aria-label") || "").trim().slice(0, 60),
        href: element.getAttribute("href"),
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
        inDialog: Boolean(element.closest("dialog[open]")),
    };
}"""


def focused(page: Page) -> dict | None:
    return page.evaluate(FOCUSED)


def tab_to(page: Page, wanted, *, backwards: bool = False) -> dict:
    """Press Tab (Shift+Tab) until the focused element is `wanted(focus)`; every element passed
    on the way must show a focus outline."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        focus = focused(page)
        if focus is None:
            continue  # the document itself, between the last element and the first
        assert focus["outline"], f"no visible focus on {focus}"
        if wanted(focus):
            return focus
    raise AssertionError(f"{MAX_TABS} presses of {key} never reached the element; focus is on {focused(page)}")


def test_operator_creates_a_backup_with_the_keyboard_alone(browser, live_server, console_world):  # noqa: F811
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    create_url = reverse("backups:backup_create", args=[console_world.instances.get(name="orders-prod").pk])

    # Sign in: the form starts in the username.
    page.goto("/accounts/login/")
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type("operator")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "id_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".whoami")).to_be_visible()

    # Instances, from the main navigation; the skip link comes first.
    page.keyboard.press("Tab")
    assert focused(page)["href"] == "#main"
    tab_to(page, lambda focus: focus["href"] == reverse("backups:instances"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/instances/$"))

    # The dialog opens with the focus on the name, and Escape gives it back to the trigger.
    trigger = tab_to(page, lambda focus: focus["href"] == create_url)
    page.keyboard.press("Enter")
    dialog = page.locator("dialog[open]")
    expect(dialog.locator("#id_name")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    assert focused(page)["inDialog"], "Shift+Tab left the open dialog"
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    back = focused(page) or {}
    assert back.get("href") == trigger["href"], f"focus went to {back}, not the trigger"
    assert back["outline"]

    # Again, now with an invalid name: said as it is typed, and on Enter the field keeps the
    # focus and is marked invalid, described by its error. htmx wires a swapped-in form's
    # attributes (the check as you type) only when it settles, 20 ms after the swap; a loaded
    # machine can stretch that past the typing, so it is stretched here on purpose: the dialog
    # must not take the focus before its form is live.
    page.evaluate("htmx.config.defaultSettleDelay = 1500")
    page.keyboard.press("Enter")
    name = dialog.locator("#id_name")
    expect(name).to_be_focused()
    page.keyboard.type("1-orders")  # the suggested name is selected: typing replaces it
    feedback = dialog.locator("#name-feedback")
    # The check as you type is a request to the server: on a busy CI machine it can take seconds.
    expect(feedback.locator(".field-error")).to_be_visible(timeout=20_000)
    expect(name).to_have_attribute("aria-invalid", "true")  # marked as soon as it is said
    page.keyboard.press("Enter")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", re.compile(r"\bname-feedback\b"))
    expect(feedback.locator(".field-error")).to_be_visible()
    expect(name).to_be_focused()
    # The form came back from the server in place; as a person would, wait until it has settled
    # (htmx removes its marker classes then) before typing into it.
    expect(dialog.locator(".htmx-added, .htmx-settling")).to_have_count(0, timeout=20_000)
    assert not Backup.objects.filter(name="1-orders").exists()

    # A valid name, then Tab to Create backup and Enter.
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("orders-by-keyboard")
    expect(feedback.locator(".field-ok")).to_be_visible(timeout=20_000)
    expect(name).not_to_have_attribute("aria-invalid", "true")
    tab_to(page, lambda focus: focus["inDialog"] and focus["type"] == "submit")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/backups/\d+/$"))
    backup = Backup.objects.get(name="orders-by-keyboard")
    assert backup.requested_by.username == "operator"

    # The history lists it.
    tab_to(page, lambda focus: focus["href"] == reverse("backups:history"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/history/$"))
    expect(page.locator(f"#backup-{backup.pk}")).to_contain_text("orders-by-keyboard")
    context.close()
    assert problems == []
