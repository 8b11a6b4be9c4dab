"""Every URL, role and method, with the answer each must get, generated from the URL configuration.

A URL without an entry in EXPECTED fails `test_every_url_has_a_rule`: adding a view means
deciding, here, who may use it. Each request runs in a savepoint that is rolled back, so an
allowed POST (removing a member, say) does not change what the next request sees.

Answers: LOGIN (sent to sign-in: a 302, or for htmx an HX-Redirect), 404 for outsiders of
the object's project, 403 for a role too low, 200/286/302 when allowed, 405 for a method the
view does not take. Site administrators reach every project's team and credentials, but see
instances and backups only of projects they belong to (none here).
"""

from collections.abc import Callable

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from access.models import Invitation, Membership
from api.models import ApiToken
from api.services.tokens import token_create
from notifications.models import Channel
from restores.models import Restore
from tests.access.invitations import invite, token_in

from .conftest import HTMX, ROLES, World

Role = Membership.Role
NEWCOMER = "newcomer@example.com"
LOGIN = "login"
METHODS = ("GET", "POST", "HX-GET", "HX-POST")

# What a view says to a method it does not take: anonymous people are sent to sign in first.
WRONG_METHOD = (LOGIN, 405, 405, 405, 405, 405)

#            anonymous viewer operator admin outsider site_admin
EVERYONE = (LOGIN, 200, 200, 200, 200, 200)
MEMBERS = (LOGIN, 200, 200, 200, 404, 404)
OPERATORS = (LOGIN, 403, 200, 200, 404, 404)
PROJECT_ADMINS = (LOGIN, 403, 403, 200, 404, 200)
ADMINS_ANYWHERE = (LOGIN, 403, 403, 200, 200, 200)
SITE_ADMINS = (LOGIN, 403, 403, 403, 403, 200)
TEAM_CHANGE = (LOGIN, 403, 403, 302, 404, 302)
TEAM_CHANGE_HTMX = (LOGIN, 403, 403, 200, 404, 200)
ACCOUNT_CHANGE = (LOGIN, 403, 403, 403, 404, 302)
ACCOUNT_CHANGE_HTMX = (LOGIN, 403, 403, 403, 404, 200)
SIGNED_IN_AWAY = (200, 302, 302, 302, 302, 302)  # the sign-in page sends signed-in people on

