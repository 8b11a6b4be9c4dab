from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Count, Min
from django.utils import timezone

from backups.models import Backup


class Command(BaseCommand):
    help = "Show the backup pipeline: how many backups wait in each state, and the oldest of each."

    def handle(self, *args, **options):
        now = timezone.now()
        rows = (
            Backup.objects.filter(status__in=[*Backup.ACTIVE_STATUSES, Backup.Status.UNKNOWN])
            .values("status")
            .annotate(count=Count("id"), oldest=Min("requested_at"))
            .order_by("status")
        )
        if not rows:
            self.stdout.write("Nothing in flight: no queued, submitting, running or unknown backups.")
        for row in rows:
            age = int((now - row["oldest"]).total_seconds())
            self.stdout.write(f"{row['status']:<11} {row['count']:>6}  oldest requested {age} s ago")
        overdue = Backup.objects.filter(status=Backup.Status.RUNNING, overdue=True).count()
        unpublished = Backup.objects.filter(status=Backup.Status.QUEUED, enqueued_at__isnull=True).count()
        self.stdout.write(f"overdue (running far longer than usual): {overdue}")
        self.stdout.write(f"queued but not yet handed to the broker: {unpublished}")
        recent = Backup.objects.filter(finished_at__gte=now - timedelta(hours=24))
        outcome = dict(recent.values_list("status").annotate(Count("id")))
        completed, failed = outcome.get(Backup.Status.COMPLETED, 0), outcome.get(Backup.Status.FAILED, 0)
        self.stdout.write(f"last 24 h: {completed} completed, {failed} failed")
