"""Protection at a glance in headless Chromium: the overview's counts, the instance page with
its status, policy and forms, and switching automated backups off (asked twice), against the
simulator over real HTTP. Screenshots as in test_backup_flow.py."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access.models import Membership
from backups.models import Backup
from backups.services.protection import instances_protection_update
from tests.factories import BackupFactory, MembershipFactory, UserFactory

from .test_backup_flow import DESKTOP, PASSWORD, PHONE, browser, console_world, screenshots  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_admin_sees_protection_and_switches_the_policy_off(browser, live_server, console_world, simulator, screenshots):  # noqa: F811
    project = console_world
    admin = UserFactory(username="ada-admin", first_name="Ada", last_name="Admin", password=PASSWORD)
    MembershipFactory(user=admin, project=project, role=Membership.Role.ADMIN)
    orders = project.instances.get(name="orders-prod")
    BackupFactory(
        instance=orders,
        name="orders-prod-auto-1",
        origin=Backup.Origin.CLOUD_AUTO,
        requested_by=None,
        # Finished just now, so its 24-hour RPO outlasts the wait for the daily policy's next
        # run at any time of day. (Finished 3 hours ago, it left the instance "At risk" when
        # the test ran in the 3 hours after the policy's window.)
        requested_at=timezone.now() - timedelta(minutes=4),
        finished_at=timezone.now(),
    )
    instances_protection_update(project=project)

    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ada-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_label("Protection of your instances")).to_contain_text("Unprotected")
    screenshots(page, "overview-protection", full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    row = page.locator("tr", has_text="orders-prod")
    expect(page.locator("tr", has_text="payments-prod")).to_contain_text("Unprotected")
    screenshots(page, "instances-protection")
    row.get_by_role("link", name="orders-prod", exact=True).click()
    expect(page.locator(".protection")).to_contain_text("Protected")
    expect(page.locator(".protection")).to_contain_text("Nothing to do.")
    expect(page.locator("[aria-labelledby=policy-title] .facts")).to_contain_text("16:00\N{EN DASH}17:00 UTC")
    screenshots(page, "instance-protected", full_page=True)

    # Switching automated backups off is asked twice.
    page.get_by_label("Keep automated backups for (days)").fill("0")
    page.get_by_role("button", name="Save in the cloud").click()
    expect(page.locator("#policy-form")).to_contain_text("Switch automated backups of orders-prod off?")
    screenshots(page, "instance-confirm-off", full_page=True)
    page.get_by_role("button", name="Yes, switch automated backups off").click()
    expect(page.locator(".messages")).to_contain_text("Automated backups of orders-prod: off")
    expect(page.locator(".protection")).to_contain_text("At risk")
    assert simulator.policy(orders.cloud_id)["keep_days"] == 0
    screenshots(page, "instance-at-risk", full_page=True)

    phone = browser.new_context(viewport=PHONE, base_url=live_server.url, storage_state=context.storage_state())
    small = phone.new_page()
    small.goto(f"/instances/{orders.pk}/")
    expect(small.locator(".protection")).to_contain_text("At risk")
    screenshots(small, "instance-phone", full_page=True)
    phone.close()
    context.close()
    assert problems == []
