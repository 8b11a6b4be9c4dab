"""The team page in headless Chromium, under the real Content Security Policy: a role changes and
a member is removed through htmx, the last admin's buttons say why they are disabled, and the
browser reports no policy violation on any of the new pages."""

import os
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from access.models import Membership
from tests.factories import CloudProjectFactory, MembershipFactory, UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop here

pytestmark = [pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "browser-test-password"
# Collected in the page: every violation the browser reports, whether or not it logs it.
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def browser(live_server):
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()
        connections.close_all()


@pytest.fixture
def team(settings, transactional_db):
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain http
    settings.CSRF_COOKIE_SECURE = False
    project = CloudProjectFactory(name="eu-de_alpha")
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin", password=PASSWORD)
    MembershipFactory(user=admin, project=project, role=Membership.Role.ADMIN)
    vera = UserFactory(username="vera", first_name="Vera", last_name="Viewer")
    MembershipFactory(user=vera, project=project, role=Membership.Role.VIEWER)
    MembershipFactory(user=UserFactory(username="oscar", first_name="Oscar", last_name="Operator"), project=project)
    return project


def test_team_changes_through_htmx_under_the_policy(browser, live_server, team):
    page = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}).new_page()
    page.add_init_script(WATCH_CSP)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    page.locator("#main").get_by_role("link", name="Team", exact=True).click()

    ada = page.locator("tr", has_text="Ada Admin")
    expect(ada.get_by_role("button", name="Remove")).to_be_disabled()
    expect(ada).to_contain_text("The last admin of a project cannot be removed")
    page.evaluate("window.notReloaded = true")

    page.locator("tr", has_text="Vera Viewer").locator("select").select_option("admin")
    expect(page.locator("tr", has_text="Ada Admin").get_by_role("button", name="Remove")).to_be_enabled()
    assert Membership.objects.get(project=team, user__username="vera").role == "admin"

    page.locator("tr", has_text="Oscar Operator").get_by_role("button", name="Remove").click()
    expect(page.locator("tr", has_text="Oscar Operator")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("window.cspViolations") == []

    for path in ("/projects/", f"/projects/{team.pk}/credentials/", "/audit/", "/accounts/password/"):
        page.goto(path)
        assert page.evaluate("window.cspViolations") == [], path
    # The watch works: an inline style is refused and reported.
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_function("window.cspViolations.length > 0")
    problems = [p for p in problems if "Content Security Policy" not in p]
    assert problems == []
