"""The beat container's health check: exits 1 when the beat heartbeat is missing or stale.

The heartbeat is written by a worker when it runs the task beat publishes every 15 s, so a
stale one means beat stopped ticking (or nothing runs what it publishes): either way scheduled
work (outbox sweeps, polls) is not happening.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webapp.health import beat_heartbeat_age


class Command(BaseCommand):
    help = "Exit 1 unless beat's heartbeat is younger than BEAT_HEARTBEAT_MAX_AGE_SECONDS."

    def handle(self, *args, **options):
        age = beat_heartbeat_age()
        limit = settings.BEAT_HEARTBEAT_MAX_AGE_SECONDS
        if age is None:
            raise CommandError("No beat heartbeat: beat has not ticked (or no worker ran its heartbeat).")
        if age > limit:
            raise CommandError(f"The last beat heartbeat is {age:.0f} s old (limit {limit:.0f} s).")
        self.stdout.write(f"beat alive: last heartbeat {age:.0f} s ago")
