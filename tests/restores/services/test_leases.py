"""The leases a worker holds on a restore (services/leases.py), in-process against the simulator
over real HTTP: a worker that stalled past its lease and was taken over writes nothing when it
wakes, whether it was sending the create or a rehearsal instance's delete; a heartbeat renews
only its own claim; leases lapse by the database's clock, whatever the hosts' clocks say.
test_worker.py kills a real worker."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from access.models import AuditEvent
from backups.cloud import AmbiguousRequest, client_for_project
from restores.lifecycle import restore_transition
from restores.models import Restore, RestoreEvent
from restores.services import cleanup, leases, rehearsals, submission
from restores.services.requests import restore_request, restores_dispatch_due
from tests.fixtures.simulator import wait_until
from tests.restores.services.conftest import PASSWORD, cloud_instances_named, lapse

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_restores")]

Status = Restore.Status
Cleanup = Restore.Cleanup


@pytest.fixture
def published(monkeypatch):
    """What the services and the sweeps hand to the broker: collected here."""
    sent = []
    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: sent.append(args))
    return sent


@pytest.fixture
def restore(backup, requester, spec, published) -> Restore:
    return restore_request(backup=backup, user=requester, target_name="orders-restored", password=PASSWORD, **spec)


@pytest.fixture
def ended_rehearsal(instance, backup, published) -> Restore:
    """A rehearsal that ended without making an instance: its clean-up is due."""
    rehearsal = rehearsals.rehearsal_request(instance=instance, user=None)
    assert restore_transition(rehearsal.pk, Status.FAILED, event=None, error_code="LOST")
    rehearsal.refresh_from_db()
    assert rehearsal.cleanup_status == Cleanup.PENDING
    return rehearsal


def worker_view(restore_id: int) -> Restore:
    """The restore as a worker loads it after claiming it."""
    return Restore.objects.select_related("project", "source_instance", "backup").get(pk=restore_id)


def sender_taken_over(restore: Restore) -> tuple[Restore, uuid.UUID]:
    """A worker claims the restore and stalls; another takes it over. Returns the first one's
    view of the restore (its claim) and the second one's claim."""
    assert submission.submit_claim(restore_id=restore.pk) is not None
    stalled = worker_view(restore.pk)
    lapse(restore.pk)
    theirs = submission.submit_claim(restore_id=restore.pk)
    assert theirs is not None
    return stalled, theirs


def created(stalled, simulator):
    submission._restore_send(stalled)  # the cloud makes the instance; the answer is late


def refused(stalled, simulator):
    simulator.add_instance(stalled.target_name)  # someone else's instance: the name is taken
    submission._restore_send(stalled)


def ambiguous(stalled, simulator):
    simulator.configure(drop_connection_after_instance_create=1)
    submission._restore_send(stalled)


def adopted(stalled, simulator):
    simulator.add_instance(stalled.target_name)
    submission._adopt(stalled, client_for_project(stalled.project).find_instance_by_name(stalled.target_name))


def deferred(stalled, simulator):
    submission._defer(stalled, 5)


def cut_short(stalled, simulator):
    submission._retry(stalled, AmbiguousRequest("The submission took too long and was stopped."))


@pytest.mark.parametrize("outcome", [created, refused, ambiguous, adopted, deferred, cut_short])
def test_a_restore_worker_that_lost_its_claim_cannot_move_the_restore(restore, simulator, outcome):
    stalled, theirs = sender_taken_over(restore)
    events_before = restore.events.count()

    outcome(stalled, simulator)

    restore.refresh_from_db()
    assert (restore.status, restore.claim, restore.submit_attempts) == (Status.SUBMITTING, theirs, 2)
    assert (restore.job_id, restore.instance_cloud_id, restore.error_code, restore.password) == ("", "", "", PASSWORD)
    assert restore.events.count() == events_before
    assert not AuditEvent.objects.filter(action="restore_failed").exists()
    # The worker holding it now still moves it.
    assert restore_transition(restore.pk, Status.QUEUED, event=None, claim=theirs) is True


def test_a_create_answered_after_a_takeover_leaves_one_instance_followed_by_the_new_worker(restore, simulator):
    stalled, _ = sender_taken_over(restore)
    submission._restore_send(stalled)
    assert Restore.objects.get(pk=restore.pk).status == Status.SUBMITTING

    submission._restore_send(worker_view(restore.pk))  # the second worker: it looks first

    restore.refresh_from_db()
    [made] = cloud_instances_named(simulator, "orders-restored")
    assert (restore.status, restore.instance_cloud_id) == (Status.RESTORING, made["id"])
    assert restore.events.get(kind=RestoreEvent.Kind.SUBMITTED).message.startswith("Found in the cloud")
    assert simulator.counters()["by_kind"]["create_instance"] == 1


