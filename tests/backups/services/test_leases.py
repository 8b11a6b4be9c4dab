"""The submit lease and its heartbeat (services/leases.py), in-process against the simulator over
real HTTP: a live worker keeps its backup however slow the cloud is, and a heartbeat never
renews a claim that is no longer its own. test_takeover.py kills a real worker."""

import threading
import time

import pytest
from django.db import connection

from backups.lifecycle import backup_transition
from backups.models import Backup, BackupEvent
from backups.services import dispatch, leases, submission
from tests.fixtures.simulator import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

Status = Backup.Status


@pytest.fixture
def published(monkeypatch):
    """What the outbox sweep hands to the broker: collected here."""
    sent = []
    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: sent.append(args))
    return sent


def request(instance, user):
    return submission.backup_request(instance=instance, user=user, name="nightly-0001", description="lease test")


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


def test_a_live_submit_slower_than_its_lease_is_never_taken_over(instance, requester, simulator, settings, published):
    settings.BACKUP_SUBMIT_LEASE_SECONDS = 4  # a beat every 4/3 s
    settings.CLOUD_TIMEOUT_SECONDS = 60  # the slow create is answered, not timed out
    simulator.configure(latency_ms=10_000)  # every call takes two and a half leases
    backup = request(instance, requester)
    published.clear()
    submitting = in_thread(lambda: submission.backup_submit(backup_id=backup.pk))
    wait_until(lambda: Backup.objects.get(pk=backup.pk).status == Status.SUBMITTING)
    claims, sweeps = set(), 0
    while submitting.is_alive():
        # What another worker would do meanwhile: the beat's sweep, and a claim of its own.
        sweeps += 1
        dispatch.backups_dispatch_due()
        assert leases.submit_claim(backup_id=backup.pk) is None, "another worker took over a live submit"
        claims.add(Backup.objects.get(pk=backup.pk).claimed_at)
        submitting.join(0.25)
    assert published == [], "the sweep handed a live worker's backup to another worker"
    assert sweeps > 10
    assert len(claims) >= 3  # the heartbeat moved the claim on, again and again
    backup.refresh_from_db()
    assert backup.status == Status.RUNNING
    assert backup.submit_attempts == 1
    assert [b["name"] for b in simulator.backups(instance_id=instance.cloud_id)] == [backup.name]
    assert simulator.counters()["by_kind"]["create_backup"] == 1


@pytest.fixture
def claimed(instance, requester, settings, published):
    """A backup claimed for submitting, on a short lease: a beat every 0.2 s."""
    settings.BACKUP_SUBMIT_LEASE_SECONDS = 0.6
    backup = request(instance, requester)
    claim = leases.submit_claim(backup_id=backup.pk)
    assert claim is not None
    return backup, claim


def lease_of(backup):
    return Backup.objects.values_list("claimed_at", flat=True).get(pk=backup.pk)


def renewed_twice(backup):
    """Wait for the heartbeat to renew the lease, and then to renew its own renewal."""

    def renewed_after(earlier):
        def later():
            lease = lease_of(backup)
            return lease if lease and lease > earlier else None

        return wait_until(later)

    renewed_after(renewed_after(lease_of(backup)))


def lapse(backup):
    """What a stalled worker (a frozen VM, a long pause) looks like to the others: its lease is
    a whole lease old."""
    Backup.objects.filter(pk=backup.pk).update(claimed_at=lease_of(backup) - leases.submit_lease() * 2)


def test_a_heartbeat_stops_without_touching_a_backup_another_worker_took(claimed):
    backup, claim = claimed
    with leases.submit_heartbeat(backup_id=backup.pk, claim=claim) as heartbeat:
        renewed_twice(backup)
        lapse(backup)
        theirs = leases.submit_claim(backup_id=backup.pk)
        assert theirs is not None
        wait_until(lambda: heartbeat.lost)
    backup.refresh_from_db()
    assert (backup.status, backup.claim, backup.submit_attempts) == (Status.SUBMITTING, theirs, 2)


def test_a_heartbeat_does_not_revive_a_backup_its_worker_moved_on(claimed):
    backup, claim = claimed
    with leases.submit_heartbeat(backup_id=backup.pk, claim=claim) as heartbeat:
        renewed_twice(backup)
        # The worker's call ended in a retry: back to the outbox, the lease cleared.
        backup_transition(backup.pk, Status.QUEUED, event=None, claim=claim, claimed_at=None, enqueued_at=None)
        wait_until(lambda: heartbeat.lost)
    backup.refresh_from_db()
    assert (backup.status, backup.claimed_at) == (Status.QUEUED, None)


def test_a_lease_lapses_by_the_database_clock_alone(claimed):
    backup, _ = claimed
    assert not Backup.objects.filter(leases.lapsed(), pk=backup.pk).exists()
    lapse(backup)
    assert Backup.objects.filter(leases.lapsed(), pk=backup.pk).exists()


@pytest.mark.parametrize("outcome", [Status.RUNNING, Status.QUEUED, Status.FAILED])
def test_a_worker_that_lost_its_claim_cannot_move_the_backup(claimed, outcome):
    backup, mine = claimed
    lapse(backup)
    theirs = leases.submit_claim(backup_id=backup.pk)
    assert backup_transition(backup.pk, outcome, event=BackupEvent.Kind.NOTE, message="late", claim=mine) is False
    backup.refresh_from_db()
    assert (backup.status, backup.claim) == (Status.SUBMITTING, theirs)
    assert not backup.events.filter(message="late").exists()
    assert backup_transition(backup.pk, outcome, event=BackupEvent.Kind.NOTE, message="theirs", claim=theirs) is True


def test_a_worker_that_stalled_past_its_lease_writes_nothing_when_its_answer_comes(
    instance, requester, simulator, settings, published
):
    """A worker's create is in flight when it stalls and another worker takes the backup over;
    the first one's answer comes after all. The backup stays the second worker's, and the cloud
    ends up with one backup: the next attempt finds the first one's by name."""
    settings.BACKUP_SUBMIT_LEASE_SECONDS = 60  # the heartbeat never lapses by itself here
    settings.CLOUD_TIMEOUT_SECONDS = 30
    backup = request(instance, requester)
    simulator.configure(latency_ms=3_000)
    first = in_thread(lambda: submission.backup_submit(backup_id=backup.pk))
    wait_until(lambda: Backup.objects.get(pk=backup.pk).status == Status.SUBMITTING)
    # Its token and create calls take seconds from here; whether or not the create has left
    # when the second worker claims, nothing the first one learns afterwards may be written.
    time.sleep(0.5)
    lapse(backup)  # the first worker stalled: its lease looks a whole lease old to the others
    theirs = leases.submit_claim(backup_id=backup.pk)
    assert theirs is not None
    first.join(30)
    assert not first.is_alive()

    backup.refresh_from_db()
    assert (backup.status, backup.claim, backup.job_id) == (Status.SUBMITTING, theirs, "")
    assert not backup.events.filter(kind=BackupEvent.Kind.SUBMITTED).exists()
    # The second worker dies too; the next one finds the first one's backup by name.
    simulator.configure(latency_ms=0)
    lapse(backup)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert (backup.status, backup.submit_attempts) == (Status.RUNNING, 3)
    assert backup.events.filter(kind=BackupEvent.Kind.SUBMITTED).count() == 1
    assert [b["name"] for b in simulator.backups(instance_id=instance.cloud_id)] == [backup.name]
    assert simulator.counters()["by_kind"]["create_backup"] == 1
