"""What every view shares: sign-in that htmx understands, permission checks, partials."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect

from backups.models import CloudProject
from backups.permissions import Action, user_can


def login_required(view):
    """Like Django's, but an htmx request is sent to the sign-in page as a whole page:
    swapping the sign-in form into a table row would help nobody."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            return HttpResponseClientRedirect(redirect_to_login(request.htmx.current_url_abs_path or "/").url)
        return redirect_to_login(request.get_full_path())

    return wrapper


# Said on the 403 page: what the refused action needs.
NEEDED_ROLE = {
    Action.VIEW: "Seeing this project's instances and backups needs a role in the project.",
    Action.BACKUP: "Creating backups and refreshing from the cloud need the Operator or Admin role.",
    Action.MANAGE: "Managing the team and the cloud credentials needs the Admin role.",
    Action.AUDIT: "The audit trail is for the project's admins.",
    Action.CONNECT: "Connecting cloud projects is for site administrators.",
    Action.DEACTIVATE: "Deactivating accounts is for site administrators.",
}


def require(user, action: Action, project: CloudProject | int) -> None:
    """403 for a member whose role is too low (outsiders never get this far: selectors 404)."""
    if not user_can(user, action, project):
        raise PermissionDenied(NEEDED_ROLE[action])


def wants_fragment(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def render_page(request: HttpRequest, template: str, context: dict, *, fragment: str, status: int = 200):
    """The whole page, or only its `fragment` partial when htmx asks for a piece of it."""
    name = f"{template}#{fragment}" if wants_fragment(request) else template
    return render(request, name, context, status=status)