# URL name -> {method: expected answer per role, in ROLES order}. "HX-" methods not listed
# expect what their plain method does; methods not listed at all expect WRONG_METHOD.
EXPECTED: dict[str, dict[str, tuple]] = {
    "backups:overview": {"GET": EVERYONE},
    # 286 stops the poll: nothing of theirs is running.
    "backups:overview_running": {"GET": (LOGIN, 200, 200, 200, 286, 286)},
    "backups:instances": {"GET": EVERYONE},
    # Refreshes every project the user operates: B for the outsider, none for the site admin.
    "backups:instances_refresh": {"POST": (LOGIN, 403, 302, 302, 302, 403)},
    "backups:instance_detail": {"GET": MEMBERS},
    # Admins of the instance's project; an empty post re-renders the form with its errors.
    "backups:instance_policy": {"POST": (LOGIN, 403, 403, 200, 404, 404)},
    # An empty RPO is valid: the instance follows the project's again.
    "backups:instance_rpo": {"POST": (LOGIN, 403, 403, 302, 404, 404)},
    # Back to the page the form was on, with the error as a message.
    "backups:project_rpo": {"POST": TEAM_CHANGE},
    "backups:backup_create": {"GET": OPERATORS, "POST": OPERATORS},
    "backups:backup_validate": {"POST": OPERATORS},
    "backups:history": {"GET": EVERYONE},
    "backups:history_export": {"GET": EVERYONE},
    # The instance filter's options: each user gets only their projects' (test_history.py).
    "backups:history_instance_options": {"GET": EVERYONE},
    # The history's live poll, naming project A's running backup: members get its row, and
    # for everyone else it names nothing of theirs, so 286 ends the poll.
    "backups:history_live": {"GET": (LOGIN, 200, 200, 200, 286, 286)},
    "backups:backup_detail": {"GET": MEMBERS},
    # Its live part, polled without a pass here: members sign in and get the part back.
    "backups:backup_live": {"GET": MEMBERS},
    # Restores: project Admins. The world's backup is still running and its instance has no
    # completed one, so the restore form and "Rehearse now" send an Admin back with the reason.
    "restores:restore_create": {"GET": (LOGIN, 403, 403, 302, 404, 404), "POST": (LOGIN, 403, 403, 302, 404, 404)},
    # The point-in-time form and its window: the cloud cannot be reached here, which they say.
    "restores:restore_point_in_time": {
        "GET": (LOGIN, 403, 403, 200, 404, 404),
        "POST": (LOGIN, 403, 403, 200, 404, 404),
    },
    "restores:restore_window": {"GET": (LOGIN, 403, 403, 200, 404, 404)},
    "restores:rehearsal_start": {"POST": (LOGIN, 403, 403, 302, 404, 404)},
    # An empty form is a valid "no schedule".
    "restores:rehearsal_schedule": {"POST": (LOGIN, 403, 403, 302, 404, 404)},
    "restores:restore_detail": {"GET": MEMBERS},
    "access:project_list": {"GET": ADMINS_ANYWHERE},
    "access:project_connect": {"GET": SITE_ADMINS, "POST": SITE_ADMINS},
    "access:project_credentials": {"GET": PROJECT_ADMINS, "POST": PROJECT_ADMINS},
    "access:team": {"GET": PROJECT_ADMINS},
    "access:member_add": {"POST": PROJECT_ADMINS},
    "access:member_role": {"POST": TEAM_CHANGE, "HX-POST": TEAM_CHANGE_HTMX},
    "access:member_remove": {"POST": TEAM_CHANGE, "HX-POST": TEAM_CHANGE_HTMX},
    "access:member_deactivate": {"POST": ACCOUNT_CHANGE, "HX-POST": ACCOUNT_CHANGE_HTMX},
    "access:member_reactivate": {"POST": ACCOUNT_CHANGE, "HX-POST": ACCOUNT_CHANGE_HTMX},
    "access:invitation_send": {"POST": PROJECT_ADMINS},
    "access:invitation_resend": {"POST": TEAM_CHANGE, "HX-POST": TEAM_CHANGE_HTMX},
    "access:invitation_revoke": {"POST": TEAM_CHANGE, "HX-POST": TEAM_CHANGE_HTMX},
    # The link in an invitation email: whoever holds it sees the page. Signed out, an empty form
    # is shown again with its errors; signed in, with why their account cannot accept it.
    "access:invitation_accept": {"GET": (200,) * 6, "POST": (200,) * 6},
    "access:audit": {"GET": ADMINS_ANYWHERE},
    "notifications:channels": {"GET": PROJECT_ADMINS, "POST": PROJECT_ADMINS},
    "notifications:channel_edit": {"GET": PROJECT_ADMINS, "POST": PROJECT_ADMINS},
    "notifications:channel_remove": {"POST": TEAM_CHANGE, "HX-POST": TEAM_CHANGE_HTMX},
    "notifications:channel_test": {"POST": TEAM_CHANGE, "HX-POST": TEAM_CHANGE_HTMX},
    # Everyone's own choice; an empty form is a valid "no".
    "notifications:mine": {"GET": EVERYONE, "POST": (LOGIN, 302, 302, 302, 302, 302)},
    # Everyone's own tokens; an empty form is shown again with its errors.
    "tokens:list": {"GET": EVERYONE, "POST": EVERYONE},
    # The token is the operator's: anyone else's token is as unknown to them as a missing one.
    "tokens:revoke": {"POST": (LOGIN, 404, 302, 404, 404, 404), "HX-POST": (LOGIN, 404, 200, 404, 404, 404)},
    "login": {"GET": SIGNED_IN_AWAY, "POST": SIGNED_IN_AWAY},
    # Signing out answers POST only, and ends on the sign-in page.
    "logout": {"GET": (405,) * 6, "POST": (LOGIN,) * 6},
    "password_change": {"GET": EVERYONE, "POST": EVERYONE},
    "password_change_done": {"GET": EVERYONE},
    # A person's own language, time zone and theme.
    "preferences:edit": {"GET": EVERYONE, "POST": EVERYONE},
    # The one-click switches work signed out too (the sign-in page has them): back to the page.
    "preferences:language": {"GET": (405,) * 6, "POST": (302,) * 6},
    "preferences:theme": {"GET": (405,) * 6, "POST": (302,) * 6},
    # The JavaScript catalogue: the same for everyone, signed in or not.
    "preferences:javascript_catalog": {"GET": (200,) * 6, "POST": (405,) * 6},
    # Prometheus metrics: off (404) unless METRICS_TOKEN is set, and then only for its bearer.
    "metrics": {"GET": (404,) * 6, "POST": (404,) * 6},
}

