"""Protection on the list pages, the create dialog's window warning, explanations that point
only at what the page shows, and progress the cloud does not report."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from backups.explanations import explain
from backups.models import Instance
from backups.selectors.instances import preflight
from tests.factories import BackupFactory, InstanceFactory
from tests.helpers import HTMX, text

pytestmark = pytest.mark.django_db
Protection = Instance.Protection
INSTANCES = reverse("backups:instances")


def with_status(project, name, status):
    return InstanceFactory(
        project=project,
        name=name,
        protection_status=status,
        protection_reason=f"{name} because",
        protection_changed_at=timezone.now(),
    )


def test_instances_show_a_protection_badge_and_filter_by_it(operator_client, project):
    with_status(project, "safe", Protection.PROTECTED)
    with_status(project, "risky", Protection.AT_RISK)
    with_status(project, "bare", Protection.UNPROTECTED)
    html = text(operator_client.get(INSTANCES))
    assert '<span class="status status-unknown" title="risky because">At risk</span>' in html
    assert '<span class="status status-failed" title="bare because">Unprotected</span>' in html
    assert 'name="protection"' in html
    only = text(operator_client.get(INSTANCES, {"protection": "at_risk"}, **HTMX))
    assert "risky" in only
    assert "safe" not in only
    assert "bare" not in only


def test_instances_show_each_automated_policy_in_a_few_words(operator_client, project):
    InstanceFactory(project=project, name="daily", policy_keep_days=7, policy_start_time="01:00-02:00",
                    policy_period="1,2,3,4,5,6,7")  # fmt: skip
    InstanceFactory(project=project, name="off", policy_keep_days=0)
    InstanceFactory(project=project, name="unread", policy_keep_days=None)
    html = text(operator_client.get(INSTANCES))
    assert 'title="every day, 01:00-02:00 UTC, kept 7 days">automated 01:00 UTC, kept 7 d</span>' in html
    assert ">automated backups off</span>" in html
    assert ">policy not read yet</span>" in html


def test_overview_counts_instances_per_status_with_links(operator_client, project):
    with_status(project, "a", Protection.PROTECTED)
    with_status(project, "b", Protection.PROTECTED)
    with_status(project, "c", Protection.UNPROTECTED)
    InstanceFactory(project=project, name="new")
    response = operator_client.get(reverse("backups:overview"))
    counts = response.context["protection"]
    assert (counts.protected, counts.at_risk, counts.unprotected, counts.not_assessed) == (2, 0, 1, 1)
    assert f'href="{INSTANCES}?protection=unprotected"' in text(response)


def test_create_dialog_warns_inside_the_automated_window(project):
    instance = InstanceFactory(
        project=project, policy_keep_days=7, policy_start_time="01:00-02:00", policy_period="1,2,3,4,5,6,7"
    )
    inside = preflight(instance, now=datetime(2026, 12, 2, 1, 30, tzinfo=UTC))
    assert inside.window_open
    assert inside.window_text == "01:00\N{EN DASH}02:00 UTC"
    soon = preflight(instance, now=datetime(2026, 12, 2, 0, 45, tzinfo=UTC))  # opens within half an hour
    assert soon.window_clash
    assert not soon.window_open
    assert preflight(instance, now=datetime(2026, 12, 2, 10, 0, tzinfo=UTC)).window_clash is None
    instance.policy_keep_days = 0
    assert preflight(instance, now=datetime(2026, 12, 2, 1, 30, tzinfo=UTC)).window_clash is None


def test_create_dialog_shows_the_warning(operator_client, project):
    now = timezone.now().astimezone(UTC)
    window = f"{now:%H}:00-{(now.hour + 1) % 24:02d}:00"
    instance = InstanceFactory(
        project=project, policy_keep_days=7, policy_start_time=window, policy_period="1,2,3,4,5,6,7"
    )
    html = text(operator_client.get(reverse("backups:backup_create", args=[instance.pk]), **HTMX))
    assert "automated backup window is open now" in html
    assert "another operation is in progress" in html


def test_a_failure_without_a_reason_does_not_point_at_one(operator_client, instance):
    backup = BackupFactory(instance=instance, automated=True, failed=True, error_code="JOB_FAILED", error_message="")
    html = text(operator_client.get(reverse("backups:backup_detail", args=[backup.pk])))
    assert "without giving a reason" in html
    assert "reason below" not in html
    assert "Read the cloud" not in html


@pytest.mark.parametrize(
    ("code", "message", "points_at_reason"),
    [
        ("JOB_FAILED", "disk full", True),
        ("JOB_FAILED", "", False),
        ("DBS.999999", "something odd", True),
        ("DBS.999999", "", False),
    ],
)
def test_explanations_point_at_a_reason_only_when_there_is_one(code, message, points_at_reason):
    explanation = explain(code, message)
    assert ("Read the cloud" in explanation.next_step) is points_at_reason
    assert "below" not in explanation.next_step


def test_progress_the_cloud_does_not_report_is_unknown_not_zero(operator_client, instance):
    backup = BackupFactory(
        instance=instance, running=True, progress=None, started_at=timezone.now() - timedelta(minutes=3)
    )
    detail = text(operator_client.get(reverse("backups:backup_detail", args=[backup.pk])))
    assert "progress unknown" in detail
    # In what the page says, not in its attributes (a signed poll URL can hold "…0%3A…").
    assert not re.search(r"\b0\s?%", strip_tags(detail))
    history = text(operator_client.get(reverse("backups:history")))
    assert "progress unknown" in history


def test_times_to_come_read_in_so_long():
    from backups.templatetags.console import reltime

    assert ">in 5 h<" in reltime(timezone.now() + timedelta(hours=5, minutes=1))
    assert ">5 h ago<" in reltime(timezone.now() - timedelta(hours=5, minutes=1))
