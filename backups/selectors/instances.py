"""The instances list, one instance for the create-backup form, and what that form says
before it is submitted (can it go, how long it usually takes, a suggested name)."""

import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext

from access.models import CloudProject
from access.permissions import Action, user_can
from access.selectors.projects import role_label, visible_project_list
from backups import protection, rules
from backups.models import Backup, Instance
from backups.validators import NAME_MAX_LENGTH

Status = Backup.Status


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


def instances_for(
    user, *, search: str = "", project: int | None = None, status: str = "", protection_status: str = ""
) -> QuerySet[Instance]:
    """The user's instances matching the list's filters (status "gone": those gone from the cloud)."""
    projects = [p.pk for p in visible_project_list(user) if project is None or p.pk == project]
    instances = Instance.objects.filter(project__in=projects)
    if search:
        instances = instances.filter(Q(name__icontains=search) | Q(cloud_id__icontains=search))
    if status == "gone":
        instances = instances.filter(gone_at__isnull=False)
    elif status:
        instances = instances.filter(status=status, gone_at__isnull=True)
    if protection_status:
        instances = instances.filter(protection_status=protection_status, gone_at__isnull=True)
    return instances


def instances_page(
    user,
    *,
    search: str = "",
    project: int | None = None,
    status: str = "",
    protection_status: str = "",
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
    instances = instances_for(user, search=search, project=project, status=status, protection_status=protection_status)

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
            blocker = gettext("Your role (%(role)s) cannot create backups.") % {"role": group.role}
        row = InstanceRow(instance, by_pk.get(instance.last_backup_id), active, blocker)
        (group.gone if instance.gone_at else group.rows).append(row)
    # A project with nothing to list says so once, on the first page.
    shown = [g for g in groups.values() if g.rows or g.gone or (g.count == 0 and number == 1)]
    return InstancesPage(shown, number, total, size)


def instance_for(user, pk: int) -> Instance:
    """An instance of one of the user's projects; 404 for anyone else."""
    projects = {project.pk: project for project in visible_project_list(user)}
    instance = get_object_or_404(Instance.objects.filter(project__in=list(projects)), pk=pk)
    instance.project = projects[instance.project_id]  # loaded with the user's roles: no join, no query
    return instance


@dataclass
class Preflight:
    """What the create form shows before the user submits: can it go, and how long."""

    instance: Instance
    status_label: str
    running: Backup | None
    usual_duration: timedelta | None
    blocker: str | None
    # The automated window this backup would run into, if any: the usual cause of the cloud's
    # "another operation is in progress" (DBS.201015).
    window_clash: tuple[datetime, datetime] | None = None
    window_open: bool = False

    @property
    def window_text(self) -> str:
        """The clashing window in the viewer's zone, as "17:00 to 18:00 CET" (with an en dash)."""
        if not self.window_clash:
            return ""
        start, end = (moment.astimezone(timezone.get_current_timezone()) for moment in self.window_clash)
        return f"{start:%H:%M}\N{EN DASH}{end:%H:%M} {start:%Z}"

    @property
    def available(self) -> bool:
        return self.instance.status == Instance.BACKUP_ALLOWED_STATUS and not self.instance.gone_at


def preflight(instance: Instance, now: datetime | None = None) -> Preflight:
    running = rules.active_backup(instance)
    usual = usual_duration(instance)
    now = now or timezone.now()
    clash = window_clash(instance, now, usual)
    return Preflight(
        instance=instance,
        status_label=rules.instance_status_label(instance.status),
        running=running,
        usual_duration=usual,
        blocker=rules.instance_backup_blocker(instance, running),
        window_clash=clash,
        window_open=clash is not None and clash[0] <= now,
    )


WINDOW_MARGIN = timedelta(minutes=30)


def window_clash(instance: Instance, now: datetime, usual: timedelta | None) -> tuple[datetime, datetime] | None:
    """The automated backup window a manual backup started now would overlap (it runs for
    about its usual duration, or half an hour), or None."""
    policy = protection.Policy(instance.policy_keep_days, instance.policy_start_time, instance.policy_period)
    window = protection.next_window(policy, now)
    if window and window[0] < now + (usual or WINDOW_MARGIN):
        return window
    return None


def usual_duration(instance: Instance) -> timedelta | None:
    """The median duration of the instance's last completed backups, if it has a history."""
    recent = Backup.objects.filter(
        instance=instance, status=Status.COMPLETED, started_at__isnull=False, finished_at__isnull=False
    ).order_by("-finished_at")[:20]
    durations = [b.finished_at - b.started_at for b in recent if b.finished_at and b.started_at]
    # median sorts and averages, which timedeltas do; typeshed asks for numbers.
    return statistics.median(durations) if durations else None  # type: ignore[type-var]


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