# The object each URL is about: always project A's, which outsiders must not reach.
ARGS: dict[str, Callable[[World], list]] = {
    "backups:instance_detail": lambda w: [w.instance.pk],
    "backups:instance_policy": lambda w: [w.instance.pk],
    "backups:instance_rpo": lambda w: [w.instance.pk],
    "backups:project_rpo": lambda w: [w.project.pk],
    "backups:backup_create": lambda w: [w.instance.pk],
    "backups:backup_validate": lambda w: [w.instance.pk],
    "backups:backup_detail": lambda w: [w.backup.pk],
    "backups:backup_live": lambda w: [w.backup.pk],
    "access:project_credentials": lambda w: [w.project.pk],
    "access:team": lambda w: [w.project.pk],
    "access:member_add": lambda w: [w.project.pk],
    "access:member_role": lambda w: [w.project.pk, w.member.pk],
    "access:member_remove": lambda w: [w.project.pk, w.member.pk],
    "access:member_deactivate": lambda w: [w.project.pk, w.member.pk],
    "access:member_reactivate": lambda w: [w.project.pk, w.member.pk],
    "access:invitation_send": lambda w: [w.project.pk],
    "access:invitation_resend": lambda w: [w.project.pk, invitation(w).pk],
    "access:invitation_revoke": lambda w: [w.project.pk, invitation(w).pk],
    "access:invitation_accept": lambda w: [invitation(w).token],
    "notifications:channels": lambda w: [w.project.pk],
    "notifications:channel_edit": lambda w: [w.project.pk, channel(w).pk],
    "notifications:channel_remove": lambda w: [w.project.pk, channel(w).pk],
    "notifications:channel_test": lambda w: [w.project.pk, channel(w).pk],
    "tokens:revoke": lambda w: [api_token(w).pk],
    "restores:restore_create": lambda w: [w.backup.pk],
    "restores:restore_point_in_time": lambda w: [w.instance.pk],
    "restores:restore_window": lambda w: [w.instance.pk],
    "restores:rehearsal_start": lambda w: [w.instance.pk],
    "restores:rehearsal_schedule": lambda w: [w.instance.pk],
    "restores:restore_detail": lambda w: [restore(w).pk],
    "preferences:javascript_catalog": lambda w: ["de"],
}
QUERY: dict[str, str | Callable[[World], str]] = {
    "backups:backup_validate": "?field=name",
    "backups:history_live": lambda w: f"?live={w.backup.pk}.unseen",
}


def url_of(name: str, world: World) -> str:
    """The URL the matrix requests for `name`, with its arguments and query string."""
    query = QUERY.get(name, "")
    return reverse(name, args=ARGS.get(name, lambda w: [])(world)) + (query(world) if callable(query) else query)


