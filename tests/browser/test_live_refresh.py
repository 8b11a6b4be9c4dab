"""Live refresh in headless Chromium: one open history page sends one request per refresh
interval however many of its rows run, swaps only the row that changed, shows each row's
final state and then stops asking; in between, running durations count on in the browser.
Requests are counted as the browser sends them."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access.models import Membership
from backups.models import Backup
from tests.factories import BackupFactory, CloudProjectFactory, InstanceFactory, MembershipFactory, UserFactory

from .test_backup_flow import DESKTOP, PASSWORD, PHONE, browser, screenshots, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser]

RUNNING_ROWS = 8
INTERVAL_SECONDS = 2  # the table's hx-trigger="every 2s"


@pytest.fixture
def busy_history(settings, transactional_db):
    """A viewer's project with RUNNING_ROWS running backups and some finished ones."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    project = CloudProjectFactory(name="eu-de_busy")
    viewer = UserFactory(username="watcher", password=PASSWORD)
    MembershipFactory(user=viewer, project=project, role=Membership.Role.VIEWER)
    for _ in range(5):
        BackupFactory(instance=InstanceFactory(project=project), requested_at=timezone.now() - timedelta(days=1))
    # Started seconds ago, so their durations are shown to the second.
    return [
        BackupFactory(
            instance=InstanceFactory(project=project),
            running=True,
            progress=10,
            requested_at=timezone.now() - timedelta(seconds=30 + n),
        )
        for n in range(RUNNING_ROWS)
    ]


def test_one_history_page_sends_one_request_per_interval(browser, live_server, busy_history, screenshots):  # noqa: F811
    running = busy_history
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sent, answers = [], []
    page.on("request", lambda request: sent.append(request.url))
    page.on("response", lambda response: answers.append((response.url, response.status)))

    sign_in(page, "watcher")
    page.goto("/history/")
    expect(page.locator("tr.is-active")).to_have_count(RUNNING_ROWS)

    # Quiet data: one request per interval for all the rows, each answered 204 (no swap),
    # while the rows' "so far" durations count on in the browser.
    so_far = page.locator(f"#backup-{running[0].pk} td[data-label=Duration]")
    started = page.locator(f"#backup-{running[0].pk} td[data-label=Started] time")
    before = so_far.inner_text(), started.inner_text()
    sent.clear()
    answers.clear()
    page.wait_for_timeout(4 * INTERVAL_SECONDS * 1000 + 500)
    assert so_far.inner_text() != before[0]
    assert so_far.inner_text().endswith(" s so far")
    assert started.inner_text() != before[1]
    assert started.inner_text().endswith(" s ago")
    expect(started).to_have_attribute("title", re.compile(r"UTC$"))  # the exact time stays on hover
    polls = [url for url in sent if urlsplit(url).path == "/history/live/"]
    assert sent == polls, "nothing but the table's poll is sent"
    assert 3 <= len(polls) <= 5, polls  # 4 intervals, one each (a poll may straddle an edge)
    assert len(parse_qs(urlsplit(polls[-1]).query)["live"]) == RUNNING_ROWS
    assert {status for _, status in answers} == {204}

    # A pass gone stale (access.pollpass: a minute old): the next poll signs in and hands the
    # page a fresh one, which the polls after it carry, answered 204 again.
    page.locator("#poll-pass").evaluate("input => input.value = 'stale'")
    answers.clear()
    expect(page.locator("#poll-pass")).not_to_have_value("stale", timeout=5_000)
    page.wait_for_timeout(2 * INTERVAL_SECONDS * 1000)
    assert answers[0][1] == 200
    assert answers[-1][1] == 204

    # One backup moves on: its row alone is swapped, the others stay as they are.
    untouched = page.locator(f"#backup-{running[0].pk}").element_handle()
    Backup.objects.filter(pk=running[3].pk).update(progress=80)
    expect(page.locator(f"#backup-{running[3].pk} progress")).to_have_attribute("value", "80")
    assert untouched.evaluate("row => row.isConnected")  # not re-rendered
    screenshots(page, "history-live")
    page.set_viewport_size(PHONE)
    screenshots(page, "history-live-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # All end: each row shows its final state, then the page stops asking.
    now = timezone.now()
    Backup.objects.filter(pk__in=[b.pk for b in running]).update(
        status=Backup.Status.COMPLETED, progress=100, finished_at=now, size_kb=3 * 1024 * 1024
    )
    expect(page.locator("tr.is-active")).to_have_count(0, timeout=10_000)
    for backup in running:
        row = page.locator(f"#backup-{backup.pk}")
        expect(row).to_contain_text("Completed")
        expect(row).to_contain_text("3.0 GB")
    assert any(status == 286 for url, status in answers if "/history/live/" in url)
    sent.clear()
    page.wait_for_timeout(2 * INTERVAL_SECONDS * 1000 + 500)
    assert sent == []
    context.close()
    assert problems == []
