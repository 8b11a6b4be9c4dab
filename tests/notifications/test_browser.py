"""The channels page in headless Chromium with a real worker: an admin adds a signed webhook
pointing at a local receiver, copies the secret shown once, clicks Send test and watches the
delivery reach Delivered without reloading; the receiver checked the signature."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from access.models import Membership
from notifications.models import Channel
from tests.browser.support import chromium
from tests.factories import CloudProjectFactory, MembershipFactory, UserFactory
from tests.fixtures.worker import WORKER_ENV, Worker, purge_broker

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop here

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PASSWORD = "browser-test-password"
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
def worker(transactional_db, tmp_path):
    purge_broker()
    running = Worker(tmp_path, env={**WORKER_ENV, "DELIVERY_DISPATCH_SECONDS": "1"})
    running.start()
    yield running
    running.stop()
    purge_broker()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
        return path

    return shoot


def test_an_admin_adds_a_webhook_and_sees_its_test_delivered(browser, live_server, worker, receiver, settings, shots):
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain http
    settings.CSRF_COOKIE_SECURE = False
    project = CloudProjectFactory(name="eu-de_alpha")
    MembershipFactory(user=UserFactory(username="ada", password=PASSWORD), project=project, role=Membership.Role.ADMIN)

    page = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}).new_page()
    page.add_init_script(WATCH_CSP)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    page.locator("#main").get_by_role("link", name="Team", exact=True).click()
    page.locator("#main").get_by_role("link", name="Notification channels").click()
    expect(page.get_by_role("heading", name="Notifications of eu-de_alpha")).to_be_visible()
    shots(page, "channels-empty")

    page.get_by_label("Kind").select_option("webhook")
    page.get_by_label("Name").fill("On-call receiver")
    page.get_by_label("Address").fill(receiver.url)
    page.get_by_role("button", name="Add channel").click()
    secret = page.locator("#channel-secret").inner_text()
    assert secret == Channel.objects.get().secret
    receiver.secret = secret
    shots(page, "channels-secret-once")

    row = page.locator("#channels tr", has_text="On-call receiver")
    expect(row).to_contain_text("127.0.0.1")
    page.evaluate("window.notReloaded = true")
    row.get_by_role("button", name="Send test").click()
    delivery = page.locator("#deliveries tbody tr").first
    expect(delivery).to_contain_text("Test message")
    expect(delivery).to_contain_text("Delivered", timeout=20_000)
    assert page.evaluate("window.notReloaded") is True
    assert len(receiver.received) == 1
    assert receiver.refused == []
    assert receiver.received[0].json["event"] == "channel_test"
    assert page.evaluate("window.cspViolations") == []
    shots(page, "channels-delivered")
    page.set_viewport_size({"width": 390, "height": 844})
    shots(page, "channels-phone")

    page.goto(f"/projects/{project.pk}/channels/")
    assert secret not in page.content()
    assert "/hooks/console" not in page.content()
