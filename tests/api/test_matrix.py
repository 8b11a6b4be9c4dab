"""The API's URL x token x method matrix, generated from the URL configuration like the pages'
(tests/access/test_matrix.py), and decided by the same permission function.

Columns are the pages' roles, each with a token of their own, plus two tokens narrower than
their owner: an operator's read-only token, and an admin's token scoped to another project.
Every object asked for is project A's. Answers: 401 without a token, 404 for whoever may not
see A (never 403, which would say it exists), 403 for a token whose role is too low, 405 for
a method the endpoint does not take.
"""

import json

import pytest
from django.db import transaction
from django.urls import URLResolver, get_resolver, reverse

from tests.access.test_matrix import Rollback

from .conftest import API_ROLES, ApiWorld

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WRONG_METHOD = (405,) * len(API_ROLES)

#              anonymous viewer operator admin outsider site_admin read_only scoped_b
EVERYONE = (401, 200, 200, 200, 200, 200, 200, 200)
MEMBERS = (401, 200, 200, 200, 404, 404, 200, 404)
OPERATORS = (401, 403, 202, 202, 404, 404, 403, 404)
PUBLIC = (200,) * len(API_ROLES)  # the API's description: no data in it

EXPECTED: dict[str, dict[str, tuple]] = {
    "api_v1:projects": {"GET": EVERYONE},
    "api_v1:instances": {"GET": EVERYONE},
    "api_v1:instance": {"GET": MEMBERS},
    "api_v1:backups": {"GET": EVERYONE, "POST": OPERATORS},
    "api_v1:backup": {"GET": MEMBERS},
    "api_v1:openapi-json": {"GET": PUBLIC},
    "api_v1:openapi-view": {"GET": PUBLIC},
    # /api/v1/ itself: nothing there (django-ninja names it to build the other URLs).
    "api_v1:api-root": {method: (404,) * len(API_ROLES) for method in METHODS},
}
ARGS = {
    "api_v1:instance": lambda w: [w.world.instance.pk],
    "api_v1:backup": lambda w: [w.world.backup.pk],
}


def api_url_names() -> set[str]:
    (api,) = [e for e in get_resolver().url_patterns if isinstance(e, URLResolver) and e.namespace == "api_v1"]
    return {f"api_v1:{p.name}" for p in api.url_patterns}


def request(api_world: ApiWorld, who: str, method: str, url: str):
    client = api_world.client(who)
    body = json.dumps({"instance": api_world.free_instance.pk, "name": "matrix-backup"})
    return client.generic(method, url, body if method != "GET" else "", content_type="application/json")


def test_every_api_url_has_a_rule():
    assert api_url_names() == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_token_and_method_gets_its_answer(name, api_world):
    url = reverse(name, args=ARGS.get(name, lambda w: [])(api_world))
    wrong = []
    for method in METHODS:
        for who, want in zip(API_ROLES, EXPECTED[name].get(method, WRONG_METHOD), strict=True):
            try:
                with transaction.atomic():
                    got = request(api_world, who, method, url).status_code
                    raise Rollback
            except Rollback:
                pass
            if got != want:
                wrong.append(f"{method} {url} with {who}'s token: expected {want}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_lists_hold_only_what_the_token_may_see(api_world):
    world = api_world.world
    mine = {"viewer", "operator", "admin", "read_only"}
    for who in API_ROLES[1:]:
        client = api_world.client(who)
        backups = {b["name"] for b in client.get("/api/v1/backups").json()["items"]}
        instances = {i["name"] for i in client.get("/api/v1/instances").json()["items"]}
        projects = {p["name"] for p in client.get("/api/v1/projects").json()["items"]}
        if who in mine:
            assert projects == {world.project.name}, who
            assert world.backup.name in backups, who
            assert world.other_backup.name not in backups, who
            assert world.instance.name in instances, who
            assert world.other_instance.name not in instances, who
        elif who in ("outsider", "scoped_b"):
            assert projects == {world.other_project.name}, who
            assert backups == {world.other_backup.name}, who
            assert instances == {world.other_instance.name}, who
        else:  # the site administrator: a member of nothing
            assert (projects, backups, instances) == (set(), set(), set()), who


def test_a_narrowed_token_reports_its_own_role(api_world):
    (project,) = api_world.client("read_only").get("/api/v1/projects").json()["items"]
    assert project["role"] == "viewer"  # its owner is an operator there
    (project,) = api_world.client("admin").get("/api/v1/projects").json()["items"]
    assert project["role"] == "operator"  # the token's role, below its owner's admin
