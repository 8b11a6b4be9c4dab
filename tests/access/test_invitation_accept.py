"""Accepting an invitation: whoever holds the link chooses their own username and password and
joins with the invited role, their address now proven; a link works once, until it expires, and
a refused attempt changes nothing. And the account takeover between projects that initial
passwords allowed is gone."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, Invitation, Membership, ProvenEmail
from access.services.invitations import (
    InvitationNotValid,
    invitation_accept_new_account,
    invitation_resend,
    invitation_revoke,
)
from tests.access.invitations import BASE_URL, invite
from tests.factories import MembershipFactory, UserFactory

from .conftest import World, text

pytestmark = pytest.mark.django_db
Role = Membership.Role
User = get_user_model()
NEW_PASSWORD = "a-Passphrase-of-my-own-42"
NO_LONGER_VALID = "This invitation is no longer valid"
NO_ACCOUNT = "No account can be added with that name. To bring someone new in, invite them by email."


def new_account(username: str = "nora", password: str = NEW_PASSWORD, **fields) -> dict:
    return {"username": username, "password1": password, "password2": password} | fields


def add(client: Client, project, person: str, role: str = "viewer"):
    return client.post(reverse("access:member_add", args=[project.pk]), {"person": person, "role": role})


# --- the takeover the old "new account" form allowed ---------------------------------------


def test_an_admin_of_another_project_can_no_longer_take_over_an_account(world: World):
    """B's admin used to create alice@corp.example with a password of their choosing; when A's
    admin then added alice@corp.example, B's admin could sign in as alice into A. Now: B's admin
    cannot make an account at all, their invitation's link reaches only alice's mailbox, and A's
    admin finds alice by email only once alice herself has proven it."""
    otto = world.client("outsider")  # admin of B
    ada = world.client("admin")  # admin of A

    # The old form is gone: a POST shaped like it makes nothing.
    old_form = {
        "kind": "new",
        "username": "alice",
        "email": "alice@corp.example",
        "role": "admin",
        "initial_password": "Chosen-by-otto-1",
    }
    assert otto.post(reverse("access:member_add", args=[world.other_project.pk]), old_form).status_code == 200
    assert not User.objects.filter(username="alice").exists()

    # Otto invites alice to B: the link exists only in the email to alice, never on Otto's pages.
    invitation = invite(world.other_project, "alice@corp.example", Role.VIEWER, by=world.users["outsider"])
    seen_by_otto = text(otto.get(reverse("access:team", args=[world.other_project.pk])))
    seen_by_otto += text(otto.get(reverse("access:audit")))
    assert invitation.token not in seen_by_otto
    assert "alice@corp.example" in seen_by_otto  # he sees that it waits, and how its delivery goes

    # Otto makes an account from an invitation to an address he reads, named like alice's.
    own = invite(world.other_project, "otto.alt@evil.example", Role.VIEWER, by=world.users["outsider"])
    Client().post(own.url, new_account("alice.corp", first_name="Alice", email="alice@corp.example"))
    squatter = User.objects.get(username="alice.corp")
    assert squatter.email == "otto.alt@evil.example"  # the invited address, not one he typed
    assert squatter.proven_email.email == "otto.alt@evil.example"

    # A's admin adds alice by her address: nobody proved it, so nothing is found.
    response = add(ada, world.project, "alice@corp.example", "operator")
    assert NO_ACCOUNT in text(response)
    assert not Membership.objects.filter(project=world.project).exclude(
        user__username__in=["vera", "oscar", "ada", "mia"]
    )

    # Alice accepts B's invitation herself, with her own password: now her address is proven.
    alice_browser = Client()
    assert alice_browser.post(invitation.url, new_account("alice")).status_code == 302
    alice = User.objects.get(username="alice")
    assert alice.check_password(NEW_PASSWORD)
    assert add(ada, world.project, "alice@corp.example", "operator").status_code == 302
    assert Membership.objects.get(project=world.project, user=alice).role == Role.OPERATOR
    # Otto never held a credential of hers: his only way in is his own account's.
    assert not Membership.objects.filter(project=world.project, user=squatter).exists()


def test_an_address_typed_on_an_account_finds_nothing_until_it_is_proven(world: World):
    """Site administrators make accounts in Django's admin with any address: unproven."""
    UserFactory(username="walt", email="walt@corp.example")
    assert NO_ACCOUNT in text(add(world.client("admin"), world.project, "walt@corp.example"))
    assert add(world.client("admin"), world.project, "walt").status_code == 302  # by username, as before


# --- accepting with a new account ----------------------------------------------------------


