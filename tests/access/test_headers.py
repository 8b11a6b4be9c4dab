"""The browser is told to be strict: a Content Security Policy without inline script, style or
eval on every page (and the pages need none), the other security headers, and cookies that
stay on HTTPS and out of reach of scripts."""

import re

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .conftest import HTMX, World, text

pytestmark = pytest.mark.django_db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def pages(world: World) -> dict[str, tuple[str, str]]:
    """Page name -> (role that sees it, URL)."""
    return {
        "sign-in": ("anonymous", reverse("login")),
        "overview": ("operator", reverse("backups:overview")),
        "instances": ("operator", reverse("backups:instances")),
        "history": ("operator", reverse("backups:history")),
        "detail": ("operator", reverse("backups:backup_detail", args=[world.backup.pk])),
        "create": ("operator", reverse("backups:backup_create", args=[world.instance.pk])),
        "projects": ("site_admin", reverse("access:project_list")),
        "connect": ("site_admin", reverse("access:project_connect")),
        "team": ("admin", reverse("access:team", args=[world.project.pk])),
        "credentials": ("admin", reverse("access:project_credentials", args=[world.project.pk])),
        "audit": ("admin", reverse("access:audit")),
        "password": ("viewer", reverse("password_change")),
        "403": ("viewer", reverse("access:team", args=[world.project.pk])),
        "404": ("outsider", reverse("access:team", args=[world.project.pk])),
    }


def test_every_page_has_the_content_security_policy(world: World):
    for name, (role, url) in pages(world).items():
        for extra in ({}, HTMX):
            response = world.client(role).get(url, **extra)
            assert directives(response["Content-Security-Policy"]) == directives(CSP), name


def test_the_policy_has_no_unsafe_source():
    policy = str(settings.CONTENT_SECURITY_POLICY)
    assert "unsafe" not in policy
    assert "nonce" not in policy


def test_security_headers_are_set(world: World):
    for role, url in pages(world).values():
        response = world.client(role).get(url)
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "name", ["projects", "connect", "team", "credentials", "audit", "password", "sign-in", "403", "404"]
)
def test_new_pages_hold_under_the_strict_policy(world: World, name):
    role, url = pages(world)[name]
    html = text(world.client(role).get(url))
    assert not INLINE_SCRIPT.search(html)
    assert " style=" not in html
    assert "hx-on" not in html
    assert "js:" not in html
    assert not re.search(r'(src|href|action)="(https?:)?//', html)


def test_session_and_csrf_cookies_are_secure_httponly_and_same_site(world: World):
    """Tests run with DEBUG off, as production does."""
    assert not settings.DEBUG
    assert settings.SESSION_COOKIE_SECURE
    assert settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    response = world.client("anonymous").post(reverse("login"), {"username": "vera", "password": "pw-for-tests"})
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


def views(patterns=None, *, namespace=None):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from views(entry.url_patterns, namespace=entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield namespace, entry


def test_no_page_is_exempt_from_csrf():
    for namespace, pattern in views():
        # The API takes no cookie, only a bearer token (tests/api/test_auth.py: a session is
        # refused), so no other site can make a browser send its credentials.
        if namespace != "api_v1":
            assert not getattr(pattern.callback, "csrf_exempt", False), pattern
