"""The preferences in Chromium: the browser's zone from the sign-in page on, the one-click
switches without a page of their own, the counters in the page's language, UTC on focus."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_backup_flow import DESKTOP, PHONE, browser, console_world, screenshots  # noqa: F401
from tests.browser.test_backup_flow import sign_in as sign_in_in_english
from tests.factories import BackupFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_times_languages_and_themes_in_the_browser(browser, live_server, console_world, screenshots):  # noqa: F811
    instance = console_world.instances.get(name="orders-prod")
    BackupFactory(instance=instance, running=True, name="still-going", started_at=timezone.now() - timedelta(minutes=2))
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, timezone_id="Europe/Berlin")
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The sign-in page's script tells the server the zone: the first page after it is local.
    sign_in_in_english(page, "operator")
    assert {cookie["name"]: cookie["value"] for cookie in context.cookies()}["console_tz"] == "Europe/Berlin"
    page.goto("/history/")
    started = page.locator("tr", has_text="still-going").locator("time")
    expect(started).to_have_attribute("title", re.compile(r"CET · .* UTC$"))

    # UTC on keyboard focus too: the tooltip is the time's title.
    started.focus()
    tooltip = started.evaluate("time => getComputedStyle(time, '::after').content")
    assert "UTC" in tooltip
    screenshots(page, "history-focus-en")

    # One click to German, without a page of its own: the same page, now in German, and the
    # counters of the running backup count on in German (the JavaScript catalogue).
    page.get_by_role("button", name="Deutsch").click()
    page.wait_for_url(re.compile(r"/history/$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    row = page.locator("tr", has_text="still-going")
    expect(row.locator("[data-elapsed]")).to_contain_text("bisher", timeout=3000)
    expect(row.locator("[data-ago] time")).to_contain_text("vor ", timeout=3000)

    # The theme: system, then light, then dark, remembered on the next page.
    page.get_by_role("button", name="Design: wie im System").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.get_by_role("button", name="Design: hell").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.goto("/instances/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshots(page, "instances-de-dark")

    page.goto("/preferences/")
    expect(page.get_by_label("Zeitzone")).to_be_visible()
    screenshots(page, "preferences-de-dark")
    page.set_viewport_size(PHONE)
    screenshots(page, "preferences-de-dark-phone", full_page=True)
    assert problems == []
    context.close()
