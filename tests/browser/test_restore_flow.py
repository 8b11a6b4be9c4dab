"""Restoring in headless Chromium: an Admin opens a backup, restores it to a new instance through
the form (a wrong confirmation is refused first), watches the restore complete on its page,
refreshes the instance list and finds the new instance marked "restored from <backup>"; the
source's page then shows its last proven restore and RTO. A rehearsal runs from the instance page
to its end: proven, and its temporary instance deleted. Real server, worker and simulator.

Screenshots as in test_backup_flow.py (`SCREENSHOTS_DIR=docs/screenshots` keeps them).
"""

import re
import time

import pytest
from playwright.sync_api import expect

from access.models import CloudProject, Membership
from backups.models import Backup
from backups.services.sync import backups_import, instances_sync
from restores.models import Restore
from tests.factories import MembershipFactory, UserFactory

from .test_backup_flow import DESKTOP, PASSWORD, PHONE, browser, screenshots, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.integration]

NEW_PASSWORD = "Browser-Restore-42"


@pytest.fixture
def restore_world(settings, simulator, transactional_db):
    """orders-prod in the simulator with one completed (automated) backup, imported into the
    console, and its project's Admin."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    project = CloudProject.objects.create(name="eu-de_demo", **simulator.project_fields())
    orders = simulator.add_instance("orders-prod")
    cloud_backup = simulator.start_automated_backup(orders["id"], seconds=600)
    simulator.finish_backup(cloud_backup["id"])
    instances_sync(project=project)
    backups_import(project=project)
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin", password=PASSWORD)
    MembershipFactory(user=admin, project=project, role=Membership.Role.ADMIN)
    return project


def reload_until(page, url: str, locator, text: str, timeout: float = 30) -> None:
    """Open `url` again until `locator` shows `text`: what a person does after Refresh from cloud."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if locator.count() and text in locator.first.inner_text():
            return
        if time.monotonic() > deadline:
            expect(locator.first).to_contain_text(text)  # fails with Playwright's own message
        page.wait_for_timeout(1000)


def test_admin_restores_a_backup_and_finds_the_new_instance(
    browser,  # noqa: F811
    live_server,
    restore_world,
    celery_worker,
    simulator,
    screenshots,  # noqa: F811
):
    backup = Backup.objects.get(instance__name="orders-prod")
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    sign_in(page, "ada")

    # The backup, from its instance's page: never restored yet, and Restore… for an Admin.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    page.get_by_role("link", name="orders-prod", exact=True).click()
    expect(page.locator(".restore-proof")).to_contain_text("Never proven")
    page.get_by_role("link", name=backup.name).first.click()
    expect(page.locator(".facts").last).to_contain_text("Never restored")
    page.get_by_role("link", name="Restore…").click()

    # The form: prefilled from the source as the cloud lists it, the backup's size, the warning.
    form = page.locator("#restore-form")
    expect(form.get_by_label("Nodes")).to_have_value("3")
    expect(form.get_by_label("Storage (GB)")).to_have_value("100")
    expect(form.get_by_label("Specification code")).to_have_value(re.compile(r"^geminidb\.cassandra\."))
    expect(form).to_contain_text("This creates a new, billable instance.")
    form.get_by_label("New instance name").fill("orders-restored")
    form.get_by_label("Database password").fill(NEW_PASSWORD)
    form.get_by_label("Password again").fill(NEW_PASSWORD)
    form.get_by_label("Type the new instance's name to confirm").fill("orders-restore")
    form.get_by_role("button", name="Restore to a new instance").click()
    expect(page.locator("#restore-form")).to_contain_text("Type orders-restored exactly")
    assert not Restore.objects.exists()
    screenshots(page, "restore-form", full_page=True)

    # Typed right (the passwords again: a refused form never sends them back), it goes.
    form = page.locator("#restore-form")
    form.get_by_label("Database password").fill(NEW_PASSWORD)
    form.get_by_label("Password again").fill(NEW_PASSWORD)
    form.get_by_label("Type the new instance's name to confirm").fill("orders-restored")
    form.get_by_role("button", name="Restore to a new instance").click()
    page.wait_for_url(re.compile(r"/restores/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("to the new instance orders-restored requested")
    restore = Restore.objects.get()

    # Its page follows it by itself to the end.
    page.evaluate("window.notReloaded = true")
    expect(page.locator(".head-status")).to_contain_text("Completed", timeout=60000)
    expect(page.locator(".alert-ok")).to_contain_text("orders-restored is available, restored in")
    expect(page.locator(".timeline")).to_contain_text("Submitted")
    assert page.evaluate("window.notReloaded") is True
    restore.refresh_from_db()
    assert restore.instance_cloud_id
    assert [i["name"] for i in simulator.instances()].count("orders-restored") == 1
    screenshots(page, "restore-detail", full_page=True)

    # The instance list, refreshed from the cloud, has the new instance and says where it came from.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    page.get_by_role("button", name="Refresh from cloud").click()
    row = page.locator("tr", has_text="orders-restored")
    reload_until(page, "/instances/", row, f"restored from {backup.name}")
    screenshots(page, "restore-instances")

    # The source's page: its last proven restore, with the time the restore took.
    page.get_by_role("link", name="orders-prod", exact=True).click()
    expect(page.locator(".restore-proof")).to_contain_text("Last proven restore")
    expect(page.locator("#restores")).to_contain_text("Restore time (RTO)")
    screenshots(page, "restore-instance", full_page=True)

    # The form and the restore's page on a phone: one column, nothing overflows.
    phone = browser.new_context(viewport=PHONE, base_url=live_server.url, storage_state=context.storage_state())
    small = phone.new_page()
    for url in (f"/backups/{backup.pk}/restore/", f"/restores/{restore.pk}/", f"/instances/{backup.instance_id}/"):
        small.goto(url)
        assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url
    phone.close()
    context.close()
    assert problems == []


def test_admin_rehearses_and_the_temporary_instance_is_deleted(
    browser,  # noqa: F811
    live_server,
    restore_world,
    celery_worker,
    simulator,
    screenshots,  # noqa: F811
):
    orders = restore_world.instances.get(name="orders-prod")
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    sign_in(page, "ada")
    page.goto(f"/instances/{orders.pk}/")
    page.get_by_role("button", name="Rehearse now").click()
    page.wait_for_url(re.compile(r"/restores/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Restore rehearsal of orders-prod")
    expect(page.locator(".head-status")).to_contain_text("Proven", timeout=60000)
    expect(page.locator(".alert-ok")).to_contain_text("has been deleted", timeout=60000)
    rehearsal = Restore.objects.get()
    assert rehearsal.cleanup_status == Restore.Cleanup.DELETED
    assert rehearsal.target_name not in [i["name"] for i in simulator.instances()]
    screenshots(page, "restore-rehearsal", full_page=True)

    page.goto(f"/instances/{orders.pk}/")
    expect(page.locator(".restore-proof")).to_contain_text("Last proven restore")

    # Point in time: the window arrives after the page, in its own request.
    page.get_by_role("link", name="Restore to a point in time…").click()
    expect(page.locator("#restore-window")).to_contain_text("The cloud can restore orders-prod to any time")
    expect(page.get_by_label("Restore to", exact=True)).to_be_visible()
    expect(page.locator("#main")).to_contain_text("In your time zone, UTC")  # the browser's, here
    screenshots(page, "restore-point-in-time")
    context.close()
