"""The overview: what runs, what failed and was not made up for, the success rate, stale instances."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from backups.models import Backup
from tests.factories import BackupFactory, InstanceFactory, UserFactory
from tests.helpers import HTMX, is_fragment, signed_in, text

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("backups:overview")
RUNNING = reverse("backups:overview_running")


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def test_overview_shows_running_failures_rate_and_stale_instances(operator_client, project):
    busy = InstanceFactory(project=project, name="busy")
    flaky = InstanceFactory(project=project, name="flaky")
    fixed = InstanceFactory(project=project, name="fixed")
    InstanceFactory(project=project, name="never-backed-up")
    old = InstanceFactory(project=project, name="backed-up-long-ago")
    BackupFactory(instance=old, requested_at=ago(days=30), finished_at=ago(days=30))
    BackupFactory(instance=busy, requested_at=ago(days=1))
    BackupFactory(instance=busy, running=True, name="busy-now", progress=70)
    BackupFactory(instance=flaky, requested_at=ago(days=2))
    BackupFactory(instance=flaky, failed=True, name="flaky-failed", requested_at=ago(hours=2))
    BackupFactory(instance=fixed, failed=True, name="fixed-failed", requested_at=ago(hours=5))
    BackupFactory(instance=fixed, requested_at=ago(hours=4))
    response = operator_client.get(OVERVIEW)
    overview = response.context["overview"]
    assert [b.name for b in overview.running] == ["busy-now"]
    assert [b.name for b in overview.attention] == ["flaky-failed"]  # "fixed" had a good backup since
    assert (overview.completed, overview.failed, overview.success_rate) == (3, 2, 60)
    assert {i.name for i in overview.stale} == {"never-backed-up", "backed-up-long-ago"}
    html = text(response)
    assert "60%" in html
    assert "Another operation is running on the instance" in html  # the failure, explained
    assert f'hx-get="{RUNNING}?seen=' in html
    assert 'hx-trigger="every 5s"' in html


PANEL_POLL = re.compile(r'hx-get="([^"]+)" hx-trigger="every 5s"')


def test_running_panel_polls_until_nothing_runs(operator_client, instance, project):
    backup = BackupFactory(instance=instance, running=True, name="going")
    poll_url = unescape(PANEL_POLL.search(text(operator_client.get(OVERVIEW))).group(1))
    # Unchanged since the page was drawn: nothing to swap.
    response = operator_client.get(poll_url, **HTMX)
    assert response.status_code == 204
    assert response.content == b""
    BackupFactory(instance=InstanceFactory(project=project), running=True, name="another")
    response = operator_client.get(poll_url, **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    assert "going" in text(response)
    assert "another" in text(response)
    poll_url = unescape(PANEL_POLL.search(text(response)).group(1))
    assert operator_client.get(poll_url, **HTMX).status_code == 204
    backup.progress = 90
    backup.save()
    assert operator_client.get(poll_url, **HTMX).status_code == 200
    Backup.objects.update(status="completed")
    response = operator_client.get(poll_url, **HTMX)
    assert response.status_code == 286
    assert "Nothing is running." in text(response)
    assert "hx-trigger" not in text(response)


def test_unchanged_running_panel_makes_one_query(operator_client, project, django_assert_num_queries):
    for _ in range(20):
        BackupFactory(instance=InstanceFactory(project=project), running=True)
    poll_url = unescape(PANEL_POLL.search(text(operator_client.get(OVERVIEW))).group(1))
    # What the running backups show, nothing else: the user's projects come from the poll's
    # pass (access.pollpass); nothing is built from them.
    with django_assert_num_queries(1):
        assert operator_client.get(poll_url, **HTMX).status_code == 204


def test_running_panel_ignores_a_garbled_fingerprint(operator_client, instance):
    BackupFactory(instance=instance, running=True, name="going")
    for seen in ("", "x" * 5000, "<script>", "\x00"):
        response = operator_client.get(RUNNING, {"seen": seen}, **HTMX)
        assert response.status_code == 200
        assert "going" in text(response)


def test_overview_counts_only_the_users_projects(outsider_client, instance):
    BackupFactory(instance=instance, failed=True, requested_at=ago(hours=1))
    overview = outsider_client.get(OVERVIEW).context["overview"]
    assert (overview.attention, overview.completed, overview.failed, overview.stale) == ([], 0, 0, [])


def test_overview_for_a_user_without_projects_says_what_to_do(db):
    response = signed_in(UserFactory()).get(OVERVIEW)
    assert response.status_code == 200
    assert "You are not a member of any cloud project yet." in text(response)


def test_quiet_overview_has_friendly_empty_states(operator_client, project):
    html = text(operator_client.get(OVERVIEW))
    assert "Nothing is running." in html
    assert "No backup ended in the last 7 days." in html
    assert "Every instance has a successful backup from the last 7 days." in html


@pytest.mark.parametrize("count", [1, 60])
def test_overview_makes_a_bounded_number_of_queries(operator_client, project, count, django_assert_max_num_queries):
    for n in range(count):
        instance = InstanceFactory(project=project)
        BackupFactory(instance=instance, failed=n % 2 == 0, requested_at=ago(hours=n))
        if n % 4 == 0:
            BackupFactory(instance=instance, running=True)
    # 9: the overview's 8, and one for the instances per protection status (read from the rows).
    with django_assert_max_num_queries(9):
        operator_client.get(OVERVIEW)


def test_stale_instances_never_backed_up_come_first_then_the_longest_ago(operator_client, project):
    never = InstanceFactory(project=project, name="never")
    BackupFactory(instance=never, failed=True, requested_at=ago(days=1))  # a failure is not a success
    month = InstanceFactory(project=project, name="a-month-ago")
    BackupFactory(instance=month, requested_at=ago(days=30), finished_at=ago(days=30))
    fortnight = InstanceFactory(project=project, name="a-fortnight-ago")
    BackupFactory(instance=fortnight, requested_at=ago(days=14), finished_at=ago(days=14))
    InstanceFactory(project=project, name="gone", gone_at=ago(days=1))
    # Requested before the 7 days, finished within them: that is a recent success.
    slow = InstanceFactory(project=project, name="slow-but-recent")
    BackupFactory(instance=slow, requested_at=ago(days=7, hours=2), finished_at=ago(days=6))
    stale = operator_client.get(OVERVIEW).context["overview"].stale
    assert [i.name for i in stale] == ["never", "a-month-ago", "a-fortnight-ago"]
    assert stale[0].last_success is None
    assert stale[0].project == project  # attached from the page's projects, not queried per row