def test_a_rehearsal_given_up_while_its_worker_stalled_is_not_created_when_it_wakes(instance, backup, simulator):
    rehearsal = rehearsals.rehearsal_request(instance=instance, user=None)
    assert submission.submit_claim(restore_id=rehearsal.pk) is not None
    stalled = worker_view(rehearsal.pk)
    lapse(rehearsal.pk)
    cleanup.rehearsals_sweep()  # a rehearsal is given up, never taken over

    submission._restore_send(stalled)

    rehearsal.refresh_from_db()
    assert (rehearsal.status, rehearsal.error_code, rehearsal.node_count) == (Status.FAILED, "WORKER_LOST", None)
    assert simulator.counters()["by_kind"].get("create_instance", 0) == 0


def in_thread(call) -> threading.Thread:
    """Run `call` in a thread of its own, with its own database connection, as a worker would."""

    def run():
        try:
            call()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_restore_worker_that_stalled_past_its_lease_writes_nothing_when_its_answer_comes(
    restore, simulator, settings
):
    settings.BACKUP_SUBMIT_LEASE_SECONDS = 60  # the heartbeat never lapses by itself here
    settings.CLOUD_TIMEOUT_SECONDS = 30
    simulator.configure(latency_ms=3_000)
    first = in_thread(lambda: submission.restore_submit(restore_id=restore.pk))
    wait_until(lambda: Restore.objects.get(pk=restore.pk).status == Status.SUBMITTING)
    # Its token, look-up and create take seconds from here; whether or not the create has left
    # when the second worker claims, nothing the first one learns afterwards may be written.
    time.sleep(0.5)
    lapse(restore.pk)
    theirs = submission.submit_claim(restore_id=restore.pk)
    assert theirs is not None
    first.join(30)
    assert not first.is_alive()

    restore.refresh_from_db()
    assert (restore.status, restore.claim, restore.job_id) == (Status.SUBMITTING, theirs, "")
    assert not restore.events.filter(kind__in=(RestoreEvent.Kind.SUBMITTED, RestoreEvent.Kind.RETRY)).exists()


def cleaner_taken_over(rehearsal: Restore) -> tuple[Restore, uuid.UUID]:
    """A worker claims the rehearsal's delete and stalls; the sweeper hands the clean-up on and
    another worker claims it. Returns the first one's view (its claim) and the second's claim."""
    assert cleanup._delete_claim(rehearsal.pk) is not None
    stalled = worker_view(rehearsal.pk)
    lapse(rehearsal.pk, "delete_claimed_at")
    cleanup.rehearsals_sweep()
    theirs = cleanup._delete_claim(rehearsal.pk)
    assert theirs is not None
    return stalled, theirs


def found_nothing(stalled, simulator):
    cleanup._delete_send(stalled)  # nothing by its name in the cloud: it would mark it deleted


def sent_the_delete(stalled, simulator):
    stalled.instance_cloud_id = simulator.add_instance(stalled.target_name)["id"]
    cleanup._delete_send(stalled)  # the cloud takes the delete: it would record the job


def delete_failed(stalled, simulator):
    cleanup.delete_retry(stalled, "late error", claim=stalled.delete_claim)


def asked_to_wait(stalled, simulator):
    cleanup.delete_retry(stalled, "still being made", failed=False, claim=stalled.delete_claim)


@pytest.mark.parametrize("outcome", [found_nothing, sent_the_delete, delete_failed, asked_to_wait])
def test_a_clean_up_worker_that_lost_its_delete_claim_cannot_mark_it_done_or_failed(
    ended_rehearsal, simulator, outcome
):
    stalled, theirs = cleaner_taken_over(ended_rehearsal)
    events_before = ended_rehearsal.events.count()

    outcome(stalled, simulator)

    rehearsal = Restore.objects.get(pk=ended_rehearsal.pk)
    assert (rehearsal.cleanup_status, rehearsal.delete_claim) == (Cleanup.DELETING, theirs)
    assert (rehearsal.delete_job_id, rehearsal.deleted_at, rehearsal.delete_attempts) == ("", None, 2)
    assert rehearsal.events.count() == events_before
    assert not AuditEvent.objects.filter(action="rehearsal_instance_deleted").exists()