def invitation(world: World) -> Invitation:
    """A waiting invitation of project A, for someone who has no account yet (the same one
    however often a test asks)."""
    waiting = Invitation.objects.filter(project=world.project, email=NEWCOMER, accepted_at=None, revoked_at=None)
    if invitation := waiting.select_related("email_message").first():
        invitation.token = token_in(invitation.email_message)
        return invitation
    return invite(world.project, NEWCOMER, Role.OPERATOR, by=world.users["admin"])


def restore(world: World) -> Restore:
    """A restore of project A's backup (the same one however often a test asks)."""
    return Restore.objects.filter(project=world.project).first() or Restore.objects.create(
        project=world.project,
        backup=world.backup,
        source_instance=world.instance,
        target_name="alpha-restored",
        requested_at=timezone.now(),
    )


def channel(world: World) -> Channel:
    """A notification channel of project A (the same one however often a test asks)."""
    return Channel.objects.filter(project=world.project).first() or Channel.objects.create(
        project=world.project,
        kind="slack",
        name="alerts",
        target="https://hooks.example.com/x",
        display="hooks.example.com",
    )


def api_token(world: World) -> ApiToken:
    """An API token of project A's operator (the same one however often a test asks)."""
    owner = world.users["operator"]
    return (
        ApiToken.objects.filter(user=owner).first()
        or token_create(user=owner, name="ci", role="operator", projects=[world.project])[0]
    )


def url_names(patterns=None, namespace: str = "") -> set[str]:
    """The names of all URL patterns, namespaced, except Django's admin and the API."""
    names = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith(("admin/", "api/v1/")):
                continue  # each has a matrix of its own (the API's: tests/api/test_matrix.py)
            prefix = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= url_names(entry.url_patterns, prefix)
        elif isinstance(entry, URLPattern):
            assert entry.name, f"URL {entry.pattern} has no name, so it cannot have a rule"
            names.add(f"{namespace}{entry.name}")
    return names


def expected(name: str, method: str) -> tuple:
    rules = EXPECTED[name]
    return rules.get(method) or rules.get(method.removeprefix("HX-")) or WRONG_METHOD


def sent_to_sign_in(response) -> bool:
    login = reverse("login")
    if response.status_code == 302:
        return response["Location"].startswith(login)
    return response.status_code == 200 and response.get("HX-Redirect", "").startswith(login)


def answer(response) -> str | int:
    return LOGIN if sent_to_sign_in(response) else response.status_code


def request(world: World, role: str, method: str, url: str):
    client = world.client(role)
    extra = HTMX if method.startswith("HX-") else {}
    if method.endswith("POST"):
        return client.post(url, {}, **extra)
    return client.get(url, **extra)


class Rollback(Exception):
    pass


def test_every_url_has_a_rule():
    assert url_names() == set(EXPECTED)
    assert set(ARGS) <= set(EXPECTED)


def test_the_matrix_is_complete():
    cases = [(name, role, method) for name in EXPECTED for role in ROLES for method in METHODS]
    assert len(cases) == len(EXPECTED) * 6 * 4
    assert all(len(expected(name, method)) == len(ROLES) for name, _, method in cases)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_role_and_method_gets_its_answer(name, world):
    url = url_of(name, world)
    wrong = []
    for method in METHODS:
        for role, want in zip(ROLES, expected(name, method), strict=True):
            try:
                with transaction.atomic():
                    got = answer(request(world, role, method, url))
                    raise Rollback
            except Rollback:
                pass
            if got != want:
                wrong.append(f"{method} {url} as {role}: expected {want}, got {got}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", ["/admin/", "/admin/access/auditevent/", "/admin/auth/user/"])
def test_django_admin_is_for_staff_only(world, path):
    for role in ("viewer", "operator", "admin", "outsider"):
        response = world.client(role).get(path)
        assert response.status_code == 302, role
        assert response["Location"].startswith("/admin/login/"), role
    assert world.client("site_admin").get(path).status_code == 200
