"""Reading the audit trail back, for the people allowed to: project admins see their
projects' events, site administrators everything."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from access.models import AuditEvent, CloudProject
from access.permissions import Action, is_site_admin, projects_for

PAGE_SIZE = 50


def visible_events(user) -> QuerySet[AuditEvent]:
    """Everything for a site administrator; a project admin sees their projects' events."""
    if is_site_admin(user):
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(project__in=projects_for(user, Action.AUDIT).values("pk"))


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    person: int | None = None  # who did it, or whom it was about
    project: int | None = None
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return any((self.action, self.person, self.project, self.since, self.until))


def events_for(user, filters: AuditFilters = AuditFilters()) -> QuerySet[AuditEvent]:
    """The events `user` may see, narrowed by the filters, newest first."""
    events = visible_events(user)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.person:
        events = events.filter(Q(actor_id=filters.person) | Q(target_user_id=filters.person))
    if filters.project:
        events = events.filter(project_id=filters.project)
    if filters.since:
        events = events.filter(at__gte=datetime.combine(filters.since, time.min, tzinfo=UTC))
    if filters.until:
        events = events.filter(at__lt=datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=UTC))
    return events.order_by("-id")


@dataclass
class AuditPage:
    events: list[AuditEvent]
    older: int | None  # pass as `before` for the next, older page
    is_first: bool


def audit_page(events: QuerySet[AuditEvent], *, before: int | None = None, size: int = PAGE_SIZE) -> AuditPage:
    """One page of `events` (newest first) by keyset on the id: one query, no COUNT."""
    rows = events.filter(id__lt=before) if before else events
    page = list(rows[: size + 1])
    older = page[size - 1].pk if len(page) > size else None
    return AuditPage(page[:size], older=older, is_first=before is None)


@dataclass
class AuditChoices:
    """The options of the filters: only projects and people the user may see events of."""

    projects: list[tuple[int, str]]
    people: list[tuple[int, str]]


def audit_choices(user) -> AuditChoices:
    """Two queries: the projects, and the people who are or were in them."""
    if is_site_admin(user):
        projects = CloudProject.objects.all()
        people = get_user_model().objects.all()
    else:
        projects = projects_for(user, Action.AUDIT)
        people = get_user_model().objects.filter(memberships__project__in=projects.values("pk")).distinct()
    return AuditChoices(
        projects=list(projects.order_by("name").values_list("pk", "name")),
        people=[
            (pk, f"{first} {last}".strip() + f" ({username})" if (first or last) else username)
            for pk, username, first, last in people.order_by("username").values_list(
                "pk", "username", "first_name", "last_name"
            )
        ],
    )
