"""A backup's page: its timeline, the cloud's ids, what to do after a failure, live while active."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.urls import reverse

from backups.explanations import explain
from backups.models import BackupEvent
from tests.factories import BackupEventFactory, BackupFactory
from tests.helpers import HTMX, is_fragment, text

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def detail_url(backup):
    return reverse("backups:backup_detail", args=[backup.pk])


def timeline(backup, *events):
    for offset, (kind, message) in enumerate(events):
        BackupEventFactory(backup=backup, kind=kind, message=message, at=T0 + timedelta(seconds=offset))


def test_completed_backup_shows_its_whole_story(operator_client, instance, operator):
    backup = BackupFactory(
        instance=instance,
        requested_by=operator,
        requested_at=T0,
        started_at=T0 + timedelta(seconds=3),
        finished_at=T0 + timedelta(minutes=3, seconds=3),
        size_kb=5 * 1024 * 1024,
        job_id="job-123",
        backup_id="bk-456",
    )
    timeline(
        backup,
        (BackupEvent.Kind.REQUESTED, "by Oscar Operator"),
        (BackupEvent.Kind.SUBMITTED, "Cloud job job-123, backup bk-456"),
        (BackupEvent.Kind.PROGRESS, "50%"),
        (BackupEvent.Kind.COMPLETED, "5.00 GB in 3 min 0 s"),
    )
    response = operator_client.get(detail_url(backup))
    assert response.status_code == 200
    html = text(response)
    for expected in (
        "Requested</span>",
        "by Oscar Operator",
        "Cloud job job-123, backup bk-456",
        "50% done",
        "5.00 GB in 3 min 0 s",
        "5.0 GB",
        "3 min 00 s",
        "2026-05-01 12:00:00 UTC",
        "job-123",
        "bk-456",
        instance.cloud_id,
        "This console",
    ):
        assert expected in html
    assert "hx-trigger" not in html  # nothing to follow any more


def test_failed_backup_says_what_happened_and_what_to_do(operator_client, instance):
    backup = BackupFactory(instance=instance, failed=True)
    timeline(backup, (BackupEvent.Kind.FAILED, "DBS.201015: Another operation is being performed on the instance."))
    html = text(operator_client.get(detail_url(backup)))
    explanation = explain("DBS.201015")
    assert "DBS.201015" in html
    assert "Another operation is being performed on the instance." in html
    assert explanation.summary in html
    assert explanation.next_step in html


LIVE_URL = re.compile(r'hx-get="([^"]+)" hx-trigger="every 2s"')


def test_active_backup_page_refreshes_itself_until_it_ends(operator_client, instance):
    backup = BackupFactory(instance=instance, running=True, progress=25)
    poll_url = unescape(LIVE_URL.search(text(operator_client.get(detail_url(backup)))).group(1))
    assert poll_url.startswith(f"{detail_url(backup)}live/?seen=")
    assert "&poll=" in poll_url  # the page's poll pass (access.pollpass)
    # Nothing changed since the page was drawn: nothing to swap.
    unchanged = operator_client.get(poll_url, **HTMX)
    assert unchanged.status_code == 204
    assert unchanged.content == b""
    backup.progress = 60
    backup.save()
    live = operator_client.get(poll_url, **HTMX)
    assert live.status_code == 200
    assert is_fragment(live)
    assert "60% done" in text(live)
    poll_url = unescape(LIVE_URL.search(text(live)).group(1))  # what the swapped part polls next
    assert operator_client.get(poll_url, **HTMX).status_code == 204
    timeline(backup, (BackupEvent.Kind.NOTE, "a new line in the timeline"))
    assert "a new line in the timeline" in text(operator_client.get(poll_url, **HTMX))
    backup.status, backup.progress, backup.finished_at = "completed", 100, backup.started_at + timedelta(minutes=1)
    backup.save()
    ended = operator_client.get(poll_url, **HTMX)
    assert ended.status_code == 286
    assert "hx-trigger" not in text(ended)
    assert "status-completed" in text(ended)


def test_an_unchanged_detail_poll_renders_nothing_and_makes_few_queries(
    operator_client, instance, django_assert_max_num_queries
):
    backup = BackupFactory(instance=instance, running=True)
    timeline(backup, *[(BackupEvent.Kind.PROGRESS, f"{n}%") for n in range(30)])
    poll_url = unescape(LIVE_URL.search(text(operator_client.get(detail_url(backup)))).group(1))
    # The backup and its timeline, as plain values: the user and their projects come from the
    # poll's pass; no model, no template.
    with django_assert_max_num_queries(2):
        response = operator_client.get(poll_url, **HTMX)
    assert response.status_code == 204
    assert not response.templates


def test_viewer_may_look_but_is_not_offered_another_backup(viewer_client, instance):
    backup = BackupFactory(instance=instance)
    html = text(viewer_client.get(detail_url(backup)))
    assert backup.name in html
    assert "Back up orders-prod again" not in html


def test_operator_is_offered_another_backup(operator_client, instance):
    backup = BackupFactory(instance=instance)
    assert "Back up orders-prod again" in text(operator_client.get(detail_url(backup)))


def test_outsider_gets_404(outsider_client, instance):
    backup = BackupFactory(instance=instance)
    assert outsider_client.get(detail_url(backup)).status_code == 404
    assert outsider_client.get(detail_url(backup), **HTMX).status_code == 404


@pytest.mark.parametrize("events", [1, 60])
def test_detail_page_makes_a_bounded_number_of_queries(
    operator_client, instance, events, django_assert_max_num_queries
):
    backup = BackupFactory(instance=instance)
    timeline(backup, *[(BackupEvent.Kind.NOTE, f"note {n}") for n in range(events)])
    with django_assert_max_num_queries(10):
        operator_client.get(detail_url(backup))


def test_a_backup_poll_answers_only_within_its_passs_projects(operator_client, outsider_client, instance):
    backup = BackupFactory(instance=instance, running=True)
    poll_url = unescape(LIVE_URL.search(text(operator_client.get(detail_url(backup)))).group(1))
    # Someone else's session with this page's pass signs in as themselves: not theirs, 404.
    assert outsider_client.get(poll_url, **HTMX).status_code == 404
    assert operator_client.get(poll_url, **HTMX).status_code == 204