@pytest.fixture
def short_lease(settings):
    """A beat every 0.2 s."""
    settings.BACKUP_SUBMIT_LEASE_SECONDS = 0.6


def renewed_twice(restore_id: int, lease: str) -> None:
    """Wait for the heartbeat to renew the lease, and then to renew its own renewal."""

    def lease_now():
        return Restore.objects.values_list(lease, flat=True).get(pk=restore_id)

    def renewed_after(earlier):
        def later():
            current = lease_now()
            return current if current and current > earlier else None

        return wait_until(later)

    renewed_after(renewed_after(lease_now()))


def test_a_submit_heartbeat_stops_without_touching_a_restore_another_worker_took(restore, short_lease):
    mine = submission.submit_claim(restore_id=restore.pk)
    assert mine is not None
    with leases.submit_heartbeat(restore_id=restore.pk, claim=mine) as heartbeat:
        renewed_twice(restore.pk, "claimed_at")
        theirs = uuid.uuid4()
        Restore.objects.filter(pk=restore.pk).update(claim=theirs)  # another worker's claim
        wait_until(lambda: heartbeat.lost)
        taken_at = Restore.objects.values_list("claimed_at", flat=True).get(pk=restore.pk)
        time.sleep(heartbeat.interval * 2)
    restore.refresh_from_db()
    assert (restore.status, restore.claim, restore.claimed_at) == (Status.SUBMITTING, theirs, taken_at)


def test_a_delete_heartbeat_stops_once_another_worker_holds_the_clean_up(ended_rehearsal, short_lease):
    mine = cleanup._delete_claim(ended_rehearsal.pk)
    assert mine is not None
    with leases.delete_heartbeat(restore_id=ended_rehearsal.pk, claim=mine) as heartbeat:
        renewed_twice(ended_rehearsal.pk, "delete_claimed_at")
        theirs = uuid.uuid4()
        Restore.objects.filter(pk=ended_rehearsal.pk).update(delete_claim=theirs)
        wait_until(lambda: heartbeat.lost)
        taken_at = Restore.objects.values_list("delete_claimed_at", flat=True).get(pk=ended_rehearsal.pk)
        time.sleep(heartbeat.interval * 2)
    rehearsal = Restore.objects.get(pk=ended_rehearsal.pk)
    assert (rehearsal.cleanup_status, rehearsal.delete_claim, rehearsal.delete_claimed_at) == (
        Cleanup.DELETING,
        theirs,
        taken_at,
    )


@pytest.fixture
def clock_ahead(monkeypatch):
    """Makes this host's clock run ahead of the database's (and the other hosts'), by an hour
    unless told otherwise."""
    real_now = timezone.now

    def ahead(hours: float = 1) -> None:
        monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(hours=hours))

    return ahead


def test_a_sweeper_whose_clock_runs_ahead_takes_no_live_work_over(restore, ended_rehearsal, published, clock_ahead):
    rehearsal = Restore.objects.get(pk=rehearsals.rehearsal_request(instance=restore.source_instance).pk)
    sending = [submission.submit_claim(restore_id=restore.pk), submission.submit_claim(restore_id=rehearsal.pk)]
    deleting = cleanup._delete_claim(ended_rehearsal.pk)
    assert None not in (*sending, deleting)
    published.clear()

    clock_ahead()
    assert submission.submit_claim(restore_id=restore.pk) is None
    assert cleanup._delete_claim(ended_rehearsal.pk) is None
    restores_dispatch_due()
    cleanup.rehearsals_sweep()

    assert published == []
    assert [r.status for r in Restore.objects.filter(pk__in=(restore.pk, rehearsal.pk))] == [Status.SUBMITTING] * 2
    assert Restore.objects.get(pk=ended_rehearsal.pk).cleanup_status == Cleanup.DELETING


def test_a_worker_whose_clock_runs_ahead_still_loses_its_leases_once_it_stops(
    restore, ended_rehearsal, short_lease, clock_ahead
):
    clock_ahead()
    assert submission.submit_claim(restore_id=restore.pk) is not None
    assert cleanup._delete_claim(ended_rehearsal.pk) is not None
    clock_ahead(hours=0)  # the sweepers' hosts keep the right time
    # No heartbeat: the worker died. One lease later (0.6 s), by the database's clock:
    wait_until(lambda: Restore.objects.filter(leases.submit_lapsed(), pk=restore.pk).exists(), timeout=3)
    wait_until(lambda: Restore.objects.filter(leases.delete_lapsed(), pk=ended_rehearsal.pk).exists(), timeout=3)