def test_accepting_an_invitation_makes_the_account_and_signs_in(world: World):
    invitation = invite(world.project, "nora@example.com", Role.OPERATOR, by=world.users["admin"], name="Nora New")
    browser = Client()
    page = browser.get(invitation.url)
    assert page.status_code == 200
    html = text(page)
    assert "Join eu-de_alpha" in html
    assert "nora@example.com" in html
    assert "as Operator" in html
    assert 'value="Nora"' in html  # the name the admin gave, as a start
    assert 'name="password1"' in html

    response = browser.post(invitation.url, new_account("nora", first_name="Nora", last_name="New"))
    assert response.status_code == 302
    assert response["Location"] == reverse("backups:overview")
    welcome = browser.get(response["Location"])
    assert welcome.status_code == 200  # signed in
    assert "Welcome: you are Operator of eu-de_alpha." in text(welcome)

    nora = User.objects.get(username="nora")
    assert (nora.email, nora.first_name, nora.last_name, nora.is_active) == ("nora@example.com", "Nora", "New", True)
    assert nora.check_password(NEW_PASSWORD)
    assert Membership.objects.get(project=world.project, user=nora).role == Role.OPERATOR
    assert ProvenEmail.objects.get(user=nora).email == "nora@example.com"
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by == nora
    events = AuditEvent.objects.filter(target_user=nora).order_by("id")
    assert [(e.action, e.actor) for e in events] == [("account_created", nora), ("invitation_accepted", nora)]
    assert events[1].details == {
        "invitation": invitation.pk,
        "email": "nora@example.com",
        "role": "operator",
        "new_account": True,
    }
    for event in AuditEvent.objects.all():
        assert invitation.token not in f"{event.target} {event.details}"
        assert NEW_PASSWORD not in f"{event.target} {event.details}"
    # The link worked once.
    again = Client().get(invitation.url)
    assert again.status_code == 410
    assert NO_LONGER_VALID in text(again)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (new_account("vera"), "The username vera is taken"),
        (new_account("VERA"), "The username VERA is taken"),
        (new_account("nora", "123"), "This password is too short"),
        (new_account("nora", "nora@example.com-1"), "too similar"),
        (new_account("no ra"), "Enter a valid username"),
        (new_account("nora") | {"password2": "something-else-77"}, "two password fields didn"),
    ],
)
def test_the_username_and_password_are_checked_and_nothing_is_accepted_until_they_pass(world: World, fields, message):
    invitation = invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
    response = Client().post(invitation.url, fields)
    assert response.status_code == 200
    assert message in text(response)
    assert fields["password1"] not in text(response).split('name="password1"')[1].split(">")[0]
    assert not User.objects.filter(email="nora@example.com").exists()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


# --- links that no longer work -------------------------------------------------------------


def _expire(world, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())


def _use(world, invitation):
    assert Client().post(invitation.url, new_account("first")).status_code == 302


def _revoke(world, invitation):
    invitation_revoke(invitation=invitation, by=world.users["admin"])


def _replace(world, invitation):
    invitation_resend(invitation=invitation, by=world.users["admin"], base_url=BASE_URL)


def _tamper(world, invitation):
    flipped = invitation.token[:-1] + ("A" if invitation.token[-1] != "A" else "B")
    invitation.url = invitation.url.replace(invitation.token, flipped)


@pytest.mark.parametrize(
    ("spoil", "status"),
    # Gone (410) when the link was good once; not found (404) when it never was, or was replaced.
    [(_expire, 410), (_use, 410), (_revoke, 410), (_replace, 404), (_tamper, 404)],
    ids=["expired", "used", "revoked", "replaced", "tampered"],
)
def test_a_link_that_no_longer_works_is_refused_and_changes_nothing(world: World, spoil, status):
    invitation = invite(world.project, "nora@example.com", Role.ADMIN, by=world.users["admin"])
    spoil(world, invitation)
    before = (
        list(User.objects.order_by("pk").values_list("pk", "username", "password")),
        list(Membership.objects.order_by("pk").values_list("pk", "role")),
        list(ProvenEmail.objects.values_list("user_id", "email")),
        list(Invitation.objects.order_by("pk").values_list("pk", "accepted_at", "accepted_by", "revoked_at")),
        AuditEvent.objects.count(),
    )
    browser = Client()
    for response in (browser.get(invitation.url), browser.post(invitation.url, new_account("second"))):
        assert response.status_code == status
        assert NO_LONGER_VALID in text(response)
    signed_in = world.client("viewer")
    assert signed_in.post(invitation.url).status_code == status
    after = (
        list(User.objects.order_by("pk").values_list("pk", "username", "password")),
        list(Membership.objects.order_by("pk").values_list("pk", "role")),
        list(ProvenEmail.objects.values_list("user_id", "email")),
        list(Invitation.objects.order_by("pk").values_list("pk", "accepted_at", "accepted_by", "revoked_at")),
        AuditEvent.objects.count(),
    )
    assert after == before
    assert not User.objects.filter(username="second").exists()
    assert browser.get(reverse("backups:overview")).status_code == 302  # not signed in


