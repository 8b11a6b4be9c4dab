"""The lease a worker holds on a backup while it submits it, and the heartbeat that renews it.

A worker claims a backup by setting its `claimed_at` (submission.py). While the worker's cloud
calls are in flight, a heartbeat thread moves `claimed_at` forward every third of the lease, so
a live worker keeps the backup however slow the cloud is, and a dead one (kill -9, a lost
machine) loses it one lease after its last beat: the outbox sweep then hands it to another
worker, which looks the backup up by name before creating anything.

A heartbeat renews only its own claim (a conditional UPDATE on the status and the claim's
timestamp): once another worker has taken the backup, or this worker has moved it on, the
heartbeat stops without touching the row.
"""

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F, Q
from django.utils import timezone

from backups.models import Backup

log = logging.getLogger(__name__)

Status = Backup.Status


def submit_lease() -> timedelta:
    """How long a submitting worker may go unheard before another takes its backup over."""
    return timedelta(seconds=settings.BACKUP_SUBMIT_LEASE_SECONDS)


def lapsed(now: datetime) -> Q:
    """Backups being submitted by a worker that has not renewed its lease for a whole lease."""
    return Q(status=Status.SUBMITTING, claimed_at__lt=now - submit_lease())


def submit_claim(*, backup_id: int) -> datetime | None:
    """Claim a backup for submitting: a queued one that is due, or one whose lease lapsed.

    Returns the claim (the `claimed_at` written), or None when there is nothing to claim: a
    duplicate delivery, a backup another live worker holds, or one already on its way.
    """
    now = timezone.now()
    claimed = (
        Backup.objects.filter(pk=backup_id)
        .filter(Q(status=Status.QUEUED, next_attempt_at__lte=now) | lapsed(now))
        .update(status=Status.SUBMITTING, claimed_at=now, submit_attempts=F("submit_attempts") + 1)
    )
    return now if claimed else None


class SubmitHeartbeat:
    """Renews the claim `claimed_at` on a backup from a thread, while the `with` block runs.

    `lost` turns true when a beat finds the claim no longer this worker's.
    """

    def __init__(self, *, backup_id: int, claimed_at: datetime):
        self.backup_id = backup_id
        self.claimed_at = claimed_at
        self.lost = False
        # Three beats a lease: one late or failed beat never lets the lease lapse.
        self.interval = submit_lease().total_seconds() / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"submit-heartbeat-{backup_id}", daemon=True)

    def __enter__(self) -> "SubmitHeartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval) and self._renew():
                pass
        finally:
            connection.close()  # the thread's own connection, opened by its first beat

    def _renew(self) -> bool:
        """One beat; False once the claim is no longer ours."""
        now = timezone.now()
        mine = Backup.objects.filter(pk=self.backup_id, status=Status.SUBMITTING, claimed_at=self.claimed_at)
        try:
            renewed = mine.update(claimed_at=now)
        except DatabaseError as error:
            # The next beat tries again; two failures in a row still leave a third of the lease.
            log.warning("backup %s: the submit lease was not renewed (%s)", self.backup_id, error)
            connection.close()
            return True
        if not renewed:
            self.lost = True
            log.info("backup %s: no longer submitting on this claim (moved on or taken over)", self.backup_id)
            return False
        self.claimed_at = now
        return True
