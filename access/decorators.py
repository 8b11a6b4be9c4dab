"""What every view of the console checks first: that someone is signed in (in a way htmx
understands) and that their role allows the action."""

from functools import wraps

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_htmx.http import HttpResponseClientRedirect

from access.models import CloudProject
from access.permissions import Action, user_can
from webapp.htmx import htmx_of


class AuthenticatedHttpRequest(HttpRequest):
    """What a view behind `login_required` receives: a signed-in user (django-stubs' pattern)."""

    user: User


def login_required(view):
    """Like Django's, but an htmx request is sent to the sign-in page as a whole page:
    swapping the sign-in form into a table row would help nobody."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if htmx := htmx_of(request):
            return HttpResponseClientRedirect(redirect_to_login(htmx.current_url_abs_path or "/").url)
        return redirect_to_login(request.get_full_path())

    return wrapper


# Said on the 403 page: what the refused action needs.
NEEDED_ROLE = {
    Action.VIEW: _("Seeing this project's instances and backups needs a role in the project."),
    Action.BACKUP: _("Creating backups and refreshing from the cloud need the Operator or Admin role."),
    Action.MANAGE: _("Managing the team and the cloud credentials needs the Admin role."),
    Action.RESTORE: _("Restoring a backup to a new instance and rehearsing restores need the Admin role."),
    Action.AUDIT: _("The audit trail is for the project's admins."),
    Action.CONNECT: _("Connecting cloud projects is for site administrators."),
    Action.DEACTIVATE: _("Deactivating accounts is for site administrators."),
}


def require(user, action: Action, project: CloudProject | int | None) -> None:
    """403 for a member whose role is too low (outsiders never get this far: selectors 404)."""
    if not user_can(user, action, project):
        raise PermissionDenied(NEEDED_ROLE[action])
