"""Failed sign-ins: django-axes counts them and locks out (settings: AXES_*); this handler
also writes each one to the audit trail."""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address, get_client_username

from access.models import AuditEvent
from access.services.audit import record


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
            AuditEvent.Action.SIGN_IN_FAILED,
            target=username,
            details={"locked_out": bool(getattr(request, "axes_locked_out", False))},
            ip=getattr(request, "axes_ip_address", None) or get_client_ip_address(request),
        )
