"""The submit lease and its heartbeat (services/leases.py), in-process against the simulator over
real HTTP: a live worker keeps its backup however slow the cloud is, and a heartbeat never
renews a claim that is no longer its own. test_takeover.py kills a real worker."""

import threading

import pytest
from django.db import connection

from backups.lifecycle import backup_transition
from backups.models import Backup
from backups.services import leases, submission
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
        submission.backups_dispatch_due()
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
    claimed_at = leases.submit_claim(backup_id=backup.pk)
    assert claimed_at is not None
    return backup, claimed_at


def renewed_twice(backup, claimed_at):
    """Wait for the heartbeat to renew the claim, and then to renew its own renewal."""

    def renewed_after(earlier):
        def later():
            claim = Backup.objects.values_list("claimed_at", flat=True).get(pk=backup.pk)
            return claim if claim and claim > earlier else None

        return wait_until(later)

    renewed_after(renewed_after(claimed_at))


def test_a_heartbeat_stops_without_touching_a_backup_another_worker_took(claimed):
    backup, claimed_at = claimed
    with leases.SubmitHeartbeat(backup_id=backup.pk, claimed_at=claimed_at) as heartbeat:
        renewed_twice(backup, claimed_at)
        # The lease lapses (as if the beats had stalled), and another worker claims the backup.
        Backup.objects.filter(pk=backup.pk).update(claimed_at=claimed_at - leases.submit_lease() * 2)
        theirs = leases.submit_claim(backup_id=backup.pk)
        assert theirs is not None
        wait_until(lambda: heartbeat.lost)
    backup.refresh_from_db()
    assert (backup.status, backup.claimed_at, backup.submit_attempts) == (Status.SUBMITTING, theirs, 2)


def test_a_heartbeat_does_not_revive_a_backup_its_worker_moved_on(claimed):
    backup, claimed_at = claimed
    with leases.SubmitHeartbeat(backup_id=backup.pk, claimed_at=claimed_at) as heartbeat:
        renewed_twice(backup, claimed_at)
        # The worker's call ended in a retry: back to the outbox, the claim cleared.
        backup_transition(backup.pk, Status.QUEUED, event=None, claimed_at=None, enqueued_at=None)
        wait_until(lambda: heartbeat.lost)
    backup.refresh_from_db()
    assert (backup.status, backup.claimed_at) == (Status.QUEUED, None)
