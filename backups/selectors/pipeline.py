"""The pipeline's own work lists and state, for the worker and for operators."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min
from django.utils import timezone

from backups.models import Backup

Status = Backup.Status


def projects_with_due_polls() -> list[int]:
    now = timezone.now()
    # The stubs type a foreign key's id read across a join as str; it is the project's int pk.
    project_ids = (
        Backup.objects.filter(status__in=[Status.RUNNING, Status.UNKNOWN], next_poll_at__lte=now)
        .values_list("instance__project_id", flat=True)
        .distinct()
    )
    return list(project_ids)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PipelineState:
    """What `manage.py pipeline_state` reports."""

    # (status, how many, when the oldest was requested) for queued, submitting, running, unknown
    in_flight: list[tuple[str, int, datetime]]
    overdue: int
    unpublished: int
    completed_24h: int
    failed_24h: int


def pipeline_state(now: datetime | None = None) -> PipelineState:
    """How many backups wait in each state, the oldest of each, and the last day's outcomes."""
    now = now or timezone.now()
    rows = (
        Backup.objects.filter(status__in=[*Backup.ACTIVE_STATUSES, Status.UNKNOWN])
        .values("status")
        .annotate(count=Count("id"), oldest=Min("requested_at"))
        .order_by("status")
    )
    recent = Backup.objects.filter(finished_at__gte=now - timedelta(hours=24))
    outcome = dict(recent.values_list("status").annotate(Count("id")))
    return PipelineState(
        in_flight=[(row["status"], row["count"], row["oldest"]) for row in rows],
        overdue=Backup.objects.filter(status=Status.RUNNING, overdue=True).count(),
        unpublished=Backup.objects.filter(status=Status.QUEUED, enqueued_at__isnull=True).count(),
        completed_24h=outcome.get(Status.COMPLETED, 0),
        failed_24h=outcome.get(Status.FAILED, 0),
    )
