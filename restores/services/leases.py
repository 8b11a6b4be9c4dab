"""The leases a worker holds on a restore while it sends something to the cloud: the create
(`claimed_at`, status submitting) and a rehearsal's delete (`delete_claimed_at`, clean-up
deleting). backups/services/leases.py explains the idea; the lease's length is the backups'
(BACKUP_SUBMIT_LEASE_SECONDS), so one setting paces both.
"""

import logging
import threading
from datetime import datetime

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from backups.services.leases import submit_lease

from ..models import Restore

log = logging.getLogger(__name__)

Status = Restore.Status
Cleanup = Restore.Cleanup


def submit_lapsed(now: datetime) -> Q:
    """Restores being submitted by a worker that has not renewed its lease for a whole lease."""
    return Q(status=Status.SUBMITTING, claimed_at__lt=now - submit_lease())


def delete_lapsed(now: datetime) -> Q:
    """Clean-ups whose worker died between claiming the delete and hearing the cloud's answer."""
    return Q(cleanup_status=Cleanup.DELETING, delete_job_id="", delete_claimed_at__lt=now - submit_lease())


class Heartbeat:
    """Moves a claim's timestamp (`field`) forward from a thread while the `with` block runs,
    as long as the row is still held on this claim (`held`: the other conditions)."""

    def __init__(self, *, restore_id: int, field: str, claimed_at: datetime, held: Q):
        self.restore_id = restore_id
        self.field = field
        self.claimed_at = claimed_at
        self.held = held
        self.lost = False
        # Three beats a lease: one late or failed beat never lets the lease lapse.
        self.interval = submit_lease().total_seconds() / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"restore-heartbeat-{restore_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
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
        now = timezone.now()
        mine = Restore.objects.filter(self.held, pk=self.restore_id, **{self.field: self.claimed_at})
        try:
            renewed = mine.update(**{self.field: now})
        except DatabaseError as error:
            log.warning("restore %s: the lease was not renewed (%s)", self.restore_id, error)
            connection.close()
            return True
        if not renewed:
            self.lost = True
            return False
        self.claimed_at = now
        return True


def submit_heartbeat(*, restore_id: int, claimed_at: datetime) -> Heartbeat:
    return Heartbeat(restore_id=restore_id, field="claimed_at", claimed_at=claimed_at, held=Q(status=Status.SUBMITTING))


def delete_heartbeat(*, restore_id: int, claimed_at: datetime) -> Heartbeat:
    return Heartbeat(
        restore_id=restore_id, field="delete_claimed_at", claimed_at=claimed_at, held=Q(cleanup_status=Cleanup.DELETING)
    )