@pytest.mark.django_db(transaction=True)
def test_two_people_accepting_one_link_at_once_make_one_account(world: World):
    """Both pass the form's checks; the conditional UPDATE of the claim lets one through."""
    invitation = invite(world.project, "nora@example.com", Role.OPERATOR, by=world.users["admin"])
    start = threading.Barrier(2)
    outcomes = {}

    def accept(username):
        start.wait()
        try:
            invitation_accept_new_account(token=invitation.token, username=username, password=NEW_PASSWORD)
            outcomes[username] = "accepted"
        except InvitationNotValid:
            outcomes[username] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(name,)) for name in ("racer1", "racer2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) == ["accepted", "refused"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "accepted")
    assert list(User.objects.filter(username__startswith="racer").values_list("username", flat=True)) == [winner]
    assert Membership.objects.filter(project=world.project, user__username__startswith="racer").count() == 1
    assert list(ProvenEmail.objects.values_list("user__username", flat=True)) == [winner]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITATION_ACCEPTED).count() == 1


# --- accepting with an account one has ----------------------------------------------------


@pytest.fixture
def walt(world: World):
    """An account that proved walt@example.com (by an earlier invitation to another project)."""
    walt = UserFactory(username="walt", email="walt@example.com")
    MembershipFactory(user=walt, project=world.other_project, role=Role.VIEWER)
    ProvenEmail.objects.create(user=walt, email="walt@example.com", proven_at=timezone.now())
    return walt


def test_the_owner_of_a_proven_address_signs_in_and_accepts_with_their_account(world: World, walt):
    invitation = invite(world.project, "WALT@example.com", Role.OPERATOR, by=world.users["admin"])
    browser = Client()
    page = text(browser.get(invitation.url))
    assert "This address belongs to an account already" in page
    assert 'name="password1"' not in page
    assert f"/accounts/login/?next=/invitations/{invitation.token}/" in page
    # Signed out, a POST cannot make a second account for the address.
    assert browser.post(invitation.url, new_account("walt2")).status_code == 200
    assert not User.objects.filter(username="walt2").exists()

    browser.force_login(walt)
    assert "accept the invitation with this account" in text(browser.get(invitation.url))
    response = browser.post(invitation.url)
    assert response.status_code == 302
    assert "Welcome: you are Operator of eu-de_alpha." in text(browser.get(response["Location"]))
    assert Membership.objects.get(project=world.project, user=walt).role == Role.OPERATOR
    invitation.refresh_from_db()
    assert invitation.accepted_by == walt
    event = AuditEvent.objects.get(action=AuditEvent.Action.INVITATION_ACCEPTED)
    assert (event.actor, event.details["new_account"]) == (walt, False)


def test_someone_else_signed_in_cannot_accept_an_invitation_for_another_address(world: World, walt):
    invitation = invite(world.project, "walt@example.com", Role.ADMIN, by=world.users["admin"])
    vera = world.client("viewer")  # signed in, and holding walt's link somehow
    page = text(vera.get(invitation.url))
    assert "belongs to another account" in page
    assert "Sign out" in page
    assert vera.post(invitation.url).status_code == 200
    assert Membership.objects.get(project=world.project, user=world.users["viewer"]).role == Role.VIEWER
    assert not Membership.objects.filter(project=world.project, user=walt).exists()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None
    # An address nobody proved: a signed-in person with another address cannot take it either.
    other = invite(world.project, "nobody-yet@example.com", Role.ADMIN, by=world.users["admin"])
    assert "Sign out to accept it with a new account" in text(vera.post(other.url))
    assert not ProvenEmail.objects.filter(email="nobody-yet@example.com").exists()


def test_an_account_with_the_invited_address_unproven_proves_it_by_accepting(world: World):
    """An account a site administrator made, with the address the invitation went to."""
    kim = UserFactory(username="kim", email="Kim@Example.com")
    invitation = invite(world.project, "kim@example.com", Role.VIEWER, by=world.users["admin"])
    browser = Client()
    browser.force_login(kim)
    assert browser.post(invitation.url).status_code == 302
    assert ProvenEmail.objects.get(user=kim).email == "kim@example.com"
    assert Membership.objects.get(project=world.project, user=kim).role == Role.VIEWER
    assert add(world.client("outsider"), world.other_project, "kim@example.com").status_code == 302


def test_a_member_who_accepts_again_keeps_their_role(world: World):
    ada = world.users["admin"]
    invitation = invite(world.project, "ada@example.com", Role.VIEWER, by=world.users["site_admin"])
    ProvenEmail.objects.create(user=ada, email="ada@example.com", proven_at=timezone.now())  # proven meanwhile
    browser = Client()
    browser.force_login(ada)
    response = browser.post(invitation.url)
    assert response.status_code == 302
    assert "you are Admin of eu-de_alpha" in text(browser.get(response["Location"]))
    assert Membership.objects.get(project=world.project, user=ada).role == Role.ADMIN
