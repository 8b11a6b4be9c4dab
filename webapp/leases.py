"""The heartbeat that keeps a worker's lease on a row while its cloud calls are in flight.

A worker that sends something to the cloud (a backup's create, a restore's create, a rehearsal
instance's delete) first claims the row: a new claim id and a lease timestamp, in one
conditional UPDATE. While its calls run, a `Heartbeat` thread moves the lease timestamp forward
every third of the lease, so a live worker keeps the row however slow the cloud is, and a dead
one loses it one lease after its last beat. The beat is conditional on the claim id: once
another worker has taken the row over, or this worker has moved it on, the beat stops without
touching it. The timestamp is the database's (`Now()`), as is the "lapsed" it is compared with,
so the hosts' clocks need not agree.
"""

import logging
import threading

from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.db.models.functions import Now

log = logging.getLogger(__name__)


class Heartbeat:
    """Renews the lease (`field`) of the rows in `held` (one row, still held on this worker's
    claim) from a thread, while the `with` block runs. `lost` turns true when a beat finds the
    row no longer held on the claim."""

    def __init__(self, held: QuerySet, *, field: str, lease_seconds: float, name: str):
        self.held = held
        self.field = field
        self.name = name
        self.lost = False
        # Three beats a lease: one late or failed beat never lets the lease lapse.
        self.interval = lease_seconds / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {name}", daemon=True)

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
        """One beat; False once the claim is no longer ours."""
        try:
            renewed = self.held.update(**{self.field: Now()})
        except DatabaseError as error:
            # The next beat tries again; two failures in a row still leave a third of the lease.
            log.warning("%s: the lease was not renewed (%s)", self.name, error)
            connection.close()
            return True
        if not renewed:
            self.lost = True
            log.info("%s: no longer held on this claim (moved on or taken over)", self.name)
            return False
        return True
