"""Rehearsals against the simulator, step by step: the temporary instance is timed, then
deleted, whatever became of the rehearsal; a restore's own instance is never deleted; a due
schedule starts one rehearsal."""

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from backups.cloud import client_for_project
from notifications.models import Event
from restores import publish
from restores.lifecycle import restore_transition
from restores.models import RehearsalSchedule, Restore
from restores.services import cleanup, rehearsals, submission
from restores.services.requests import restore_request
from restores.services.tracking import restores_poll
from tests.restores.services.conftest import PASSWORD, cloud_instances_named, lapse
from tests.restores.services.test_submission import poll_until_ended, submit_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_restores")]

Cleanup = Restore.Cleanup


def clean_up(restore_id: int, timeout: float = 20) -> Restore:
    """Run the clean-up as the worker and the poll would, until the instance is deleted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = timezone.now()
        Restore.objects.filter(pk=restore_id).update(delete_next_attempt_at=now, next_poll_at=now)
        cleanup.rehearsal_instance_delete(restore_id=restore_id)
        restores_poll()
        restore = Restore.objects.get(pk=restore_id)
        if restore.cleanup_status == Cleanup.DELETED:
            return restore
        time.sleep(0.3)
    pytest.fail(f"rehearsal {restore_id}'s instance was not deleted within {timeout} s")


def test_a_rehearsal_is_timed_then_its_temporary_instance_deleted(simulator, instance, backup):
    rehearsal = rehearsals.rehearsal_request(instance=instance, user=None)
    submitted = submit_due(rehearsal.pk)
    assert submitted.status == Restore.Status.RESTORING
    assert submitted.node_count == 3  # copied from the source
    assert len(cloud_instances_named(simulator, rehearsal.target_name)) == 1

    ended = poll_until_ended(rehearsal.pk)
    assert ended.status == Restore.Status.COMPLETED, ended.error_message
    assert ended.rto is not None
    assert ended.cleanup_status == Cleanup.PENDING
    assert Event.objects.filter(kind="rehearsal_passed").exists()

    deleted = clean_up(rehearsal.pk)
    assert deleted.deleted_at is not None
    assert cloud_instances_named(simulator, rehearsal.target_name) == []
    assert simulator.counters()["by_kind"]["delete_instance"] == 1


def test_a_failed_rehearsal_deletes_the_instance_it_made(simulator, instance, backup):
    simulator.configure(restore_failure_rate=1.0)
    rehearsal = rehearsals.rehearsal_request(instance=instance, user=None)
    ended = poll_until_ended(submit_due(rehearsal.pk).pk)
    assert ended.status == Restore.Status.FAILED
    assert ended.cleanup_status == Cleanup.PENDING
    assert len(cloud_instances_named(simulator, rehearsal.target_name)) == 1  # createfail, still billed

    clean_up(rehearsal.pk)
    assert cloud_instances_named(simulator, rehearsal.target_name) == []


def test_the_sweeper_gives_up_a_rehearsal_whose_worker_died_mid_create_and_deletes_its_instance(
    simulator, project, instance, backup
):
    rehearsal = rehearsals.rehearsal_request(instance=instance, user=None)
    # What a worker does before it dies waiting for the create's answer: claim, send the create.
    assert submission.submit_claim(restore_id=rehearsal.pk) is not None
    rehearsal = Restore.objects.select_related("project", "source_instance", "backup").get(pk=rehearsal.pk)
    client = client_for_project(project)
    assert submission._rehearsal_spec_copy(client, rehearsal)
    client.create_instance(submission._new_instance(rehearsal))
    # ...and its lease lapses.
    lapse(rehearsal.pk)

    cleanup.rehearsals_sweep()

    rehearsal.refresh_from_db()
    assert rehearsal.status == Restore.Status.FAILED
    assert rehearsal.error_code == "WORKER_LOST"
    assert rehearsal.cleanup_status == Cleanup.PENDING
    assert rehearsal.instance_cloud_id == ""  # the answer never came: found by its name
    deleted = clean_up(rehearsal.pk)
    assert deleted.instance_cloud_id
    assert cloud_instances_named(simulator, rehearsal.target_name) == []


def test_a_rehearsal_that_made_no_instance_needs_no_delete(simulator, instance, backup):
    rehearsal = rehearsals.rehearsal_request(instance=instance, user=None)
    assert submission.submit_claim(restore_id=rehearsal.pk) is not None
    lapse(rehearsal.pk)
    cleanup.rehearsals_sweep()

    deleted = clean_up(rehearsal.pk)
    assert simulator.counters()["by_kind"].get("delete_instance", 0) == 0
    assert deleted.events.last().message.startswith("No temporary instance was made")


def test_a_restores_new_instance_is_never_deleted_by_the_clean_up(simulator, backup, requester, spec):
    restore = restore_request(backup=backup, user=requester, target_name="orders-restored", password=PASSWORD, **spec)
    restore = poll_until_ended(submit_due(restore.pk).pk)
    assert restore.status == Restore.Status.COMPLETED
    # Even a row that claims to need a clean-up is not a rehearsal's: nothing is sent.
    Restore.objects.filter(pk=restore.pk).update(cleanup_status=Cleanup.PENDING, delete_next_attempt_at=timezone.now())
    cleanup.rehearsal_instance_delete(restore_id=restore.pk)
    assert len(cloud_instances_named(simulator, "orders-restored")) == 1
    assert simulator.counters()["by_kind"].get("delete_instance", 0) == 0


def test_a_due_schedule_starts_one_rehearsal_and_moves_on(instance, backup, requester):
    schedule = rehearsals.rehearsal_schedule_set(instance=instance, user=requester, enabled=True, every_days=30)
    assert schedule.next_due_at > timezone.now() + timedelta(days=29)
    assert rehearsals.rehearsals_schedule_due() == 0  # not due yet

    RehearsalSchedule.objects.filter(pk=schedule.pk).update(next_due_at=timezone.now() - timedelta(minutes=1))
    assert rehearsals.rehearsals_schedule_due() == 1
    assert rehearsals.rehearsals_schedule_due() == 0  # moved on: one rehearsal per due date

    rehearsal = Restore.objects.get(kind=Restore.Kind.REHEARSAL)
    assert rehearsal.source_instance == instance
    assert rehearsal.requested_by is None
    schedule.refresh_from_db()
    assert schedule.next_due_at > timezone.now() + timedelta(days=29)


def test_a_schedule_interval_out_of_range_is_refused(instance, requester):
    with pytest.raises(ValidationError):
        rehearsals.rehearsal_schedule_set(instance=instance, user=requester, enabled=True, every_days=0)
    assert not RehearsalSchedule.objects.exists()


def test_a_delete_the_cloud_refuses_while_the_instance_is_being_made_is_tried_again(simulator, instance, backup):
    simulator.configure(job_seconds=4)
    rehearsal = rehearsals.rehearsal_request(instance=instance, user=None)
    assert submit_due(rehearsal.pk).status == Restore.Status.RESTORING
    # Given up while the cloud is still making the instance (say, an operator's decision).
    restore_transition(rehearsal.pk, Restore.Status.FAILED, event=None, error_code="LOST")

    cleanup.rehearsal_instance_delete(restore_id=rehearsal.pk)

    rehearsal.refresh_from_db()
    assert rehearsal.cleanup_status == Cleanup.PENDING
    assert rehearsal.delete_next_attempt_at > timezone.now()
    assert "cannot delete it yet" in rehearsal.events.last().message
    clean_up(rehearsal.pk)
    assert cloud_instances_named(simulator, rehearsal.target_name) == []


def test_the_sweep_publishes_a_clean_up_the_broker_did_not_take(monkeypatch, instance, backup):
    rehearsal = rehearsals.rehearsal_request(instance=instance, user=None)
    Restore.objects.filter(pk=rehearsal.pk).update(status=Restore.Status.FAILED)
    sent = []
    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: sent.append((task_name, *args)))
    Restore.objects.filter(pk=rehearsal.pk).update(
        cleanup_status=Cleanup.PENDING, delete_next_attempt_at=timezone.now(), delete_enqueued_at=None
    )

    cleanup.rehearsals_sweep()
    cleanup.rehearsals_sweep()  # handed over a moment ago: not again

    assert sent == [(publish.DELETE_REHEARSAL_INSTANCE, rehearsal.pk)]
