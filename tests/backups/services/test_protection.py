"""The protection status stored on each instance, kept current, and one event per change
(recorded by the notifications app: notifications.models.Event)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups import timeline
from backups.lifecycle import backup_transition
from backups.models import Backup, BackupEvent, Instance
from backups.services.protection import instance_protection_update, instances_protection_update
from backups.services.tracking import backups_watchdog
from notifications.events import EventKind
from notifications.models import Event
from tests.factories import BackupFactory, CloudProjectFactory, InstanceFactory

pytestmark = pytest.mark.django_db
Protection = Instance.Protection
Status = Backup.Status
DAILY = {"policy_keep_days": 7, "policy_start_time": "01:00-02:00", "policy_period": "1,2,3,4,5,6,7"}


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def events(kind=None) -> list[Event]:
    found = Event.objects.order_by("id")
    return list(found.filter(kind=kind) if kind else found)


@pytest.fixture
def instance(db):
    return InstanceFactory(project=CloudProjectFactory(rpo_hours=24), **DAILY)


def refreshed(instance) -> Instance:
    instance.refresh_from_db()
    return instance


def test_first_assessment_of_a_protected_instance_is_stored_without_news(instance):
    BackupFactory(instance=instance, finished_at=ago(hours=2))
    assert instance_protection_update(instance_id=instance.pk) is True
    instance = refreshed(instance)
    assert instance.protection_status == Protection.PROTECTED
    assert instance.protection_changed_at is not None
    assert instance.protection_next_step == "Nothing to do."
    assert events() == []


def test_time_alone_makes_an_instance_unprotected_once(instance):
    BackupFactory(instance=instance, finished_at=ago(hours=2))
    instance_protection_update(instance_id=instance.pk)
    Backup.objects.update(finished_at=ago(hours=25))
    assert instances_protection_update() == 1
    assert instances_protection_update() == 0  # the same status again is no change
    instance = refreshed(instance)
    assert instance.protection_status == Protection.UNPROTECTED
    [event] = events()
    assert event.kind == EventKind.INSTANCE_UNPROTECTED
    assert event.key == f"instance:{instance.pk}:unprotected:{instance.protection_changed_at.isoformat()}"
    assert event.reason == instance.protection_reason
    assert "No completed backup in the last 24 hours" in event.reason


def test_an_instance_that_never_had_a_backup_is_unprotected_from_the_start(instance):
    instance_protection_update(instance_id=instance.pk)
    assert refreshed(instance).protection_status == Protection.UNPROTECTED
    assert [e.kind for e in events()] == [EventKind.INSTANCE_UNPROTECTED]


def test_a_completed_backup_protects_it_again_and_says_so(instance):
    instance_protection_update(instance_id=instance.pk)
    backup = BackupFactory(instance=instance, running=True)
    backup_transition(backup.pk, Status.COMPLETED, event=BackupEvent.Kind.COMPLETED, finished_at=timezone.now())
    assert refreshed(instance).protection_status == Protection.PROTECTED
    assert [e.kind for e in events()] == [
        EventKind.INSTANCE_UNPROTECTED,
        EventKind.BACKUP_COMPLETED,
        EventKind.INSTANCE_PROTECTED,
    ]


def test_a_failed_backup_notifies_once_and_puts_the_instance_at_risk(instance):
    # Just finished: protected at any time of day (3 hours back, the daily window could come
    # after the RPO deadline, and the instance would be at risk before the failure).
    BackupFactory(instance=instance, finished_at=ago(minutes=1), requested_at=ago(hours=2))
    instance_protection_update(instance_id=instance.pk)
    backup = BackupFactory(instance=instance, running=True)
    for _ in range(2):  # a late poll reports the same failure again
        backup_transition(
            backup.pk,
            Status.FAILED,
            event=BackupEvent.Kind.FAILED,
            message=timeline.line(timeline.FAILED, reason="disk full"),
            error_code="JOB_FAILED",
        )
    failed, at_risk = events()
    assert (failed.kind, failed.key, failed.reason, failed.backup_id) == (
        EventKind.BACKUP_FAILED,
        f"backup:{backup.pk}:failed",
        "disk full",
        backup.pk,
    )
    assert at_risk.kind == EventKind.INSTANCE_AT_RISK
    assert backup.name in at_risk.reason


def test_a_lost_backup_notifies(instance):
    backup = BackupFactory(instance=instance, running=True)
    backup_transition(backup.pk, Status.UNKNOWN, event=BackupEvent.Kind.UNKNOWN, error_code="LOST")
    assert EventKind.BACKUP_LOST in [e.kind for e in events()]


def test_an_overdue_backup_notifies_once(instance):
    backup = BackupFactory(instance=instance, running=True, started_at=ago(hours=7))
    assert backups_watchdog() == 1
    assert backups_watchdog() == 0
    [event] = events(EventKind.BACKUP_LOST)
    assert event.key == f"backup:{backup.pk}:overdue"


def test_policy_off_puts_it_at_risk_with_the_next_step(instance):
    BackupFactory(instance=instance, finished_at=ago(hours=2))
    Instance.objects.filter(pk=instance.pk).update(policy_keep_days=0, policy_start_time="", policy_period="")
    instance_protection_update(instance_id=instance.pk)
    instance = refreshed(instance)
    assert instance.protection_status == Protection.AT_RISK
    assert "policy is off" in instance.protection_reason
    assert "switch the policy on" in instance.protection_next_step


def test_the_instance_rpo_overrides_the_projects(instance):
    BackupFactory(instance=instance, finished_at=ago(hours=30))
    instance_protection_update(instance_id=instance.pk)
    assert refreshed(instance).protection_status == Protection.UNPROTECTED
    Instance.objects.filter(pk=instance.pk).update(rpo_hours=72)
    instance_protection_update(instance_id=instance.pk)
    assert refreshed(instance).protection_status == Protection.PROTECTED


def test_backups_deleted_in_the_cloud_do_not_protect(instance):
    BackupFactory(instance=instance, finished_at=ago(hours=2), deleted_in_cloud_at=ago(hours=1))
    instance_protection_update(instance_id=instance.pk)
    assert refreshed(instance).protection_status == Protection.UNPROTECTED


def test_gone_instances_are_not_assessed(instance):
    Instance.objects.filter(pk=instance.pk).update(gone_at=timezone.now())
    assert instance_protection_update(instance_id=instance.pk) is False
    assert refreshed(instance).protection_status == ""
