"""The backup history: filtered, and paged by keyset (no COUNT, no OFFSET). Its CSV export: export.py."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import F, Field, Func, QuerySet, Value
from django.db.models.functions import Upper
from django.db.models.lookups import GreaterThan, LessThan
from django.utils.translation import gettext

from access.selectors.projects import visible_project_list
from backups.models import Backup, Instance
from webapp import params

PAGE_SIZE = 50


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
        raw_micros, _, raw_pk = (token or "").partition(".")
        micros, pk = params.integer(raw_micros), params.integer(raw_pk)
        if micros is None or pk is None:
            return None
        try:
            return cls(cls._EPOCH + timedelta(microseconds=micros), pk)
        except OverflowError:  # a time before year 1 or after 9999
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
    requester: str = ""  # a username (the API names people so)
    since: date | None = None
    until: date | None = None
    search: str = ""

    @property
    def active(self) -> bool:
        return any(
            (self.project, self.instance, self.status, self.person, self.requester, self.since, self.until, self.search)
        )


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
    if filters.requester:
        backups = backups.filter(requested_by__username=filters.requester)
    if filters.since:
        backups = backups.filter(requested_at__gte=datetime.combine(filters.since, time.min, tzinfo=UTC))
    if filters.until:
        backups = backups.filter(requested_at__lt=datetime.combine(filters.until + timedelta(days=1), time.min, UTC))
    if filters.search:
        # `name_upper` is UPPER(name), stored: see the model.
        backups = backups.filter(name_upper__contains=Upper(Value(filters.search)))
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
    backups: QuerySet[Backup],
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
    fields: tuple[str, ...] = HISTORY_ROW_FIELDS,
) -> HistoryPage:
    """One page of `backups` (ordered newest first) by keyset, in one query and without COUNT.

    `after` asks for the rows older than that cursor, `before` for the rows newer than it.
    The comparison is on the row value `(requested_at, id)`, which PostgreSQL answers with
    one range scan of the `backup_history` index; `requested_at < t OR (requested_at = t
    AND id < pk)` would scan far more of it (FIELD-NOTES).
    """
    rows = backups.select_related("instance__project", "requested_by").only(*fields)
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
    """The options of the history filters: only what the user may see. `instances` holds only
    the chosen instance: the whole list (a thousand in a big team) is the filter's own request,
    `instance_choices`, made by the page once it is shown."""

    projects: list[tuple[int, str]]
    instances: list[tuple[int, str]]
    people: list[tuple[str, str]]


def instance_choices(user, *, only: int | None = None) -> list[tuple[int, str]]:
    """The instances of the user's projects as (id, "name (project)"), by name; with `only`,
    just that one (if the user may see it)."""
    visible = [p.pk for p in visible_project_list(user)]
    instances = Instance.objects.filter(project__in=visible)
    if only is not None:
        instances = instances.filter(pk=only)
    return [
        (pk, f"{name} ({project})" + (" — gone" if gone else ""))
        for pk, name, project, gone in instances.order_by("name", "project__name").values_list(
            "pk", "name", "project__name", "gone_at"
        )
    ]


def history_choices(user, *, instance: int | None = None) -> HistoryChoices:
    """One query besides the user's projects (loaded once per request), the people in them, and
    one more when an instance is chosen."""
    projects = [(p.pk, p.name) for p in visible_project_list(user)]
    visible = [pk for pk, _ in projects]
    instances = instance_choices(user, only=instance) if instance else []
    people = [
        (str(pk), f"{first} {last}".strip() or username)
        for pk, username, first, last in get_user_model()
        .objects.filter(memberships__project__in=visible)
        .distinct()
        .order_by("first_name", "last_name", "username")
        .values_list("pk", "username", "first_name", "last_name")
    ]
    people += [
        (PERSON_AUTOMATED, gettext("Automated (cloud policy)")),
        (PERSON_CLOUD_CONSOLE, gettext("Cloud console (manual)")),
    ]
    return HistoryChoices(projects, instances, people)
