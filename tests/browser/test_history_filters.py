"""The history's instance filter in headless Chromium: its options arrive in their own request
once the page is shown, and choosing one filters the table."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access.models import Membership
from tests.factories import BackupFactory, CloudProjectFactory, InstanceFactory, MembershipFactory, UserFactory

from .test_backup_flow import DESKTOP, PASSWORD, browser, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser]


def test_instance_filter_options_load_and_filter(browser, live_server, settings, transactional_db):  # noqa: F811
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    project = CloudProjectFactory(name="eu-de_filters")
    viewer = UserFactory(username="filterer", password=PASSWORD)
    MembershipFactory(user=viewer, project=project, role=Membership.Role.VIEWER)
    for name in ("orders", "billing", "search"):
        instance = InstanceFactory(project=project, name=name)
        BackupFactory(instance=instance, name=f"{name}-nightly", requested_at=timezone.now() - timedelta(hours=1))
    other = InstanceFactory(project=CloudProjectFactory(name="eu-de_elsewhere"), name="not-yours")

    page = browser.new_context(viewport=DESKTOP, base_url=live_server.url).new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    sign_in(page, "filterer")
    page.goto("/history/")

    select = page.get_by_label("Instance")
    expect(select.locator("option")).to_have_count(4)  # "All instances" and the three
    expect(select.locator("option", has_text=other.name)).to_have_count(0)
    select.select_option(label="billing (eu-de_filters)")
    expect(page.locator("#history-results tbody tr")).to_have_count(1)
    expect(page.locator("#history-results")).to_contain_text("billing-nightly")
    # The form's request set the address; the options' request did not.
    assert urlsplit(page.url).path == "/history/"
    assert "instance=" in urlsplit(page.url).query
    # A reload keeps the choice, and the options load around it.
    page.reload()
    expect(page.get_by_label("Instance").locator("option")).to_have_count(4)
    expect(page.get_by_label("Instance")).to_have_value(str(project.instances.get(name="billing").pk))
    assert problems == []
