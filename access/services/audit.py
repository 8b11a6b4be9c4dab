"""Recording the audit trail: who did what, when, in which project, from where.

Services record their own events (`record`), inside the transaction that makes the change,
so a change and its trace are committed together or not at all. Events caused by a web
request carry the client's address, which `middleware.AuditContextMiddleware` makes known
through `client_ip` without passing the request down to every service. Failed sign-ins come
from django-axes (`lockout.AuditingAxesHandler`): the username tried and the address, never
the password.

Nothing here changes or deletes an event; the model refuses to (models.AuditEvent). Reading
the trail back is `selectors/audit.py`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

from access.models import AuditEvent, CloudProject

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
