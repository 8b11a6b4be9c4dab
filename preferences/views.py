"""The preferences page, the one-click switches of the top bar, and the JavaScript catalogue."""

from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import last_modified, require_POST
from django.views.i18n import JavaScriptCatalog

from access.decorators import login_required

from .forms import PreferenceForm
from .middleware import THEMES, TIME_ZONE_COOKIE, cookies_only, set_language_cookie, set_theme_cookie
from .services import preference_of, preference_remember, preference_update
from .zones import is_zone

# Set at start: a deploy (new translations) changes it, so browsers fetch the catalogue again.
_STARTED = datetime.now(UTC)


@login_required
def edit(request: HttpRequest) -> HttpResponse:
    browser_zone = request.COOKIES.get(TIME_ZONE_COOKIE, "")
    browser_zone = browser_zone if is_zone(browser_zone) else ""
    preference = preference_of(request.user)
    form = PreferenceForm(request.POST or None, instance=preference, browser_zone=browser_zone)
    if request.method == "POST" and form.is_valid():
        preference = preference_update(user=request.user, **form.cleaned_data)
        preference_remember(request=request, preference=preference)
        # Said in the language just chosen, which the next page speaks.
        with translation.override(preference.language or translation.get_language()):
            messages.success(request, gettext("Your preferences are saved."))
        # The middleware brings the cookies in step with the session on this answer.
        return redirect("preferences:edit")
    return render(request, "preferences/edit.html", {"form": form, "browser_zone": browser_zone})


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The top bar's language switch: for everyone, saved on the profile of the signed in."""
    language = request.POST.get("language", "")
    response = _back(request)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        preference_remember(request=request, preference=preference_update(user=request.user, language=language))
    set_language_cookie(response, language)
    return response


@require_POST
def theme_switch(request: HttpRequest) -> HttpResponse:
    """The top bar's theme switch: for everyone, saved on the profile of the signed in."""
    theme = request.POST.get("theme", "")
    response = _back(request)
    if theme not in THEMES:
        return response
    if request.user.is_authenticated:
        preference_remember(request=request, preference=preference_update(user=request.user, theme=theme))
    set_theme_cookie(response, theme)
    return response


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """To the page the switch was on: a local address only, never one a link could send elsewhere."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("backups:overview")
    return HttpResponseRedirect(target)


@cookies_only
@cache_control(public=True, max_age=3600)
@last_modified(lambda request, language: _STARTED)
def javascript_catalog(request: HttpRequest, language: str) -> HttpResponseBase:
    """static/js/console.js's texts in `language`: the language is in the address, so a
    browser may keep each for an hour without mixing them up."""
    if language not in dict(settings.LANGUAGES):
        raise Http404
    with translation.override(language):
        return JavaScriptCatalog.as_view()(request)
