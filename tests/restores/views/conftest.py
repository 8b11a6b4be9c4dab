"""A project connected to the simulator (the restore form reads its source from the cloud), a
member of each role, an outsider, a synced instance with a completed backup, and restores."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import CloudProject, Membership
from backups.services.sync import instances_sync
from restores.models import Restore, RestoreEvent
from tests.factories import BackupFactory, CloudProjectFactory, MembershipFactory, UserFactory
from tests.helpers import signed_in

Role = Membership.Role
# Meets creating_an_instance.rst's rule: upper, lower, digit, special; 8 to 32 characters.
GOOD_PASSWORD = "Restore-Test-42"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def project(simulator, db):
    return CloudProject.objects.create(name="eu-de_demo", **simulator.project_fields())


@pytest.fixture
def source(project, simulator):
    """orders-prod: 5 nodes and 200 GB in the simulator, synced into the console."""
    simulator.add_instance("orders-prod", node_count=5, volume_size_gb=200)
    instances_sync(project=project)
    return project.instances.get(name="orders-prod")


@pytest.fixture
def backup(source):
    return BackupFactory(instance=source, name="orders-nightly", size_kb=3 * 1024 * 1024)


def member(project, role, username, full_name):
    first, last = full_name.split()
    user = UserFactory(username=username, first_name=first, last_name=last)
    MembershipFactory(user=user, project=project, role=role)
    return user


@pytest.fixture
def admin(project):
    return member(project, Role.ADMIN, "ada", "Ada Admin")


@pytest.fixture
def operator(project):
    return member(project, Role.OPERATOR, "oscar", "Oscar Operator")


@pytest.fixture
def viewer(project):
    return member(project, Role.VIEWER, "vera", "Vera Viewer")


@pytest.fixture
def outsider(db):
    return member(CloudProjectFactory(name="eu-de_elsewhere"), Role.ADMIN, "otto", "Otto Outsider")


@pytest.fixture
def admin_client(admin):
    return signed_in(admin)


@pytest.fixture
def clients(admin, operator, viewer, outsider):
    return {
        name: signed_in(user)
        for name, user in (("admin", admin), ("operator", operator), ("viewer", viewer), ("outsider", outsider))
    }


def a_restore(backup, *, kind=Restore.Kind.RESTORE, status=Restore.Status.QUEUED, **fields) -> Restore:
    """A restore row as the services leave it at `status` (test data; the services are B1's tests)."""
    now = timezone.now()
    values = {
        "kind": kind,
        "status": status,
        "project": backup.instance.project,
        "backup": backup,
        "source_instance": backup.instance,
        "target_name": f"orders-restored-{Restore.objects.count() + 1}",
        "spec_code": "geminidb.cassandra.xlarge.4",
        "node_count": 5,
        "volume_size_gb": 200,
        "storage_type": "ULTRAHIGH",
        "region": "eu-de",
        "availability_zone": "eu-de-01,eu-de-02,eu-de-03",
        "vpc_id": "vpc-1",
        "subnet_id": "subnet-1",
        "security_group_id": "sg-1",
        "requested_at": now - timedelta(minutes=10),
    }
    if status in (Restore.Status.RESTORING, Restore.Status.COMPLETED, Restore.Status.FAILED):
        values |= {
            "job_id": "job-restore-1",
            "instance_cloud_id": "new-instance-in06",
            "submitted_at": now - timedelta(minutes=9),
        }
    if status in (Restore.Status.COMPLETED, Restore.Status.FAILED):
        values["finished_at"] = now - timedelta(minutes=5)
    restore = Restore.objects.create(**(values | fields))
    RestoreEvent.objects.create(
        restore=restore, at=restore.requested_at, kind=RestoreEvent.Kind.REQUESTED, message="by Ada Admin"
    )
    return restore
