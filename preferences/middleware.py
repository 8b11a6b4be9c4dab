"""Applies the viewer's language, time zone and theme to every request, without a query.

The signed-in person's choices live in their session (put there at sign-in and on every
change: services.py). What they left to the browser comes from cookies: the language cookie
Django's LocaleMiddleware reads, and `console_tz`, which static/js/console.js sets to the
browser's time zone. The live polls never load the session (access/pollpass.py): for them,
and for anyone signed out, the cookies alone decide, so the response keeps the cookies in
step with the session's choices.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation.trans_real import parse_accept_lang_header

from .models import Preference
from .services import SESSION_KEY
from .zones import zone

# Set by static/js/console.js: Intl.DateTimeFormat().resolvedOptions().timeZone.
TIME_ZONE_COOKIE = "console_tz"
# The zone a signed-in person chose, mirrored for the polls; it outvotes the browser's.
CHOSEN_ZONE_COOKIE = "console_zone"
# The theme of the last choice on this browser, for the pages before sign-in.
THEME_COOKIE = "console_theme"
THEMES = frozenset(Preference.Theme.values)


def cookies_only(view):
    """Marks a view whose requests must not load the session (static-like answers)."""
    view.preferences_from_cookies = True
    return view


class ViewerRequest(HttpRequest):
    """What the middleware adds to every request (django-stubs' pattern, as access/decorators.py)."""

    # "auto", "light" or "dark", for <html data-theme> (templates/base.html).
    theme: str
    # Whether this request's preferences come from its session (not for the live polls).
    preferences_in_session: bool


class PreferenceMiddleware:
    """After AuthenticationMiddleware: activates the language and the time zone, sets
    `request.theme`, and keeps the language, zone and theme cookies in step with the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: ViewerRequest) -> HttpResponse:
        # The cookies' choices first: a request that never reaches a view (a 404) has them too.
        theme = request.COOKIES.get(THEME_COOKIE, "")
        request.theme = theme if theme in THEMES else Preference.Theme.AUTO
        request.preferences_in_session = False
        cookie_zone = _cookie_zone(request, CHOSEN_ZONE_COOKIE) or _cookie_zone(request, TIME_ZONE_COOKIE)
        if cookie_zone is not None:
            timezone.activate(cookie_zone)
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        # Read again: the view may have changed them (a sign-in, a switch). Only where the session
        # was read anyway: a poll's answer carries no cookie.
        if request.preferences_in_session and (chosen := request.session.get(SESSION_KEY)):
            self._keep_cookies_in_step(request, response, chosen)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # A poll answered from its pass (access/pollpass.py) would lose what the pass saves.
        if getattr(view_func, "binds_its_own_user", False) or getattr(view_func, "preferences_from_cookies", False):
            return None
        request.preferences_in_session = True
        chosen = request.session.get(SESSION_KEY)
        if not chosen:
            return None
        language = chosen.get("language") or _browser_language(request)
        if language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        # The session decides (a zone cookie may lag behind it by one answer): the chosen zone,
        # else the browser's, else the server's.
        if viewer_zone := zone(chosen.get("time_zone") or "") or _cookie_zone(request, TIME_ZONE_COOKIE):
            timezone.activate(viewer_zone)
        else:
            timezone.deactivate()
        if chosen.get("theme") in THEMES:
            request.theme = chosen["theme"]
        return None

    @staticmethod
    def _keep_cookies_in_step(request, response, chosen: dict) -> None:
        language = chosen.get("language") or ""
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            set_language_cookie(response, language)
        elif not language and settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            # "The browser's": a cookie from an earlier choice would outvote Accept-Language.
            cookie = settings.LANGUAGE_COOKIE_NAME
            response.delete_cookie(cookie, path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN)
        theme = chosen.get("theme")
        if theme in THEMES and request.COOKIES.get(THEME_COOKIE) != theme:
            set_theme_cookie(response, theme)
        chosen_zone = chosen.get("time_zone") or ""
        if chosen_zone and request.COOKIES.get(CHOSEN_ZONE_COOKIE) != chosen_zone:
            _set_cookie(response, CHOSEN_ZONE_COOKIE, chosen_zone)
        elif not chosen_zone and CHOSEN_ZONE_COOKIE in request.COOKIES:
            response.delete_cookie(CHOSEN_ZONE_COOKIE, path="/")


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite="Lax",
    )


def set_theme_cookie(response: HttpResponse, theme: str) -> None:
    _set_cookie(response, THEME_COOKIE, theme)


def _set_cookie(response: HttpResponse, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path="/",
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _cookie_zone(request: HttpRequest, name: str) -> ZoneInfo | None:
    """The zone a cookie names, or None: a cookie is anything a client sends."""
    return zone(request.COOKIES.get(name, ""))


def _browser_language(request: HttpRequest) -> str:
    """The Accept-Language header's first language we speak (Django's own lookup would let
    the language cookie of an earlier choice win)."""
    supported = dict(settings.LANGUAGES)
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        code = code.split("-")[0].lower()
        if code in supported:
            return code
    return settings.LANGUAGE_CODE
