from django.core.management.base import BaseCommand
from django.utils import timezone

from backups.selectors.pipeline import pipeline_state


class Command(BaseCommand):
    help = "Show the backup pipeline: how many backups wait in each state, and the oldest of each."

    def handle(self, *args, **options):
        now = timezone.now()
        state = pipeline_state(now)
        if not state.in_flight:
            self.stdout.write("Nothing in flight: no queued, submitting, running or unknown backups.")
        for status, count, oldest in state.in_flight:
            age = int((now - oldest).total_seconds())
            self.stdout.write(f"{status:<11} {count:>6}  oldest requested {age} s ago")
        self.stdout.write(f"overdue (running far longer than usual): {state.overdue}")
        self.stdout.write(f"queued but not yet handed to the broker: {state.unpublished}")
        self.stdout.write(f"last 24 h: {state.completed_24h} completed, {state.failed_24h} failed")
