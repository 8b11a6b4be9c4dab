"""The lease a worker holds on a backup while it submits it.

A worker claims a backup by giving it a new `claim` id and a lease (`claimed_at`); while its
cloud calls are in flight, a heartbeat renews the lease (webapp/leases.py), so a live worker
keeps the backup however slow the cloud is, and a dead one (kill -9, a lost machine) loses it
one lease after its last beat: the outbox sweep then hands it to another worker, which looks
the backup up by name before creating anything.

Every move the submitting worker makes is conditional on its claim (`backup_transition(claim=…)`):
a worker that stalled past its lease (a frozen VM, a long pause) and wakes up after another took
its backup over writes nothing. Lease times are the database's, so hosts' clocks need not agree.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from backups.models import Backup
from webapp.leases import Heartbeat

Status = Backup.Status


def submit_lease() -> timedelta:
    """How long a submitting worker may go unheard before another takes its backup over."""
    return timedelta(seconds=settings.BACKUP_SUBMIT_LEASE_SECONDS)


def lapsed() -> Q:
    """Backups being submitted by a worker that has not renewed its lease for a whole lease."""
    return Q(status=Status.SUBMITTING, claimed_at__lt=Now() - submit_lease())


def submit_claim(*, backup_id: int) -> uuid.UUID | None:
    """Claim a backup for submitting: a queued one that is due, or one whose lease lapsed.

    Returns the claim's id, or None when there is nothing to claim: a duplicate delivery, a
    backup another live worker holds, or one already on its way.
    """
    claim = uuid.uuid4()
    claimed = (
        Backup.objects.filter(pk=backup_id)
        .filter(Q(status=Status.QUEUED, next_attempt_at__lte=timezone.now()) | lapsed())
        .update(status=Status.SUBMITTING, claim=claim, claimed_at=Now(), submit_attempts=F("submit_attempts") + 1)
    )
    return claim if claimed else None


def submit_heartbeat(*, backup_id: int, claim: uuid.UUID) -> Heartbeat:
    """Renews the claim's lease while the `with` block runs (webapp/leases.py)."""
    held = Backup.objects.filter(pk=backup_id, status=Status.SUBMITTING, claim=claim)
    return Heartbeat(
        held, field="claimed_at", lease_seconds=submit_lease().total_seconds(), name=f"backup {backup_id} submit"
    )
