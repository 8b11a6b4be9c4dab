"""The API tokens page: everyone makes, sees and revokes their own tokens, no one else's.

A new token's secret is in one answer only, the one to the form that made it: never in the
session, a message or a log, and that answer is not cached."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from access.decorators import login_required
from api.forms import TokenForm
from api.selectors.tokens import user_token, user_tokens
from api.services import tokens as token_services
from webapp.htmx import wants_fragment

PAGE = "api/tokens.html"


def console_url(request: HttpRequest) -> str:
    """Where scripts reach this console: CONSOLE_URL, or the address of this request."""
    return (settings.CONSOLE_URL or request.build_absolute_uri("/")).rstrip("/")


def page_context(request: HttpRequest, **extra) -> dict:
    return {
        "tokens": user_tokens(request.user),
        "form": extra.pop("form", None) or TokenForm(user=request.user),
        "console_url": console_url(request),
        **extra,
    }


@never_cache
# Every frame below the view holds the secret (its context too): none goes into an error report.
@sensitive_variables()
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, PAGE, page_context(request))
    form = TokenForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        token, secret = token_services.token_create(
            user=request.user,
            name=data["name"],
            role=data["role"],
            projects=data["projects"],
            expires_in_days=data["expires_in_days"],
        )
        # Rendered, not redirected to: the page after a redirect could only show it if it were stored.
        return render(request, PAGE, page_context(request, created=token, secret=secret))
    return render(request, PAGE, page_context(request, form=form))


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = user_token(request.user, pk)
    revoked = token_services.token_revoke(token=token, by=request.user)
    if wants_fragment(request):
        token.refresh_from_db(fields=["revoked_at"])
        return render(request, f"{PAGE}#token_row", {"token": token})
    if revoked:
        messages.success(
            request,
            _("The token %(name)s is revoked: requests with it are refused from now on.") % {"name": token.name},
        )
    else:
        messages.info(request, _("The token %(name)s was revoked already.") % {"name": token.name})
    return redirect("tokens:list")
