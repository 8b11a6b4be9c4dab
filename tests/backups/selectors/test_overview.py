"""The overview's selector at the edges the page tests do not reach: which instances are stale,
what the 7-day counts take in, and that another project's rows never count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups.models import Backup
from backups.selectors.overview import overview_for
from tests.factories import BackupFactory, InstanceFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(**kwargs):
    return NOW - timedelta(**kwargs)


def test_stale_means_no_success_ended_in_the_last_seven_days(operator, project):
    fresh = InstanceFactory(project=project, name="fresh")
    BackupFactory(instance=fresh, requested_at=ago(days=1))
    # Requested before the window, ended inside it: a success of the last seven days.
    straddling = InstanceFactory(project=project, name="straddling")
    BackupFactory(instance=straddling, requested_at=ago(days=7, hours=2), finished_at=ago(days=6))
    old = InstanceFactory(project=project, name="old")
    BackupFactory(instance=old, requested_at=ago(days=20), finished_at=ago(days=20))
    # A recent failure or a running backup is no success.
    failing = InstanceFactory(project=project, name="failing")
    BackupFactory(instance=failing, requested_at=ago(days=9), finished_at=ago(days=9))
    BackupFactory(instance=failing, failed=True, requested_at=ago(days=1))
    never = InstanceFactory(project=project, name="never")
    BackupFactory(instance=never, running=True, requested_at=ago(minutes=5))
    gone = InstanceFactory(project=project, name="gone", gone_at=ago(days=3))
    BackupFactory(instance=gone, requested_at=ago(days=30), finished_at=ago(days=30))

    overview = overview_for(operator, now=NOW)

    # Never-succeeded first, then the longest without a success.
    assert [i.name for i in overview.stale] == ["never", "old", "failing"]
    assert [i.last_success for i in overview.stale] == [None, ago(days=20), ago(days=9)]
    assert all(i.project == project for i in overview.stale)


def test_stale_shows_ten_and_says_there_are_more(operator, project):
    for n in range(12):
        InstanceFactory(project=project, name=f"idle-{n:02d}")
    overview = overview_for(operator, now=NOW)
    assert len(overview.stale) == 10
    assert overview.stale_more


def test_the_counts_take_the_last_seven_days_only(operator, project):
    instance = InstanceFactory(project=project)
    BackupFactory(instance=instance, requested_at=ago(days=1))
    BackupFactory(instance=instance, requested_at=ago(days=6))
    BackupFactory(instance=instance, failed=True, requested_at=ago(days=2))
    BackupFactory(instance=instance, status=Backup.Status.UNKNOWN, requested_at=ago(days=3))
    BackupFactory(instance=instance, requested_at=ago(days=8))
    BackupFactory(instance=instance, failed=True, requested_at=ago(days=8))
    overview = overview_for(operator, now=NOW)
    assert (overview.completed, overview.failed, overview.success_rate) == (2, 2, 50)


def test_another_projects_rows_never_count(operator, project, other_project):
    elsewhere = InstanceFactory(project=other_project, name="elsewhere-idle")
    BackupFactory(instance=elsewhere, requested_at=ago(days=1))
    BackupFactory(instance=elsewhere, failed=True, requested_at=ago(hours=3))
    BackupFactory(instance=InstanceFactory(project=other_project), running=True)
    InstanceFactory(project=other_project, name="elsewhere-never")
    mine = InstanceFactory(project=project, name="mine")
    BackupFactory(instance=mine, requested_at=ago(days=1))

    overview = overview_for(operator, now=NOW)

    assert (overview.completed, overview.failed) == (1, 0)
    assert overview.attention == []
    assert overview.running == []
    assert overview.stale == []
