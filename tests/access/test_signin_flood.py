"""A flood of failed sign-ins (ever-new usernames, or one account hammered past its lock-out)
adds a few audit rows, not one per attempt, while a real account's failure is still recorded."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from access.lockout import UNKNOWN_ACCOUNT, window_key
from access.models import AuditEvent

from .conftest import World

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-17"
ADDRESS = "198.51.100.7"


def sign_in(client: Client, username: str, ip: str = ADDRESS):
    return client.post(reverse("login"), {"username": username, "password": WRONG}, REMOTE_ADDR=ip)


def failures():
    return AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED)


def test_a_thousand_unknown_names_from_one_address_add_at_most_two_rows(world: World):
    client = Client()
    for n in range(1000):
        assert sign_in(client, f"guess-{n}").status_code == 200
    assert failures().count() <= 2
    assert set(failures().values_list("target", flat=True)) == {UNKNOWN_ACCOUNT}
    # A real account's failure from the same address is still recorded, at once.
    sign_in(client, "vera")
    vera = failures().get(target="vera")
    assert (vera.target_user, vera.ip) == (world.users["viewer"], ADDRESS)
    assert vera.details == {"locked_out": False, "attempts": 1}


def test_the_next_row_after_the_window_counts_the_failures_not_written(world: World):
    client = Client()
    for n in range(50):
        sign_in(client, f"guess-{n}")
    assert failures().count() == 1
    cache.delete(window_key(ADDRESS, None, False))  # the window has passed
    sign_in(client, "guess-again")
    latest = failures().order_by("-id").first()
    assert (latest.target, latest.details) == (UNKNOWN_ACCOUNT, {"locked_out": False, "attempts": 50})


def test_hammering_a_locked_account_adds_two_rows_per_address(world: World):
    client = Client()
    for _ in range(200):
        sign_in(client, "vera")
    # The first failure, and the one that locked the account out.
    assert [row.details for row in failures().order_by("id")] == [
        {"locked_out": False, "attempts": 1},
        {"locked_out": True, "attempts": 1},
    ]
    sign_in(Client(), "vera", ip="203.0.113.9")
    assert failures().filter(ip="203.0.113.9").count() == 1
