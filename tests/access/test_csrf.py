"""Every state-changing endpoint refuses a POST without the CSRF token, htmx ones included, and
takes it with the token htmx sends from `<body hx-headers>`. The endpoints come from the
matrix's table, so a new POST view is covered as soon as it has a rule."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from access.models import Membership

from .conftest import HTMX, ROLES, World
from .test_matrix import EXPECTED, LOGIN, Rollback, expected, url_of

pytestmark = pytest.mark.django_db

HX_HEADERS = re.compile(r"""<body hx-headers='\{"X-CSRFToken": "([^"]+)"\}'>""")


def post_endpoints() -> list[tuple[str, str]]:
    """(URL name, a role for which a POST goes through): every POST endpoint of the table."""
    cases = []
    for name in sorted(EXPECTED):
        if "POST" not in EXPECTED[name]:
            continue
        answers = dict(zip(ROLES, expected(name, "POST"), strict=True))
        allowed = [role for role in ROLES if answers[role] not in (LOGIN, 403, 404, 405)]
        # Signing out sends everyone to sign in again: any signed-in person will do.
        cases.append((name, allowed[0] if allowed else "viewer"))
    return cases


def test_every_post_endpoint_is_covered():
    assert {name for name, _ in post_endpoints()} == {n for n, rules in EXPECTED.items() if "POST" in rules}
    assert len(post_endpoints()) >= 12


@pytest.mark.parametrize(("name", "role"), post_endpoints())
def test_post_without_the_csrf_token_is_refused(world: World, name, role):
    url = url_of(name, world)
    client = world.client(role, enforce_csrf_checks=True)
    role_before = Membership.objects.get(pk=world.member.pk).role
    for extra in ({}, HTMX):
        response = client.post(url, {"role": "admin", "kind": "existing"}, **extra)
        assert response.status_code == 403, (name, extra)
        assert b"CSRF" in response.content
    assert Membership.objects.filter(pk=world.member.pk, role=role_before).exists()


@pytest.mark.parametrize(("name", "role"), post_endpoints())
def test_post_with_the_token_htmx_sends_goes_through(world: World, name, role):
    url = url_of(name, world)
    client = world.client(role, enforce_csrf_checks=True)
    page = client.get(reverse("login") if role == "anonymous" else reverse("password_change"))
    token = HX_HEADERS.search(page.content.decode()).group(1)
    try:
        with transaction.atomic():
            response = client.post(url, {}, HTTP_X_CSRFTOKEN=token, **HTMX)
            raise Rollback
    except Rollback:
        pass
    assert response.status_code != 403 or b"CSRF" not in response.content, name
