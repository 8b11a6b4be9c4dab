"""Requesting and submitting backups (services/submission.py), in-process against the simulator
over real HTTP. One step at a time, to pin down each rule; test_worker.py runs the same
path end to end through Celery."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from backups.models import Backup, BackupEvent, Instance
from backups.services import submission, sync, tracking

pytestmark = pytest.mark.django_db(transaction=True)


def request(instance, user, name="nightly-0001", description="before the upgrade"):
    return submission.backup_request(instance=instance, user=user, name=name, description=description)


def named(simulator, instance, name):
    return [b for b in simulator.backups(instance_id=instance.cloud_id) if b["name"] == name]


def test_request_is_recorded_queued_with_its_requester(instance, requester):
    backup = request(instance, requester)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED
    assert backup.requested_by == requester
    assert backup.origin == Backup.Origin.DASHBOARD
    assert list(backup.events.values_list("kind", flat=True)) == [BackupEvent.Kind.REQUESTED]


def test_invalid_request_changes_nothing_and_says_why(instance, requester):
    with pytest.raises(ValidationError) as error:
        request(instance, requester, name="9lives", description="a <b> tag")
    assert set(error.value.message_dict) == {"name", "description"}
    assert Backup.objects.count() == 0


def test_second_request_while_one_is_active_is_refused(instance, requester):
    request(instance, requester)
    with pytest.raises(ValidationError) as error:
        request(instance, requester, name="nightly-0002")
    assert "already queued" in error.value.message_dict[NON_FIELD_ERRORS][0]
    assert Backup.objects.count() == 1


def test_a_name_is_used_once_per_instance(instance, requester):
    first = request(instance, requester)
    Backup.objects.filter(pk=first.pk).update(status=Backup.Status.COMPLETED)
    with pytest.raises(ValidationError) as error:
        request(instance, requester)
    assert "already has a backup named nightly-0001" in error.value.message_dict["name"][0]


def test_instance_that_is_not_available_cannot_be_backed_up(instance, requester):
    Instance.objects.filter(pk=instance.pk).update(status="frozen")
    instance.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        request(instance, requester)
    assert "The instance is Frozen" in error.value.message_dict[NON_FIELD_ERRORS][0]


def test_submit_creates_one_cloud_backup_even_when_delivered_twice(instance, requester, simulator):
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    submission.backup_submit(backup_id=backup.pk)  # a duplicate delivery finds nothing to claim
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.job_id
    assert backup.backup_id
    assert len(named(simulator, instance, backup.name)) == 1
    assert simulator.counters()["by_kind"]["create_backup"] == 1


def test_dropped_connection_after_create_is_reconciled_not_resent(instance, requester, simulator):
    simulator.configure(drop_connection_after_create=1)
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED  # ambiguous: back in the outbox
    Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())  # as when the backoff is over
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.backup_id == named(simulator, instance, backup.name)[0]["id"]
    assert len(named(simulator, instance, backup.name)) == 1
    assert simulator.counters()["by_kind"]["create_backup"] == 1


def test_permanent_cloud_refusal_fails_the_backup_with_code_and_message(instance, requester, simulator):
    simulator.set_instance_status(instance.cloud_id, "frozen")  # the console still thinks it is normal
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "DBS.201015"
    assert backup.error_message
    assert backup.events.filter(kind=BackupEvent.Kind.FAILED).exists()


def test_system_busy_is_retried_later(instance, requester, simulator):
    simulator.configure(error_rate=1.0)
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED
    assert backup.next_attempt_at > timezone.now()
    assert backup.events.filter(kind=BackupEvent.Kind.RETRY).exists()


def test_gives_up_after_bounded_attempts(instance, requester, simulator):
    simulator.configure(error_rate=1.0)
    backup = request(instance, requester)
    for _ in range(submission.MAX_SUBMIT_ATTEMPTS):
        Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())
        submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "DBS.200998"
    assert backup.submit_attempts == submission.MAX_SUBMIT_ATTEMPTS


def test_a_spent_call_budget_defers_creation_but_leaves_room_for_polling(project, requester, simulator, settings):
    settings.CLOUD_CALLS_PER_MINUTE = 3  # creations may use 2 of them: the token call and one create
    simulator.configure(job_seconds=600)  # still running at the poll: one jobs-list call
    first, second = (simulator.add_instance(name) for name in ("orders-prod", "orders-dr"))
    sync.instances_sync(project=project)
    # Start the minute afresh: the sync spent calls of its own.
    from django.core.cache import cache

    cache.clear()
    backups = [request(Instance.objects.get(cloud_id=c["id"]), requester) for c in (first, second)]
    for backup in backups:
        submission.backup_submit(backup_id=backup.pk)
    running, deferred = (Backup.objects.get(pk=b.pk) for b in backups)
    assert running.status == Backup.Status.RUNNING
    assert deferred.status == Backup.Status.QUEUED
    assert deferred.submit_attempts == 0  # no call was made: not an attempt
    assert not deferred.events.filter(kind=BackupEvent.Kind.RETRY).exists()
    assert simulator.counters()["by_kind"]["create_backup"] == 1
    Backup.objects.filter(pk=running.pk).update(next_poll_at=timezone.now())
    assert tracking.backups_poll(project=project) == 1  # the reserved unit
