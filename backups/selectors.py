"""Queries for the console's pages, already scoped to the user.

Every function here asks `permissions` which projects the user may see, in the same
query that fetches the rows, and runs a fixed number of queries whatever the data size:
list pages fetch related rows for all listed objects at once, never one per row.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, F, Field, Func, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, LessThan
from django.shortcuts import get_object_or_404
from django.utils import timezone

from . import rules, services
from .models import Backup, BackupEvent, CloudProject, Instance, Membership
from .permissions import Action, projects_for, role_in, user_can
from .validators import NAME_MAX_LENGTH

PAGE_SIZE = 50
RECENT = timedelta(days=7)
Status = Backup.Status


def visible_projects(user) -> QuerySet[CloudProject]:
    return projects_for(user, Action.VIEW).order_by("name")


def visible_project_list(user) -> list[CloudProject]:
    """`visible_projects`, loaded once per user object (so once per request, like the roles
    in `permissions`): the page, its filters and the header's role summary all need them."""
    projects = getattr(user, "_visible_project_list", None)
    if projects is None:
        projects = user._visible_project_list = list(visible_projects(user))
    return projects


def role_label(user, project: CloudProject | int) -> str:
    role = role_in(user, project)
    return Membership.Role(role).label if role else "None"


@dataclass(frozen=True)
class RoleSummary:
    """What the page header says about the user's roles: short text and the detail."""

    short: str
    detail: str


def role_summary(user) -> RoleSummary:
    # From the per-request project list and roles: no query of its own on the console's pages.
    rows = [(role_in(user, project), project.name) for project in visible_project_list(user)]
    if not rows:
        return RoleSummary("No project role", "You are not a member of any cloud project yet.")
    labels = [Membership.Role(role).label for role, _ in rows]
    detail = "; ".join(f"{label} in {name}" for label, (_, name) in zip(labels, rows, strict=True))
    distinct = sorted(set(labels), key=labels.index)
    return RoleSummary(", ".join(distinct), detail)


# --- instances ---------------------------------------------------------------------


@dataclass
class InstanceRow:
    instance: Instance
    last_backup: Backup | None
    running: Backup | None
    # Why "Create backup" is disabled for this user, or None when it can be used.
    blocker: str | None


@dataclass
class ProjectInstances:
    project: CloudProject
    role: str
    can_backup: bool
    count: int = 0  # instances matching the filters in this project, on all pages
    rows: list[InstanceRow] = field(default_factory=list)
    gone: list[InstanceRow] = field(default_factory=list)


INSTANCES_PAGE_SIZE = 50


