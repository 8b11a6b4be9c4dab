"""Restores and rehearsals through a real Celery worker (with beat) against the simulator:
the new instance becomes available; a worker killed with kill -9 while a rehearsal's create is
in flight leaves no temporary instance behind (the sweeper deletes it)."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from restores.models import RehearsalSchedule, Restore
from restores.services.rehearsals import rehearsal_request, rehearsal_schedule_set
from restores.services.requests import restore_request
from tests.fixtures.worker import WORKER_ENV, Worker, purge_broker, wait_for
from tests.restores.services.conftest import PASSWORD, cloud_instances_named

pytestmark = pytest.mark.integration

FAST = {
    **WORKER_ENV,
    "RESTORE_DISPATCH_SECONDS": "1",
    "RESTORE_POLL_TICK_SECONDS": "0.5",
    "RESTORE_POLL_SECONDS": "0.5",
    "BACKUP_SUBMIT_LEASE_SECONDS": "3",
    "REHEARSAL_SCHEDULE_SECONDS": "1",
}
# The simulator holds each call this long while the worker that is to die sends the create;
# the client's timeout must outlast it (WORKER_ENV's 2 s would not).
LATENCY_SECONDS = 3
SLOW_CLOUD = {name: value for name, value in FAST.items() if name != "CLOUD_TIMEOUT_SECONDS"}


@pytest.fixture
def worker_dir(tmp_path):
    purge_broker()
    yield tmp_path
    purge_broker()


def started(tmp_path, env, name) -> Worker:
    worker = Worker(tmp_path, env, name=name)
    worker.start()
    return worker


def test_a_restore_through_the_worker_makes_one_available_instance(
    transactional_db, worker_dir, simulator, backup, requester, spec
):
    worker = started(worker_dir, FAST, "worker")
    try:
        with transaction.atomic():  # published on commit, as after the form's POST
            restore = restore_request(
                backup=backup, user=requester, target_name="orders-restored", password=PASSWORD, **spec
            )

        def ended():
            row = Restore.objects.get(pk=restore.pk)
            return row if row.status in (Restore.Status.COMPLETED, Restore.Status.FAILED) else None

        restore = wait_for(ended, timeout=60, worker=worker)
    finally:
        worker.stop()
    assert restore.status == Restore.Status.COMPLETED, restore.error_message
    assert restore.rto is not None
    [made] = cloud_instances_named(simulator, "orders-restored")
    assert made["status"] == "normal"
    assert made["id"] == restore.instance_cloud_id
    assert PASSWORD not in worker.output()


def test_a_worker_killed_mid_rehearsal_leaves_no_temporary_instance(
    transactional_db, worker_dir, simulator, instance, backup
):
    first = started(worker_dir, SLOW_CLOUD, "first")
    try:
        time.sleep(2)  # the start-up sync, at full speed
        simulator.configure(latency_ms=LATENCY_SECONDS * 1000)
        with transaction.atomic():
            rehearsal = rehearsal_request(instance=instance, user=None)
        wait_for(lambda: f"submitting '{rehearsal.target_name}'" in first.output(), timeout=30, worker=first)
        # Then the name look-up and the source's spec (each held by the simulator), then the
        # create: once both have answered, the create is on its way when the worker dies.
        lookups_before = simulator.counters()["by_kind"].get("list_instances", 0)
        wait_for(
            lambda: simulator.counters()["by_kind"].get("list_instances", 0) >= lookups_before + 2,
            timeout=30,
            worker=first,
        )
        time.sleep(1)
    finally:
        first.kill()
    assert Restore.objects.get(pk=rehearsal.pk).status == Restore.Status.SUBMITTING
    # The held create is carried out after the worker is gone: a temporary instance nobody follows.
    wait_for(lambda: cloud_instances_named(simulator, rehearsal.target_name), timeout=10)
    simulator.configure(latency_ms=0)

    second = started(worker_dir, FAST, "second")
    try:

        def cleaned_up():
            row = Restore.objects.get(pk=rehearsal.pk)
            return row if row.cleanup_status == Restore.Cleanup.DELETED else None

        rehearsal = wait_for(cleaned_up, timeout=90, worker=second)
    finally:
        second.stop()
    assert rehearsal.status == Restore.Status.FAILED
    assert rehearsal.error_code == "WORKER_LOST"
    assert cloud_instances_named(simulator, rehearsal.target_name) == []
    assert simulator.counters()["by_kind"]["create_instance"] == 1


def test_a_due_schedule_runs_a_rehearsal_that_is_timed_and_cleaned_up(
    transactional_db, worker_dir, simulator, instance, backup, requester
):
    schedule = rehearsal_schedule_set(instance=instance, user=requester, enabled=True, every_days=30)
    RehearsalSchedule.objects.filter(pk=schedule.pk).update(next_due_at=timezone.now() - timedelta(seconds=1))
    worker = started(worker_dir, FAST, "worker")
    try:

        def proven_and_cleaned_up():
            return Restore.objects.filter(kind=Restore.Kind.REHEARSAL, cleanup_status=Restore.Cleanup.DELETED).first()

        # Not a timing goal: on Redis this takes seconds; on the embedded filesystem broker the
        # clean-up task has been seen to arrive 27-36 s after it was published, and under CI's
        # load the whole rehearsal ran past 60 s.
        rehearsal = wait_for(proven_and_cleaned_up, timeout=150, worker=worker)
    finally:
        worker.stop()
    assert rehearsal.status == Restore.Status.COMPLETED, rehearsal.error_message
    assert rehearsal.rto is not None
    assert Restore.objects.count() == 1
    assert cloud_instances_named(simulator, rehearsal.target_name) == []
    assert simulator.counters()["by_kind"]["create_instance"] == 1
