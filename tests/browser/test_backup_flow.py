"""The whole flow in headless Chromium: sign in, open Instances, create a backup through the
dialog (an invalid name is rejected inline first), watch its history row reach Completed
without reloading, and read its timeline. Real server, real worker, real simulator.

Screenshots go to a temporary folder; `SCREENSHOTS_DIR=docs/screenshots` keeps them for the README.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from access.models import CloudProject, Membership
from backups import timeline
from backups.models import Backup
from backups.services.sync import instances_sync
from tests.factories import BackupEventFactory, BackupFactory, MembershipFactory, UserFactory

from .support import PASSWORD, chromium

# Playwright's sync API runs an event loop in this thread; the ORM calls here are still
# plain synchronous calls made between its steps.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Written as the console writes it: a code and its values, in words in the viewer's language.
REQUESTED_BY_ADA = timeline.line(timeline.REQUESTED, who="Ada Admin")._asdict()

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def sign_in(page, username: str) -> None:
    """Through the sign-in form, as a person would; waits for the signed-in header."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".whoami")).to_be_visible()


@pytest.fixture
def browser(live_server):
    # Closed before the live server stops: a kept-alive browser connection would keep a
    # server thread, and its database connection, alive past the test database's teardown.
    with chromium() as browser:
        yield browser


@pytest.fixture
def screenshots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page: Page, name: str, **options) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=path, animations="disabled", caret="hide", **options)
        return path

    return shoot


@pytest.fixture
def console_world(settings, simulator, transactional_db):
    """A project connected to the simulator with three instances, some history, and an operator."""
    # The live server speaks plain http; production's Secure cookies would not be sent back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    project = CloudProject.objects.create(name="eu-de_demo", **simulator.project_fields())
    simulator.add_instance("orders-prod")
    simulator.add_instance("payments-prod", status="frozen")
    simulator.add_instance("sessions-cache")
    instances_sync(project=project)
    operator = UserFactory(username="operator", first_name="Oscar", last_name="Operator", password=PASSWORD)
    MembershipFactory(user=operator, project=project, role=Membership.Role.OPERATOR)
    admin = UserFactory(username="admin", first_name="Ada", last_name="Admin")
    # Earlier backups, so the pages look lived in and the form can estimate a duration.
    now = timezone.now()
    for hours, instance_name, kind in (
        (30, "orders-prod", "ok"),
        (20, "sessions-cache", "ok"),
        (6, "sessions-cache", "failed"),
    ):
        instance = project.instances.get(name=instance_name)
        requested = now - timedelta(hours=hours)
        backup = BackupFactory(
            instance=instance,
            name=f"{instance_name}-{requested:%Y%m%d-%H%M}",
            requested_by=admin,
            requested_at=requested,
            started_at=requested + timedelta(seconds=4),
            finished_at=requested + timedelta(minutes=3, seconds=20),
            **({"failed": True} if kind == "failed" else {"size_kb": 7_340_032}),
        )
        BackupEventFactory(backup=backup, at=requested, **REQUESTED_BY_ADA)
    return project


def test_operator_creates_a_backup_and_watches_it_complete(
    browser, live_server, console_world, celery_worker, simulator, screenshots
):
    # The job runs until the test ends it (finish_backup below): the row is certainly running
    # when its progress is checked, however slow the machine.
    simulator.configure(job_seconds=3600)
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    # Sign in.
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".whoami")).to_contain_text("Oscar Operator")
    expect(page.locator(".role-chip")).to_have_text("Operator")

    # Instances: the frozen one says why it cannot be backed up.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    frozen = page.locator("tr", has_text="payments-prod")
    expect(frozen.get_by_role("button", name="Create backup")).to_be_disabled()
    expect(frozen).to_contain_text("only Available instances can be backed up")
    screenshots(page, "instances")

    # The dialog: an invalid name is rejected as it is typed, then a valid one is accepted.
    page.locator("tr", has_text="orders-prod").get_by_role("link", name="Create backup").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Usually takes about 3 min 16 s")
    name = dialog.get_by_label("Backup name")
    expect(name).to_have_value(re.compile(r"^orders-prod-\d{8}-\d{4}$"))
    name.fill("1-orders")
    expect(dialog.locator("#name-feedback")).to_contain_text("The name must start with a letter (A-Z or a-z).")
    screenshots(page, "create-dialog-inline-error")
    name.fill("orders-from-the-browser")
    expect(dialog.locator("#name-feedback")).to_contain_text("Looks good.")
    dialog.get_by_role("button", name="Create backup").click()

    page.wait_for_url(re.compile(r"/backups/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("Backup orders-from-the-browser of orders-prod requested")
    backup = Backup.objects.get(name="orders-from-the-browser")
    assert backup.requested_by.username == "operator"

    # History: the row follows the backup by itself, without a reload: running with its
    # progress while the cloud job runs, then Completed once the job ends.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    row = page.locator(f"#backup-{backup.pk}")
    expect(row).to_be_visible()
    page.evaluate("window.notReloaded = true")
    expect(row.locator("td.col-status .status").first).to_have_text("Running", timeout=20000)
    expect(row.locator("progress")).to_be_visible()
    expect(row).to_have_class("is-active")
    expect(row.locator('input[name="live"]')).to_have_count(1)  # named in the table's one poll
    screenshots(page, "history-running")
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.backup_id
    simulator.finish_backup(backup.backup_id)
    expect(row).to_contain_text("Completed", timeout=30000)
    expect(row.locator("progress")).to_have_count(0)
    expect(row).not_to_have_class("is-active")
    expect(row.locator('input[name="live"]')).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    expect(row).to_contain_text("Oscar Operator")
    expect(row.locator("td.num").last).to_have_text(re.compile(r"\d+(\.\d)? (KB|MB|GB)"))

    # The detail page tells the whole story.
    row.get_by_role("link", name="orders-from-the-browser").click()
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Requested")
    expect(timeline).to_contain_text("by Oscar Operator")
    expect(timeline).to_contain_text("Submitted")
    expect(timeline).to_contain_text("Completed")
    backup.refresh_from_db()
    expect(page.locator(".facts.ids")).to_contain_text(backup.job_id)
    expect(page.locator(".facts.ids")).to_contain_text(backup.backup_id)
    screenshots(page, "backup-detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(page.locator("#running")).to_contain_text("Nothing is running.")
    screenshots(page, "overview")

    # The same pages on a phone: the instance table turns into cards, nothing overflows.
    phone = browser.new_context(viewport=PHONE, base_url=live_server.url, storage_state=context.storage_state())
    small = phone.new_page()
    small.goto("/instances/")
    expect(small.locator("tr", has_text="orders-prod")).to_contain_text("Completed")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshots(small, "instances-phone")
    small.goto("/history/")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.close()
    context.close()
    assert problems == []
