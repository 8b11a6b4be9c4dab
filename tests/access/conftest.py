"""Two projects and a person in every position: a viewer, an operator and an admin of project A,
the admin of project B (an outsider to A), and a site administrator who belongs to no project.
Anyone else's data is B's; A's is what everyone tries to reach."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client

from access.models import CloudProject, Membership
from backups import publish
from backups.models import Backup, Instance
from tests.factories import (
    BackupEventFactory,
    BackupFactory,
    CloudProjectFactory,
    InstanceFactory,
    MembershipFactory,
    UserFactory,
)

Role = Membership.Role
ROLES = ("anonymous", "viewer", "operator", "admin", "outsider", "site_admin")
PASSWORD = "pw-for-tests"  # tests.factories.UserFactory
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


@dataclass
class World:
    project: CloudProject  # A
    other_project: CloudProject  # B
    users: dict[str, AbstractUser | None]
    instance: Instance
    backup: Backup  # running, so its live views answer 200 rather than 286
    member: Membership  # a spare viewer of A: the one whose role changes, who is removed, deactivated
    other_instance: Instance
    other_backup: Backup
    other_member: Membership

    def client(self, role: str, **options) -> Client:
        client = Client(**options)
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def published(monkeypatch):
    """Refreshing instances publishes a sync task per project (after commit); here the project
    ids are collected instead of reaching the broker."""
    published = []

    def collect(task_name, *args):
        assert task_name == publish.SYNC_PROJECT
        published.append(*args)

    monkeypatch.setattr("backups.publish.publish", collect)
    return published


def _person(username: str, project: CloudProject | None, role: str | None, **fields):
    user = UserFactory(username=username, **fields)
    if project is not None:
        MembershipFactory(user=user, project=project, role=role)
    return user


@pytest.fixture
def world(db) -> World:
    project = CloudProjectFactory(name="eu-de_alpha")
    other_project = CloudProjectFactory(name="eu-de_bravo")
    users = {
        "anonymous": None,
        "viewer": _person("vera", project, Role.VIEWER),
        "operator": _person("oscar", project, Role.OPERATOR),
        "admin": _person("ada", project, Role.ADMIN),
        "outsider": _person("otto", other_project, Role.ADMIN),
        "site_admin": _person("sam", None, None, is_superuser=True, is_staff=True),
    }
    member = MembershipFactory(user=UserFactory(username="mia"), project=project, role=Role.VIEWER)
    instance = InstanceFactory(project=project, name="alpha-orders")
    backup = BackupFactory(instance=instance, running=True, name="alpha-running", requested_by=users["operator"])
    BackupEventFactory(backup=backup)
    other_instance = InstanceFactory(project=other_project, name="bravo-ledger")
    other_backup = BackupFactory(instance=other_instance, name="bravo-secret-backup", requested_by=users["outsider"])
    other_member = MembershipFactory(user=UserFactory(username="bob"), project=other_project, role=Role.OPERATOR)
    return World(
        project=project,
        other_project=other_project,
        users=users,
        instance=instance,
        backup=backup,
        member=member,
        other_instance=other_instance,
        other_backup=other_backup,
        other_member=other_member,
    )


def text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()
