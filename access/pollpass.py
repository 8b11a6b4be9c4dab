"""Poll passes: how a page's live parts poll without signing in again on every poll.

A page with something running polls every few seconds (`backups.live`), and most answers are
"nothing changed". Signing in on each poll (the session, the user, their projects) cost more
than the answer itself. So the page carries a pass: signed by us, naming the user and the
projects they could see when it was issued, bound to their session and valid for
`POLL_PASS_SECONDS`. A poll with a valid pass is answered from the pass alone.

The pass is worth nothing on its own: it is accepted only with the session cookie it was
issued for, and only while that session exists, so signing out ends it at once. A role taken
away reaches the polls within `POLL_PASS_SECONDS` (a poll shows only the status of rows the
page already showed). A poll without a valid pass signs in the usual way and is given a
fresh pass (`PollScope.renewed`), which the answer hands back to the page.
"""

from dataclasses import dataclass
from functools import wraps
from typing import cast

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare, salted_hmac

from access.decorators import login_required
from access.selectors.projects import visible_project_list
from webapp import logcontext

POLL_PARAM = "poll"
POLL_PASS_SECONDS = 60
_SALT = "access.pollpass"


class PollRequest(HttpRequest):
    """What a view behind `poll_scope` receives (django-stubs' pattern, as in decorators.py)."""

    poll: "PollScope"


@dataclass(frozen=True)
class PollScope:
    """What a poll may read: the projects, and the pass the page should poll with next."""

    project_ids: tuple[int, ...]
    # The pass for the page's next polls: the one it sent, or a new one.
    value: str
    # True when the poll came without a valid pass: its answer must hand `value` to the page.
    renewed: bool


def issue(request: HttpRequest) -> str:
    """A pass for the signed-in user of `request`, for the projects they see now."""
    projects = [project.pk for project in visible_project_list(request.user)]
    claims = {"u": request.user.get_username(), "s": _session_digest(request.session.session_key or ""), "p": projects}
    return signing.dumps(claims, salt=_SALT, compress=False)


def scope_of(request: HttpRequest) -> PollScope | None:
    """The scope of the pass `request` carries, or None when it carries no valid one."""
    value = request.GET.get(POLL_PARAM, "")
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if not value or not session_key:
        return None
    try:
        claims = signing.loads(value, salt=_SALT, max_age=POLL_PASS_SECONDS)
    except signing.BadSignature:  # expired passes too (SignatureExpired)
        return None
    if not constant_time_compare(claims.get("s", ""), _session_digest(session_key)):
        return None
    # Signed out (or expired) since: the session is gone from the store.
    if not request.session.exists(session_key):
        return None
    logcontext.bind(user=claims.get("u"))
    return PollScope(project_ids=tuple(claims.get("p", ())), value=value, renewed=False)


def poll_scope(view):
    """For a live-refresh view: sets `request.poll` to the pass's scope, or signs in as
    `login_required` does and issues a new pass."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        scope = scope_of(request)
        if scope is not None:
            cast(PollRequest, request).poll = scope
            return view(request, *args, **kwargs)
        return signed_in(request, *args, **kwargs)

    signed_in = _signed_in(view)
    wrapper.binds_its_own_user = True
    return wrapper


def _signed_in(view):
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        logcontext.bind(user=request.user.get_username())
        projects = tuple(project.pk for project in visible_project_list(request.user))
        cast(PollRequest, request).poll = PollScope(project_ids=projects, value=issue(request), renewed=True)
        return view(request, *args, **kwargs)

    return wrapper


def _session_digest(session_key: str) -> str:
    return salted_hmac(_SALT, session_key).hexdigest()[:32]
