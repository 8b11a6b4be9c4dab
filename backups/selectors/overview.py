"""The overview: what runs now, what needs attention, and how the last seven days went."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from access.models import CloudProject
from access.selectors.projects import visible_project_list
from backups.models import Backup, Instance

RECENT = timedelta(days=7)
Status = Backup.Status


@dataclass
class Overview:
    projects: list[CloudProject]
    running: list[Backup]
    attention: list[Backup]
    completed: int
    failed: int
    stale: Sequence[Instance]
    stale_more: bool
    since: datetime

    @property
    def success_rate(self) -> int | None:
        ended = self.completed + self.failed
        return round(100 * self.completed / ended) if ended else None


OVERVIEW_LIMIT = 10


RUNNING_LIMIT = 20
# What the overview's lists show of a backup (and the live fingerprint reads): loading every
# column of each backup and instance cost more than the queries themselves.
OVERVIEW_ROW_FIELDS = (
    "name",
    "status",
    "progress",
    "overdue",
    "origin",
    "error_code",
    "requested_at",
    "started_at",
    "finished_at",
    "size_kb",
    "instance__name",
    "requested_by__username",
    "requested_by__first_name",
    "requested_by__last_name",
)


def running_in(project_ids):
    """The active backups of these projects, newest first: the "running now" panel."""
    active = Backup.objects.filter(instance__project_id__in=project_ids, status__in=Backup.ACTIVE_STATUSES)
    return active.order_by("-requested_at", "-id")[:RUNNING_LIMIT]


def running_backups(project_ids) -> list[Backup]:
    """The "running now" panel's backups, with what it shows of each."""
    return list(running_in(project_ids).select_related("instance", "requested_by").only(*OVERVIEW_ROW_FIELDS))


_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def overview_for(user, now: datetime | None = None) -> Overview:
    """Four queries besides the user's projects (loaded once per request): running,
    failures, the 7-day counts, stale instances."""
    now = now or timezone.now()
    since = now - RECENT
    projects = visible_project_list(user)
    visible = [p.pk for p in projects]
    backups = Backup.objects.filter(instance__project__in=visible)
    # A failure stops needing attention once a later backup of the instance has completed.
    fixed_later = Backup.objects.filter(
        instance=OuterRef("instance"), status=Status.COMPLETED, requested_at__gt=OuterRef("requested_at")
    )
    attention = list(
        backups.filter(Q(status=Status.UNKNOWN) | Q(status=Status.FAILED, requested_at__gte=since))
        .filter(~Exists(fixed_later))
        .select_related("instance", "requested_by")
        .only(*OVERVIEW_ROW_FIELDS)
        .order_by("-requested_at", "-id")[:OVERVIEW_LIMIT]
    )
    # Counted on `status`, not the primary key: the index `backup_recent_outcomes` alone answers it.
    counts = backups.filter(requested_at__gte=since).aggregate(
        completed=Count("status", filter=Q(status=Status.COMPLETED)),
        failed=Count("status", filter=Q(status__in=[Status.FAILED, Status.UNKNOWN])),
    )
    # Newest first by request time: the partial index `backup_last_success` (migration 0003)
    # answers both questions below in one probe each.
    last_success = (
        Backup.objects.filter(instance=OuterRef("pk"), status=Status.COMPLETED)
        .order_by("-requested_at", "-id")
        .values("finished_at")[:1]
    )
    # A success requested in the window ended in it too: such an instance (nearly all of them)
    # is fresh without reading its last success from the table. CASE asks the cheap question
    # first and the subquery only for the rest.
    success_in_window = Exists(
        Backup.objects.filter(instance=OuterRef("pk"), status=Status.COMPLETED, requested_at__gte=since)
    )
    stale = list(
        Instance.objects.filter(project__in=visible, gone_at__isnull=True)
        .alias(
            last_success_or_never=Case(
                When(success_in_window, then=Value(since)),
                # One comparison, so the subquery runs once per instance (`IS NULL OR <` runs it twice).
                default=Coalesce(Subquery(last_success), Value(_NEVER)),
            )
        )
        .filter(last_success_or_never__lt=since)
        .annotate(last_success=Subquery(last_success))
        .order_by(F("last_success").asc(nulls_first=True), "name")[: OVERVIEW_LIMIT + 1]
    )
    by_pk = {p.pk: p for p in projects}
    for instance in stale:
        instance.project = by_pk[instance.project_id]  # already loaded: no query per row
    return Overview(
        projects=projects,
        running=running_backups(visible),
        attention=attention,
        completed=counts["completed"],
        failed=counts["failed"],
        stale=stale[:OVERVIEW_LIMIT],
        stale_more=len(stale) > OVERVIEW_LIMIT,
        since=since,
    )