@dataclass
class InstancesPage:
    """One page of the instances list, grouped by project."""

    groups: list[ProjectInstances]
    number: int
    count: int  # instances matching the filters, on all pages
    size: int = INSTANCES_PAGE_SIZE

    @property
    def pages(self) -> int:
        return _page_count(self.count, self.size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def first_index(self) -> int:
        return min(self.count, (self.number - 1) * self.size + 1)

    @property
    def last_index(self) -> int:
        return min(self.count, self.number * self.size)


def _page_count(count: int, size: int) -> int:
    return max(1, -(-count // size))


def _last_backup_id():
    newest = Backup.objects.filter(instance=OuterRef("pk")).order_by("-requested_at", "-id").values("pk")[:1]
    return Subquery(newest)


def instances_page(
    user,
    *,
    search: str = "",
    project: int | None = None,
    status: str = "",
    page: int = 1,
    size: int = INSTANCES_PAGE_SIZE,
) -> InstancesPage:
    """One page of the user's instances, by project then name, each with its last and its
    running backup, grouped by project.

    Three queries whatever the number of instances, besides the user's projects (loaded once
    per request): the number of matching instances per project, one page of them with the id
    of their last backup, and the last and active backups of that page together. A page past
    the end shows the last one.
    """
    projects = visible_project_list(user)
    if project is not None:
        projects = [p for p in projects if p.pk == project]
    instances = Instance.objects.filter(project__in=[p.pk for p in projects])
    if search:
        instances = instances.filter(Q(name__icontains=search) | Q(cloud_id__icontains=search))
    if status == "gone":
        instances = instances.filter(gone_at__isnull=False)
    elif status:
        instances = instances.filter(status=status, gone_at__isnull=True)

    counts = dict(instances.order_by().values_list("project").annotate(n=Count("pk")))
    total = sum(counts.values())
    number = min(max(page, 1), _page_count(total, size))
    # Gone instances last in their project: the page lists them apart, under the others.
    order = ("project__name", "project_id", Case(When(gone_at__isnull=True, then=0), default=1), "name", "pk")
    offset = (number - 1) * size
    # The page's ids in a subquery, so the last backup is looked up for these rows only,
    # not for all those the OFFSET skips.
    on_page = instances.order_by(*order).values("pk")[offset : offset + size]
    listed = list(Instance.objects.filter(pk__in=on_page).annotate(last_backup_id=_last_backup_id()).order_by(*order))

    related = Backup.objects.filter(
        Q(pk__in=[i.last_backup_id for i in listed if i.last_backup_id])
        | Q(instance__in=[i.pk for i in listed], status__in=Backup.ACTIVE_STATUSES)
    ).select_related("requested_by")
    by_pk = {backup.pk: backup for backup in (related if listed else ())}
    running = {backup.instance_id: backup for backup in by_pk.values() if backup.is_active}

    groups = {
        p.pk: ProjectInstances(p, role_label(user, p), user_can(user, Action.BACKUP, p), counts.get(p.pk, 0))
        for p in projects
    }
    for instance in listed:
        group = groups[instance.project_id]
        instance.project = group.project  # already loaded: no query per row
        active = running.get(instance.pk)
        if group.can_backup:
            blocker = rules.instance_backup_blocker(instance, active)
        else:
            blocker = f"Your role ({group.role}) cannot create backups."
        row = InstanceRow(instance, by_pk.get(instance.last_backup_id), active, blocker)
        (group.gone if instance.gone_at else group.rows).append(row)
    # A project with nothing to list says so once, on the first page.
    shown = [g for g in groups.values() if g.rows or g.gone or (g.count == 0 and number == 1)]
    return InstancesPage(shown, number, total, size)


def instance_for(user, pk: int) -> Instance:
    """An instance of one of the user's projects; 404 for anyone else."""
    return get_object_or_404(
        Instance.objects.select_related("project").filter(project__in=visible_projects(user)), pk=pk
    )


@dataclass
class Preflight:
    """What the create form shows before the user submits: can it go, and how long."""

    instance: Instance
    status_label: str
    running: Backup | None
    usual_duration: timedelta | None
    blocker: str | None

    @property
    def available(self) -> bool:
        return self.instance.status == Instance.BACKUP_ALLOWED_STATUS and not self.instance.gone_at


def preflight(instance: Instance) -> Preflight:
    running = rules.active_backup(instance)
    return Preflight(
        instance=instance,
        status_label=rules.instance_status_label(instance.status),
        running=running,
        usual_duration=services.usual_duration(instance),
        blocker=rules.instance_backup_blocker(instance, running),
    )


_NOT_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]+")
_STAMP_FORMAT = "%Y%m%d-%H%M"
_SUFFIX_ROOM = 3  # "-NN" when the minute's name is taken


def suggested_backup_name(instance: Instance, now: datetime | None = None) -> str:
    """`<instance-name>-YYYYMMDD-HHMM`, fitted to the API's name rules and unused on the instance."""
    stamp = (now or timezone.now()).astimezone(UTC).strftime(_STAMP_FORMAT)
    base = _NOT_NAME_CHARACTERS.sub("-", instance.name).strip("-_")
    if not base[:1].isascii() or not base[:1].isalpha():
        base = f"backup-{base}".rstrip("-_")
    base = base[: NAME_MAX_LENGTH - len(stamp) - 1 - _SUFFIX_ROOM].rstrip("-_")
    name = candidate = f"{base}-{stamp}"
    for number in range(2, 100):
        if not rules.name_taken(instance, candidate):
            return candidate
        candidate = f"{name}-{number}"
    return f"{base}-{(now or timezone.now()).astimezone(UTC):%Y%m%d-%H%M%S}"


# --- one backup --------------------------------------------------------------------


def backup_for(user, pk: int) -> Backup:
    """A backup of one of the user's projects; 404 for anyone else."""
    visible = Backup.objects.select_related("instance__project", "requested_by").filter(
        instance__project__in=visible_projects(user)
    )
    return get_object_or_404(visible, pk=pk)


def backup_timeline(backup: Backup) -> list[BackupEvent]:
    return list(backup.events.order_by("at", "id"))


# --- overview ----------------------------------------------------------------------


@dataclass
class Overview:
    projects: list[CloudProject]
    running: list[Backup]
    attention: list[Backup]
    completed: int
    failed: int
    stale: list[Instance]
    stale_more: bool
    since: datetime

    @property
    def success_rate(self) -> int | None:
        ended = self.completed + self.failed
        return round(100 * self.completed / ended) if ended else None


OVERVIEW_LIMIT = 10


def running_backups(user, limit: int = 20) -> list[Backup]:
    return list(
        Backup.objects.filter(
            instance__project__in=[p.pk for p in visible_project_list(user)], status__in=Backup.ACTIVE_STATUSES
        )
        .select_related("instance", "requested_by")
        .order_by("-requested_at", "-id")[:limit]
    )


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
        .order_by("-requested_at", "-id")[:OVERVIEW_LIMIT]
    )
    counts = backups.filter(requested_at__gte=since).aggregate(
        completed=Count("pk", filter=Q(status=Status.COMPLETED)),
        failed=Count("pk", filter=Q(status__in=[Status.FAILED, Status.UNKNOWN])),
    )
    # Newest first by request time: one probe per instance of the partial index
    # `backup_last_success` (migration 0003), even for an instance that never succeeded.
    last_success = (
        Backup.objects.filter(instance=OuterRef("pk"), status=Status.COMPLETED)
        .order_by("-requested_at", "-id")
        .values("finished_at")[:1]
    )
    stale = list(
        Instance.objects.filter(project__in=visible, gone_at__isnull=True)
        .annotate(last_success=Subquery(last_success))
        # One comparison, so the subquery runs once per instance (`IS NULL OR <` runs it twice).
        .alias(last_success_or_never=Coalesce("last_success", Value(_NEVER)))
        .filter(last_success_or_never__lt=since)
        .order_by(F("last_success").asc(nulls_first=True), "name")[: OVERVIEW_LIMIT + 1]
    )
    by_pk = {p.pk: p for p in projects}
    for instance in stale:
        instance.project = by_pk[instance.project_id]  # already loaded: no query per row
    return Overview(
        projects=projects,
        running=running_backups(user),
        attention=attention,
        completed=counts["completed"],
        failed=counts["failed"],
        stale=stale[:OVERVIEW_LIMIT],
        stale_more=len(stale) > OVERVIEW_LIMIT,
        since=since,
    )


# --- history -----------------------------------------------------------------------


class Row(Func):
    """A row value, `(a, b)`: compared as a whole, it keeps a keyset on one index range."""

    function = ""
    output_field = Field()


@dataclass(frozen=True)
class Cursor:
    """A position in the history: the (requested_at, id) of a row, as a URL-safe token."""

    requested_at: datetime
    pk: int

    _EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

    @classmethod
    def of(cls, backup: Backup) -> "Cursor":
        return cls(backup.requested_at, backup.pk)

    def encode(self) -> str:
        micros = (self.requested_at - self._EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.pk}"

    @classmethod
    def decode(cls, token: str | None) -> "Cursor | None":
        """The cursor in `token`, or None if it is missing or not one of ours."""
        micros, _, pk = (token or "").partition(".")
        if not (micros.lstrip("-").isdigit() and pk.isdigit()):
            return None
        try:
            return cls(cls._EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except OverflowError:
            return None

    def as_row(self) -> Row:
        return Row(Value(self.requested_at), Value(self.pk))


HISTORY_KEY = Row(F("requested_at"), F("id"))


@dataclass(frozen=True)
class HistoryFilters:
    project: int | None = None
    instance: int | None = None
    status: str = ""
    person: str = ""  # a user's id, or "auto" / "cloud" for backups nobody here requested
    since: date | None = None
    until: date | None = None
    search: str = ""

    @property
    def active(self) -> bool:
        return any((self.project, self.instance, self.status, self.person, self.since, self.until, self.search))


PERSON_AUTOMATED = "auto"
PERSON_CLOUD_CONSOLE = "cloud"


def history_for(user, filters: HistoryFilters = HistoryFilters()) -> QuerySet[Backup]:
    """All backups the user may see, narrowed by the filters, newest first."""
    backups = Backup.objects.filter(instance__project__in=[p.pk for p in visible_project_list(user)])
    if filters.project:
        backups = backups.filter(instance__project_id=filters.project)
    if filters.instance:
        backups = backups.filter(instance_id=filters.instance)
    if filters.status:
        backups = backups.filter(status=filters.status)
    if filters.person == PERSON_AUTOMATED:
        backups = backups.filter(origin=Backup.Origin.CLOUD_AUTO)
    elif filters.person == PERSON_CLOUD_CONSOLE:
        backups = backups.filter(origin=Backup.Origin.CLOUD_MANUAL)
    elif filters.person:
        backups = backups.filter(requested_by_id=int(filters.person))
    if filters.since:
        backups = backups.filter(requested_at__gte=datetime.combine(filters.since, time.min, tzinfo=UTC))
    if filters.until:
        backups = backups.filter(requested_at__lt=datetime.combine(filters.until + timedelta(days=1), time.min, UTC))
    if filters.search:
        backups = backups.filter(name__icontains=filters.search)
    return backups.order_by("-requested_at", "-id")


@dataclass
class HistoryPage:
    backups: list[Backup]
    older: Cursor | None  # pass as `after` for the next, older page
    newer: Cursor | None  # pass as `before` for the previous, newer page

    @property
    def any_active(self) -> bool:
        return any(b.is_active for b in self.backups)


# What a history row shows (and its cursor needs). Building 50 rows of every column, the
# project's encrypted credentials included, cost more than the query itself; a field added
# to the row must be added here, or each row costs a query (the UI tests count them).
HISTORY_ROW_FIELDS = (
    "name",
    "status",
    "progress",
    "overdue",
    "origin",
    "requested_at",
    "started_at",
    "finished_at",
    "size_kb",
    "instance__name",
    "instance__project__name",
    "requested_by__username",
    "requested_by__first_name",
    "requested_by__last_name",
)


def history_page(
    backups: QuerySet[Backup], *, after: Cursor | None = None, before: Cursor | None = None, size: int = PAGE_SIZE
) -> HistoryPage:
    """One page of `backups` (ordered newest first) by keyset, in one query and without COUNT.

    `after` asks for the rows older than that cursor, `before` for the rows newer than it.
    The comparison is on the row value `(requested_at, id)`, which PostgreSQL answers with
    one range scan of the `backup_history` index; `requested_at < t OR (requested_at = t
    AND id < pk)` would scan far more of it (FIELD-NOTES).
    """
    rows = backups.select_related("instance__project", "requested_by").only(*HISTORY_ROW_FIELDS)
    if before is not None and after is None:
        newer_first = rows.filter(GreaterThan(HISTORY_KEY, before.as_row())).order_by("requested_at", "id")
        page = list(newer_first[: size + 1])
        has_newer = len(page) > size
        page = page[:size][::-1]
        return HistoryPage(
            page,
            older=Cursor.of(page[-1]) if page else before,
            newer=Cursor.of(page[0]) if has_newer else None,
        )
    if after is not None:
        rows = rows.filter(LessThan(HISTORY_KEY, after.as_row()))
    page = list(rows[: size + 1])
    has_older = len(page) > size
    page = page[:size]
    return HistoryPage(
        page,
        older=Cursor.of(page[-1]) if has_older else None,
        newer=(Cursor.of(page[0]) if page else after) if after is not None else None,
    )


@dataclass
class HistoryChoices:
    """The options of the history filters: only what the user may see."""

    projects: list[tuple[int, str]]
    instances: list[tuple[int, str]]
    people: list[tuple[str, str]]


def history_choices(user) -> HistoryChoices:
    """Two queries besides the user's projects (loaded once per request): their instances,
    and the people in them."""
    projects = [(p.pk, p.name) for p in visible_project_list(user)]
    visible = [pk for pk, _ in projects]
    instances = [
        (pk, f"{name} ({project})" + (" — gone" if gone else ""))
        for pk, name, project, gone in Instance.objects.filter(project__in=visible)
        .order_by("name", "project__name")
        .values_list("pk", "name", "project__name", "gone_at")
    ]
    people = [
        (str(pk), f"{first} {last}".strip() or username)
        for pk, username, first, last in get_user_model()
        .objects.filter(memberships__project__in=visible)
        .distinct()
        .order_by("first_name", "last_name", "username")
        .values_list("pk", "username", "first_name", "last_name")
    ]
    people += [(PERSON_AUTOMATED, "Automated (cloud policy)"), (PERSON_CLOUD_CONSOLE, "Cloud console (manual)")]
    return HistoryChoices(projects, instances, people)


CSV_COLUMNS = (
    ("project", "instance__project__name"),
    ("instance", "instance__name"),
    ("instance_id", "instance__cloud_id"),
    ("name", "name"),
    ("status", "status"),
    ("progress_percent", "progress"),
    ("origin", "origin"),
    ("requested_by", "requested_by__username"),
    ("requested_at_utc", "requested_at"),
    ("started_at_utc", "started_at"),
    ("finished_at_utc", "finished_at"),
    ("size_kb", "size_kb"),
    ("job_id", "job_id"),
    ("backup_id", "backup_id"),
    ("error_code", "error_code"),
)


def history_export_rows(backups: QuerySet[Backup]):
    """Plain tuples for the CSV export, streamed from the database in chunks."""
    return backups.values_list(*(column for _, column in CSV_COLUMNS)).iterator(chunk_size=2000)
