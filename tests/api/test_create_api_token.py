"""`manage.py create_api_token`: only the token on stdout, so `$(…)` catches it; made, checked
and audited by the same service as the API tokens page."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from access.models import AuditEvent, Membership
from api.models import ApiToken
from tests.access.conftest import World
from tests.factories import CloudProjectFactory, MembershipFactory

SECRET = re.compile(r"gdbc_[A-Za-z0-9_-]{43}")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args) -> str:
    err = StringIO()
    call_command("create_api_token", *args, stderr=err)
    return err.getvalue()


def test_it_prints_only_the_token_and_stores_its_hash(world: World, capsys):
    summary = run("oscar")

    out = capsys.readouterr().out
    assert SECRET.fullmatch(out.rstrip("\n")), out
    secret = out.strip()
    token = ApiToken.objects.get(token_hash=ApiToken.hash(secret))
    assert token.user == world.users["operator"]
    assert secret not in summary
    assert f"({token.prefix}…)" in summary
    assert "Operator in eu-de_alpha; no expiry." in summary


def test_by_default_it_is_an_operator_token_for_every_project_the_user_operates(world: World, capsys):
    operated = CloudProjectFactory(name="eu-de_charlie")
    viewed = CloudProjectFactory(name="eu-de_delta")
    MembershipFactory(user=world.users["operator"], project=operated, role=Membership.Role.ADMIN)
    MembershipFactory(user=world.users["operator"], project=viewed, role=Membership.Role.VIEWER)

    run("oscar")

    token = ApiToken.objects.get()
    assert token.role == ApiToken.Role.OPERATOR
    assert token.name == f"created by manage.py on {timezone.localdate().isoformat()}"
    assert {p.name for p in token.projects.all()} == {"eu-de_alpha", "eu-de_charlie"}
    assert token.expires_at is None


def test_a_viewer_token_reaches_every_project_the_user_sees(world: World, capsys):
    viewed = CloudProjectFactory(name="eu-de_delta")
    MembershipFactory(user=world.users["operator"], project=viewed, role=Membership.Role.VIEWER)

    run("oscar", "--role", "viewer", "--name", "dashboards", "--expires-days", "30")

    token = ApiToken.objects.get()
    assert (token.role, token.name) == ("viewer", "dashboards")
    assert {p.name for p in token.projects.all()} == {"eu-de_alpha", "eu-de_delta"}
    assert token.expires_at is not None


def test_it_is_audited_with_the_user_as_actor(world: World, capsys):
    run("oscar", "--project", str(world.project.pk))

    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_CREATED)
    assert (event.actor, event.project) == (world.users["operator"], world.project)


def test_a_role_above_the_users_own_is_refused_with_the_services_message(world: World, capsys):
    with pytest.raises(CommandError, match="your role in eu-de_alpha is lower than Operator"):
        run("vera", "--project", str(world.project.pk))
    assert not ApiToken.objects.exists()
    assert capsys.readouterr().out == ""


def test_a_project_the_user_is_not_in_is_refused(world: World, capsys):
    with pytest.raises(CommandError, match="--project: A token cannot do more than you"):
        run("oscar", "--project", str(world.other_project.pk), "--role", "viewer")
    assert not ApiToken.objects.exists()


def test_someone_without_a_fitting_project_is_told(world: World, capsys):
    with pytest.raises(CommandError, match=re.escape("sam has no project where their own role is Viewer or higher.")):
        run("sam", "--role", "viewer")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No active user is called nobody."),
        (["oscar", "--project", "987654"], "No project has the id 987654."),
        (["oscar", "--expires-days", "0"], "--expires-days: Between 1 and 732 days, or no expiry."),
        (["oscar", "--name", "x" * 101], "--name: At most 100 characters."),
    ],
)
def test_mistakes_are_refused_with_a_message(world: World, capsys, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)
    assert not ApiToken.objects.exists()


def test_a_deactivated_user_gets_no_token(world: World, capsys):
    world.users["operator"].is_active = False
    world.users["operator"].save()
    with pytest.raises(CommandError, match=re.escape("No active user is called oscar.")):
        run("oscar")
