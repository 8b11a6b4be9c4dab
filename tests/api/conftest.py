"""Tokens for everyone in the access tests' world (tests/access/conftest.py): an operator token
for each person who may have one, and the narrower tokens the API must not let do more.

Each `api(name)` is a Django test client that sends that token (or none, for "anonymous")."""

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.utils import timezone

from access.models import Membership
from api.models import ApiToken
from api.services.tokens import TOKEN_PREFIX, token_create
from tests.access.conftest import World, _fast_passwords, _person, world  # noqa: F401 - fixtures, shared
from tests.factories import InstanceFactory

Role = Membership.Role

# The API's columns: the UI's roles, then the tokens narrower than their owner.
#   read_only:  the operator of A, with a viewer token for A
#   scoped_b:   an admin of A and B, with a token for B only
API_ROLES = ("anonymous", "viewer", "operator", "admin", "outsider", "site_admin", "read_only", "scoped_b")


@dataclass
class ApiWorld:
    world: World
    free_instance: object  # an instance of A with nothing running, so a create can go through
    secrets: dict[str, str | None] = field(default_factory=dict)

    def client(self, who: str) -> Client:
        secret = self.secrets[who]
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}") if secret else Client()


def bare_token(user, projects, role=ApiToken.Role.OPERATOR, **fields) -> str:
    """A token made without the service's checks: for owners the service would refuse."""
    secret = f"{TOKEN_PREFIX}test-{user.username}-{role}-{ApiToken.objects.count()}"
    token = ApiToken.objects.create(
        user=user,
        name="test",
        token_hash=ApiToken.hash(secret),
        prefix=secret[:11],
        role=role,
        created_at=timezone.now(),
        **fields,
    )
    token.projects.set(projects)
    return secret


@pytest.fixture
def api_world(world) -> ApiWorld:  # noqa: F811
    users = world.users
    free = InstanceFactory(project=world.project, name="alpha-free")
    secrets: dict[str, str | None] = {"anonymous": None}
    secrets["viewer"] = token_create(user=users["viewer"], name="ci", role="viewer", projects=[world.project])[1]
    for who in ("operator", "admin"):
        secrets[who] = token_create(user=users[who], name="ci", role="operator", projects=[world.project])[1]
    secrets["outsider"] = token_create(
        user=users["outsider"], name="ci", role="operator", projects=[world.other_project]
    )[1]
    # A site administrator belongs to no project, so the service would refuse them any scope;
    # such a token (say, from before they left) must not carry site-wide powers.
    secrets["site_admin"] = bare_token(users["site_admin"], [world.project, world.other_project])
    secrets["read_only"] = token_create(user=users["operator"], name="ro", role="viewer", projects=[world.project])[1]
    both = _person("abe", world.project, Role.ADMIN)
    Membership.objects.create(user=both, project=world.other_project, role=Role.ADMIN)
    secrets["scoped_b"] = token_create(user=both, name="b", role="operator", projects=[world.other_project])[1]
    return ApiWorld(world, free, secrets)
