"""Signing in: repeated wrong passwords lock a username at an address for a while, every failure
is in the audit trail without the password, and a person's own password change is audited.
(Nobody signs in with a password someone else chose: people come in by invitation,
test_invitations.py.)"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import Client
from django.urls import reverse

from access.models import AuditEvent

from .conftest import PASSWORD, World, text

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
    # A name that is no account is not recorded as typed: it may be someone's password.
    assert [(e.target, e.ip) for e in events] == [("vera", "198.51.100.7"), ("unknown account", "203.0.113.50")]
    assert [e.target_user for e in events] == [world.users["viewer"], None]
    assert all(e.actor_id is None for e in events)
    for event in events:
        assert WRONG not in str(event.details) + event.target
    html = text(world.client("site_admin").get(reverse("access:audit") + "?action=sign_in_failed"))
    assert "unknown account" in html
    assert "nobody-here" not in html
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
    assert last.details == {"locked_out": True, "attempts": 1}


# --- a person's own password -------------------------------------------------------------


def test_changing_ones_own_password_is_audited_without_the_password(world: World):
    client = Client()
    sign_in(client, "vera", PASSWORD)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "my-own-Passphrase-99", "new_password2": "my-own-Passphrase-99"},
    )
    assert response.status_code == 302
    assert client.get(reverse("backups:overview")).status_code == 200  # the session survives its own change
    event = AuditEvent.objects.get(action=AuditEvent.Action.PASSWORD_CHANGED)
    assert (event.actor, event.target_user, event.details) == (world.users["viewer"], world.users["viewer"], {})
    assert sign_in(Client(), "vera", "my-own-Passphrase-99").status_code == 302
