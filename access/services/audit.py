"""The audit trail: recording what happened, and reading it back for the people allowed to.

Services record their own events (`record`), inside the transaction that makes the change,
so a change and its trace are committed together or not at all. Events caused by a web
request carry the client's address, which `AuditContextMiddleware` makes available without
passing the request down to every service. Failed sign-ins come from django-axes through
`AuditingAxesHandler`: the username tried and the address, never the password.

Nothing here changes or deletes an event; the model refuses to (models.AuditEvent).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address, get_client_username
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import AuditEvent, CloudProject
from .permissions import Action, is_site_admin, projects_for

AuditAction = AuditEvent.Action
PAGE_SIZE = 50
TEXT_LIMIT = 200

# The address of the client whose request is being handled, if any (worker: none).
_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def _name(user) -> str:
    return user.get_username() if user is not None else ""


def record(
    action: str,
    *,
    actor=None,
    project: CloudProject | None = None,
    target: str = "",
    target_user=None,
    details: dict | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. `details` must be JSON and must not hold a secret."""
    return AuditEvent.objects.create(
        at=timezone.now(),
        action=action,
        actor=actor,
        actor_name=_name(actor),
        project=project,
        project_name=project.name if project is not None else "",
        target_user=target_user,
        target=target[:TEXT_LIMIT],
        details=details or {},
        ip=ip or _client_ip.get(),
    )


@contextmanager
def client_ip(ip: str | None) -> Iterator[None]:
    """Events recorded inside this block carry `ip` (unless given another)."""
    token = _client_ip.set(ip)
    try:
        yield
    finally:
        _client_ip.reset(token)


class AuditContextMiddleware:
    """Makes the client's address (found as django-axes finds it) known to `record`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with client_ip(get_client_ip_address(request)):
            return self.get_response(request)


class AuditingAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler, which also writes each failed sign-in to the trail.

    Django cleans the credentials before it signals a failure, and only the username is read
    here: the password never reaches the trail.
    """

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        username = str(get_client_username(request, credentials) or "")
        record(
            AuditAction.SIGN_IN_FAILED,
            target=username,
            details={"locked_out": bool(getattr(request, "axes_locked_out", False))},
            ip=getattr(request, "axes_ip_address", None) or get_client_ip_address(request),
        )


# --- reading it back ----------------------------------------------------------------


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
