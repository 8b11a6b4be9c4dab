"""The team page and its services: adding people, roles, removing, deactivating, and the rule
that a project always keeps an active admin."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, Membership, ProvenEmail
from access.services.accounts import account_deactivate
from access.services.team import member_remove, member_role_change
from tests.factories import MembershipFactory, UserFactory

from .conftest import HTMX, World, text

pytestmark = pytest.mark.django_db
Role = Membership.Role


def team_url(world: World, name: str = "team", membership: Membership | None = None) -> str:
    args = [world.project.pk] + ([membership.pk] if membership else [])
    return reverse(f"access:{name}", args=args)


@pytest.fixture
def admin_membership(world: World) -> Membership:
    return Membership.objects.get(user=world.users["admin"], project=world.project)


def test_team_page_lists_members_admins_first(world: World):
    html = text(world.client("admin").get(team_url(world)))
    # By username, where the table shows it: full names come from Faker, and a "Rivera" in the
    # page header or a row once made this test fail.
    rows = [html.index(f'<span class="sub">{username}') for username in ("ada", "oscar", "vera")]
    assert rows == sorted(rows)
    assert "otto" not in html  # B's admin


def test_the_last_admin_cannot_be_removed(world: World, admin_membership):
    client = world.client("admin")
    response = client.post(team_url(world, "member_remove", admin_membership))
    assert response.status_code == 302
    assert "ada is the last admin of eu-de_alpha and cannot be removed" in text(client.get(response["Location"]))
    response = client.post(team_url(world, "member_remove", admin_membership), **HTMX)
    assert response.status_code == 200
    assert "cannot be removed. Make someone else admin first." in text(response)
    assert Membership.objects.filter(pk=admin_membership.pk, role=Role.ADMIN).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_REMOVED).exists()


def test_the_last_admin_cannot_be_demoted(world: World, admin_membership):
    response = world.client("admin").post(team_url(world, "member_role", admin_membership), {"role": "viewer"}, **HTMX)
    assert "cannot be demoted" in text(response)
    assert Membership.objects.get(pk=admin_membership.pk).role == Role.ADMIN
    with pytest.raises(ValidationError, match="last admin"):
        member_role_change(membership=admin_membership, role=Role.OPERATOR, by=world.users["site_admin"])


def test_the_last_admin_shows_why_its_buttons_are_disabled(world: World):
    html = text(world.client("admin").get(team_url(world)))
    assert "The last admin of a project cannot be removed or demoted" in html
    assert "disabled" in html


def test_a_second_admin_makes_demotion_possible_and_is_audited(world: World, admin_membership):
    member_role_change(membership=world.member, role=Role.ADMIN, by=world.users["admin"])
    response = world.client("admin").post(team_url(world, "member_role", admin_membership), {"role": "operator"})
    # Ada demoted herself: the team page is no longer hers, so she goes to the overview.
    assert response.status_code == 302
    assert response["Location"] == reverse("backups:overview")
    assert Membership.objects.get(pk=admin_membership.pk).role == Role.OPERATOR
    changes = AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_CHANGED).order_by("id")
    assert [(e.target, e.details) for e in changes] == [
        ("mia", {"from": "viewer", "to": "admin"}),
        ("ada", {"from": "admin", "to": "operator"}),
    ]
    assert changes[1].actor == world.users["admin"]
    assert changes[1].project == world.project
    # Now mia is the last admin.
    with pytest.raises(ValidationError):
        member_remove(membership=world.member, by=world.users["admin"])


def test_a_deactivated_admin_does_not_count(world: World, admin_membership):
    member_role_change(membership=world.member, role=Role.ADMIN, by=world.users["admin"])
    world.member.user.is_active = False
    world.member.user.save()
    with pytest.raises(ValidationError, match="last admin"):
        member_remove(membership=admin_membership, by=world.users["admin"])


def test_deactivating_the_last_admin_of_a_project_is_refused(world: World):
    with pytest.raises(ValidationError, match="last admin of eu-de_alpha"):
        account_deactivate(user=world.users["admin"], by=world.users["site_admin"])
    assert type(world.users["admin"]).objects.get(pk=world.users["admin"].pk).is_active


def test_team_changes_lock_the_project_until_they_commit(world: World, admin_membership):
    """Two admins demoting each other at once: the second waits for the first, then sees it."""
    with CaptureQueriesContext(connection) as queries:
        member_role_change(membership=world.member, role=Role.OPERATOR, by=world.users["admin"])
    if connection.vendor == "postgresql":
        assert any("FOR UPDATE" in q["sql"] and "backups_cloudproject" in q["sql"] for q in queries.captured_queries)
    else:
        # SQLite: every transaction takes the database's write lock when it begins.
        assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_add_an_existing_account_by_username_or_by_the_email_it_proved(world: World):
    walt = UserFactory(username="walt", email="walt@example.com")
    ProvenEmail.objects.create(user=walt, email="walt@example.com", proven_at=timezone.now())
    client = world.client("admin")
    response = client.post(team_url(world, "member_add"), {"person": "WALT@example.com", "role": "operator"})
    assert response.status_code == 302
    membership = Membership.objects.get(project=world.project, user__username="walt")
    assert membership.role == Role.OPERATOR
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_ADDED)
    assert (event.actor, event.target_user, event.details) == (
        world.users["admin"],
        membership.user,
        {"role": "operator"},
    )
    again = client.post(team_url(world, "member_add"), {"person": "walt", "role": "viewer"})
    assert again.status_code == 200
    assert "already a member of eu-de_alpha (Operator)" in text(again)
    # By username, in any case, as before.
    UserFactory(username="Wanda")
    assert client.post(team_url(world, "member_add"), {"person": "wanda", "role": "viewer"}).status_code == 302
    assert Membership.objects.filter(project=world.project, user__username="Wanda", role=Role.VIEWER).exists()


CSRF = re.compile(r'(?<=value=")[A-Za-z0-9]{64}(?=")|(?<="X-CSRFToken": ")[A-Za-z0-9]{64}')
NO_ACCOUNT = "No account can be added with that name. To bring someone new in, invite them by email."


def test_adding_answers_the_same_for_no_account_and_an_account_that_may_not_be_added(world: World):
    """A project admin trying names learns nothing about who has an account, or what state it
    is in: the answer, and the page, are the same for each."""
    gone = UserFactory(username="gone", email="gone@example.com", is_active=False)
    ProvenEmail.objects.create(user=gone, email="gone@example.com", proven_at=timezone.now())
    UserFactory(username="unproven", email="unproven@example.com")  # typed in by whoever made the account
    client = world.client("admin")
    pages = []
    for person in ("ghost", "ghost@example.com", "gone", "gone@example.com", "unproven@example.com", ""):
        response = client.post(team_url(world, "member_add"), {"person": person, "role": "viewer"})
        assert response.status_code == 200, person
        html = text(response)
        if person:
            assert NO_ACCOUNT in html, person
        # Apart from the value typed back into the field (and the CSRF token's mask), the pages are the same.
        pages.append(CSRF.sub("csrf", html.replace(f'value="{person}"', 'value=""')))
    assert len(set(pages[:-1])) == 1
    assert not Membership.objects.filter(project=world.project, user__username__in=["gone", "unproven"]).exists()
    assert "deactivated" not in pages[0]


def test_a_member_can_hold_different_roles_in_different_projects(world: World):
    MembershipFactory(user=world.users["viewer"], project=world.other_project, role=Role.ADMIN)
    vera = world.client("viewer")
    assert vera.get(reverse("access:team", args=[world.other_project.pk])).status_code == 200
    assert vera.get(reverse("access:team", args=[world.project.pk])).status_code == 403
    assert vera.get(reverse("backups:backup_create", args=[world.other_instance.pk])).status_code == 200
    assert vera.get(reverse("backups:backup_create", args=[world.instance.pk])).status_code == 403


def test_site_admin_deactivates_and_reactivates_an_account(world: World):
    mia = world.member.user
    mia_client = world.client("viewer")
    mia_client.force_login(mia)
    client = world.client("site_admin")
    response = client.post(team_url(world, "member_deactivate", world.member), **HTMX)
    assert response.status_code == 200
    assert "Deactivated" in text(response)
    mia.refresh_from_db()
    assert not mia.is_active
    # Her session ends with it.
    assert mia_client.get(reverse("backups:overview"))["Location"].startswith(reverse("login"))
    client.post(team_url(world, "member_reactivate", world.member))
    mia.refresh_from_db()
    assert mia.is_active
    actions = list(AuditEvent.objects.filter(target_user=mia).order_by("id").values_list("action", "actor__username"))
    assert actions == [("account_deactivated", "sam"), ("account_reactivated", "sam")]


def test_nobody_deactivates_their_own_account(world: World):
    with pytest.raises(ValidationError, match="your own account"):
        account_deactivate(user=world.users["site_admin"], by=world.users["site_admin"])


def test_project_admins_do_not_see_the_deactivate_button(world: World):
    assert "Deactivate" not in text(world.client("admin").get(team_url(world)))
    assert "Deactivate" in text(world.client("site_admin").get(team_url(world)))


def test_nav_shows_team_and_audit_only_to_admins(world: World):
    for role, shown in (("viewer", False), ("operator", False), ("admin", True), ("site_admin", True)):
        html = text(world.client(role).get(reverse("backups:overview")))
        assert ('href="/projects/"' in html) is shown, role
        assert ('href="/audit/"' in html) is shown, role
