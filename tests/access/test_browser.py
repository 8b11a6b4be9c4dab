"""The team page in headless Chromium, under the real Content Security Policy: a role changes and
a member is removed through htmx, the last admin's buttons say why they are disabled, someone
new is invited and joins through the link, and the browser reports no policy violation on any
of these pages."""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from access.models import Membership
from notifications.models import OutgoingEmail
from notifications.services.outbox import email_send
from tests.browser.support import chromium
from tests.factories import CloudProjectFactory, MembershipFactory, UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop here

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
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
    with chromium() as browser:
        yield browser


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


@pytest.fixture
def screenshots(tmp_path):
    """Where the pages' pictures go: a temporary folder, or SCREENSHOTS_DIR to keep them."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
        return path

    return shoot


def test_an_invitation_from_the_team_page_to_a_signed_in_newcomer(browser, live_server, team, screenshots):
    """The admin invites by email and sees the invitation wait; the email (sent here as the
    worker would) carries the link; the newcomer chooses a username and password, and is in."""
    admin = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}).new_page()
    admin.add_init_script(WATCH_CSP)
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.goto("/accounts/login/")
    admin.get_by_label("Username").fill("ada")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    admin.goto(f"/projects/{team.pk}/team/")

    invite = admin.locator("section", has=admin.get_by_role("heading", name="Invite someone by email"))
    invite.get_by_label("Email").fill("nora@example.com")
    invite.get_by_label("Name").fill("Nora New")
    invite.get_by_label("Role").select_option("operator")
    invite.get_by_role("button", name="Send invitation").click()
    expect(admin.locator(".message-success")).to_contain_text("is on its way to nora@example.com")
    row = admin.locator("#invitations tr", has_text="nora@example.com")
    expect(row).to_contain_text("Operator")
    expect(row).to_contain_text("Queued")
    expect(row).to_contain_text("Ada Admin")
    screenshots(admin, "team-invitation-waiting")
    admin.set_viewport_size(PHONE)
    assert admin.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshots(admin, "team-invitation-waiting-phone")
    admin.set_viewport_size({"width": 1280, "height": 900})

    # The worker's part, here: the email leaves, and the section (polling) says so.
    email = OutgoingEmail.objects.get(recipient="nora@example.com")
    assert email_send(email_id=email.pk)
    expect(row).to_contain_text("Sent", timeout=10_000)
    assert admin.evaluate("window.cspViolations") == []
    link = re.search(r"https?://\S+/invitations/[\w-]+/", mail.outbox[-1].body).group(0)
    assert link.startswith(live_server.url)

    newcomer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    newcomer.add_init_script(WATCH_CSP)
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name="Join eu-de_alpha")).to_be_visible()
    expect(newcomer.get_by_label("First name")).to_have_value("Nora")
    screenshots(newcomer, "invitation-accept")
    newcomer.set_viewport_size(PHONE)
    assert newcomer.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshots(newcomer, "invitation-accept-phone")
    newcomer.get_by_label("Username").fill("nora")
    newcomer.get_by_label("Last name").fill("New")
    newcomer.get_by_label("Password", exact=True).fill("a-Passphrase-of-my-own-42")
    newcomer.get_by_label("Password again").fill("a-Passphrase-of-my-own-42")
    newcomer.get_by_role("button", name="Create my account and join").click()
    expect(newcomer.locator(".message-success")).to_contain_text("Welcome: you are Operator of eu-de_alpha.")
    expect(newcomer.locator(".whoami")).to_contain_text("Nora New")
    assert newcomer.evaluate("window.cspViolations") == []
    assert Membership.objects.get(project=team, user__username="nora").role == Membership.Role.OPERATOR

    # The link is spent; the admin's page lists nora as a member, no longer as an invitation.
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name="This invitation is no longer valid")).to_be_visible()
    screenshots(newcomer, "invitation-no-longer-valid")
    admin.reload()
    expect(admin.locator("#members")).to_contain_text("nora@example.com proven")
    expect(admin.locator("#invitations")).to_contain_text("No invitation is waiting")
    screenshots(admin, "team-after-joining")
