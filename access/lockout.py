"""Failed sign-ins: django-axes counts them and locks out (settings: AXES_*); this handler
also writes them to the audit trail, in a bounded number of rows.

A script that tries ever-new usernames, or hammers one account long after the lock-out, would
otherwise add a row per attempt to a table that is never trimmed. So, per client address and
per `AUDIT_SIGN_IN_FAILURE_MINUTES` window, one row is written for each account tried (and one
more when it gets locked out), and one for all names that are no account, which are recorded
as "unknown account" rather than as typed (people type their password into the username box).
The failures in between are counted in the shared cache and reported by the next row, as
`attempts`: that failure plus the ones not written since the previous row.
"""

from contextlib import suppress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address, get_client_username
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from access.models import AuditEvent
from access.services.audit import record

UNKNOWN_ACCOUNT = "unknown account"
# How long failures not written yet are remembered, waiting for the next row to report them.
UNWRITTEN_SECONDS = 24 * 3600


def window_key(ip: str | None, account_id: int | None, locked_out: bool) -> str:
    """The cache key that is set while failures of this kind from `ip` are only counted."""
    return f"audit-sign-in-failed:{ip}:{account_id or 'unknown'}:{'locked' if locked_out else 'open'}"


def attempts_to_record(ip: str | None, account_id: int | None, locked_out: bool) -> int:
    """How many failures a row written now stands for; 0 when this one is only counted."""
    key = window_key(ip, account_id, locked_out)
    unwritten = f"{key}:unwritten"
    if cache.add(key, True, timeout=settings.AUDIT_SIGN_IN_FAILURE_MINUTES * 60):
        counted = cache.get(unwritten, 0)
        if counted:
            # Not delete: failures counted meanwhile by other processes stay for the next row.
            with suppress(ValueError):  # the count expired in between
                cache.decr(unwritten, counted)
        return 1 + counted
    if not cache.add(unwritten, 1, timeout=UNWRITTEN_SECONDS):
        with suppress(ValueError):
            cache.incr(unwritten)
        cache.touch(unwritten, UNWRITTEN_SECONDS)  # the file cache's incr resets the timeout
    return 0


class AuditingAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler, which also writes failed sign-ins to the trail.

    Django cleans the credentials before it signals a failure, and only the username is read
    here: the password never reaches the trail.
    """

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        username = str(get_client_username(request, credentials) or "")
        User = get_user_model()
        account = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first() if username else None
        ip = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
        locked_out = bool(getattr(request, "axes_locked_out", False))
        attempts = attempts_to_record(ip, account.pk if account else None, locked_out)
        if attempts:
            record(
                AuditEvent.Action.SIGN_IN_FAILED,
                target=account.get_username() if account else UNKNOWN_ACCOUNT,
                target_user=account,
                details={"locked_out": locked_out, "attempts": attempts},
                ip=ip,
            )
