"""Signing in: repeated wrong passwords lock a username at an address for a while, every failure
is in the audit trail without the password, and someone given an initial password must
replace it before doing anything else."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import Client
from django.urls import reverse

from access.models import AuditEvent, InitialPassword

from .conftest import HTMX, PASSWORD, World, text

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
WRONG = "not-the-password-17"


def sign_in(client: Client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_repeated_wrong_passwords_lock_out_and_the_lock_lapses(world: World):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "vera", WRONG)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in text(response)
    locked = sign_in(client, "vera", WRONG)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in text(locked)
    # Now even the right password is refused, from that address.
    assert sign_in(client, "vera", PASSWORD).status_code == 429
    # Another address is not locked out (username and address together).
    assert sign_in(Client(), "vera", PASSWORD, ip="203.0.113.9").status_code == 302
    # The cool-off passes.
    assert settings.AXES_COOLOFF_TIME == 0.25
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    response = sign_in(client, "vera", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("backups:overview")


def test_sign_in_failures_are_audited_with_username_and_address_but_no_password(world: World):
    sign_in(Client(), "vera", WRONG)
    sign_in(Client(), "nobody-here", WRONG, ip="203.0.113.50")
    events = list(AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).order_by("id"))
    assert [(e.target, e.ip) for e in events] == [("vera", "198.51.100.7"), ("nobody-here", "203.0.113.50")]
    assert all(e.actor_id is None for e in events)
    for event in events:
        assert WRONG not in str(event.details) + event.target
    html = text(world.client("site_admin").get(reverse("access:audit") + "?action=sign_in_failed"))
    assert "nobody-here" in html
    assert WRONG not in html


def test_sign_in_failures_are_for_site_administrators_only(world: World):
    sign_in(Client(), "vera", WRONG)
    assert "Sign-in failed</span>" not in text(world.client("admin").get(reverse("access:audit")))
    assert "Sign-in failed</span>" in text(world.client("site_admin").get(reverse("access:audit")))


def test_lockout_after_the_limit_is_audited_as_such(world: World):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "vera", WRONG)
    last = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).order_by("-id").first()
    assert last.details == {"locked_out": True}


# --- an initial password must be replaced -------------------------------------------------


@pytest.fixture
def newcomer(world: World):
    """Created by the project admin on the team page, with an initial password."""
    response = world.client("admin").post(
        reverse("access:member_add", args=[world.project.pk]),
        {
            "kind": "new",
            "username": "nora",
            "first_name": "Nora",
            "last_name": "New",
            "email": "nora@example.com",
            "role": "operator",
            "initial_password": "Initial-pass-4821",
        },
    )
    assert response.status_code == 302, text(response)
    return "nora"


def test_new_member_with_an_initial_password_is_forced_to_change_it(world: World, newcomer):
    client = Client()
    response = sign_in(client, newcomer, "Initial-pass-4821")
    assert response.status_code == 302
    for url in (reverse("backups:overview"), reverse("backups:history"), reverse("access:audit"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("password_change"), url
    assert client.get(reverse("backups:instances"), **HTMX)["HX-Redirect"] == reverse("password_change")
    page = client.get(reverse("password_change"))
    assert page.status_code == 200
    assert "Choose your own password" in text(page)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "Initial-pass-4821",
            "new_password1": "my-own-Passphrase-99",
            "new_password2": "my-own-Passphrase-99",
        },
    )
    assert response.status_code == 302
    assert not InitialPassword.objects.filter(user__username=newcomer).exists()
    assert client.get(reverse("backups:overview")).status_code == 200
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PASSWORD_CHANGED, target=newcomer, details={"replaced_initial_password": True}
    ).exists()


def test_signing_out_stays_possible_before_the_change(world: World, newcomer):
    client = Client()
    sign_in(client, newcomer, "Initial-pass-4821")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("backups:overview"))["Location"].startswith(LOGIN)


def test_the_initial_password_is_never_shown_or_recorded(world: World, newcomer):
    html = text(world.client("admin").get(reverse("access:team", args=[world.project.pk])))
    assert "Initial-pass-4821" not in html
    assert "Initial password" in html  # the account's state, in words
    for event in AuditEvent.objects.all():
        assert "Initial-pass-4821" not in f"{event.target} {event.details}"
    created = AuditEvent.objects.get(action=AuditEvent.Action.ACCOUNT_CREATED)
    assert (created.actor, created.project, created.target) == (world.users["admin"], world.project, "nora")


def test_a_weak_initial_password_is_refused(world: World):
    response = world.client("admin").post(
        reverse("access:member_add", args=[world.project.pk]),
        {"kind": "new", "username": "weak", "role": "viewer", "initial_password": "123"},
    )
    assert response.status_code == 200
    assert "This password is too short" in text(response)
    assert "123" not in text(response).split('name="initial_password"')[1].split(">")[0]
