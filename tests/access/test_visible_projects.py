"""The projects a person sees, and their roles there, come in one query per request; a token
brings its scope's projects and roles in one query too. Fewer queries, same answers."""

import pytest
from django.test import Client

from access.models import Membership
from access.permissions import Action, projects_for, role_in, user_can
from access.selectors.projects import role_summary, visible_project_list
from api.services.tokens import token_create
from tests.factories import BackupFactory, CloudProjectFactory, InstanceFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role


@pytest.fixture
def projects():
    return [CloudProjectFactory(name=name) for name in ("eu-de_c", "eu-de_a", "eu-de_b")]


def test_projects_and_roles_come_in_one_query(projects, django_assert_num_queries):
    person = UserFactory()
    MembershipFactory(user=person, project=projects[0], role=Role.ADMIN)
    MembershipFactory(user=person, project=projects[1], role=Role.VIEWER)
    with django_assert_num_queries(1):
        visible = visible_project_list(person)
        roles = [role_in(person, project) for project in projects]
        summary = role_summary(person)
        may_manage = [user_can(person, Action.MANAGE, project) for project in projects]
    assert [p.name for p in visible] == ["eu-de_a", "eu-de_c"]
    assert roles == [Role.ADMIN, Role.VIEWER, None]
    assert summary.detail == "Viewer in eu-de_a; Admin in eu-de_c"
    assert may_manage == [True, False, False]


def test_the_same_projects_as_the_permission_rules(projects):
    person = UserFactory()
    MembershipFactory(user=person, project=projects[2], role=Role.OPERATOR)
    site_admin = UserFactory(is_superuser=True, is_staff=True)
    inactive = UserFactory(is_active=False)
    MembershipFactory(user=inactive, project=projects[0], role=Role.ADMIN)
    for user in (person, site_admin, inactive):
        expected = list(projects_for(user, Action.VIEW).order_by("name"))
        assert visible_project_list(user) == expected
    # A site administrator looks after teams, but sees backups only where a member.
    assert visible_project_list(site_admin) == []
    assert visible_project_list(inactive) == []


def test_roles_loaded_first_still_give_the_right_projects(projects, django_assert_num_queries):
    person = UserFactory()
    MembershipFactory(user=person, project=projects[1], role=Role.OPERATOR)
    assert role_in(person, projects[1]) == Role.OPERATOR  # loads the roles alone
    with django_assert_num_queries(1):
        assert visible_project_list(person) == [projects[1]]


def test_an_api_list_costs_three_queries_and_stays_in_the_tokens_scope(projects, django_assert_num_queries):
    owner = UserFactory()
    for project in projects:
        MembershipFactory(user=owner, project=project, role=Role.OPERATOR)
    in_scope, out_of_scope = projects[1], projects[2]
    BackupFactory(instance=InstanceFactory(project=in_scope), name="in-scope-backup")
    BackupFactory(instance=InstanceFactory(project=out_of_scope), name="out-of-scope-backup")
    secret = token_create(user=owner, name="ci", role="viewer", projects=[in_scope])[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.get("/api/v1/projects")  # records the token's first use: a write once a minute

    # The token with its owner, the owner's roles in the token's projects with the projects,
    # then the page itself.
    with django_assert_num_queries(3):
        backups = client.get("/api/v1/backups").json()
    assert [b["name"] for b in backups["items"]] == ["in-scope-backup"]
    with django_assert_num_queries(2):
        listed = client.get("/api/v1/projects").json()
    # The lower of the token's role and the owner's.
    assert [(p["name"], p["role"]) for p in listed["items"]] == [("eu-de_a", "viewer")]


def test_a_token_never_reaches_a_project_its_owner_left(projects):
    owner = UserFactory()
    for project in projects[:2]:
        MembershipFactory(user=owner, project=project, role=Role.OPERATOR)
    secret = token_create(user=owner, name="ci", role="operator", projects=projects[:2])[1]
    Membership.objects.filter(user=owner, project=projects[0]).delete()
    listed = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/projects").json()
    assert [p["name"] for p in listed["items"]] == ["eu-de_a"]
