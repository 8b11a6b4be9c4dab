"""A project connected to the simulator, an instance with one completed backup in the cloud and
the console, and the new instance's specification as the restore form would send it."""

import pytest
from django.contrib.auth import get_user_model

from access.models import CloudProject
from backups.models import Backup, Instance
from backups.services.leases import submit_lease
from backups.services.sync import project_sync
from restores.models import Restore

PASSWORD = "Restore-2026!x"


@pytest.fixture
def fast_restores(settings):
    settings.RESTORE_POLL_SECONDS = 0.2
    settings.BACKUP_RETRY_BASE_SECONDS = 0.2


@pytest.fixture
def requester(db):
    return get_user_model().objects.create_user("ada", first_name="Ada", last_name="Admin")


@pytest.fixture
def project(db, simulator):
    return CloudProject.objects.create(name="eu-de_test", **simulator.project_fields())


@pytest.fixture
def cloud_instance(simulator) -> dict:
    """The source instance in the cloud: 3 nodes, 100 GB; restores and deletes take a second."""
    simulator.configure(job_seconds=1, restore_seconds_per_gb=0, delete_seconds=1, automated_backups=False)
    return simulator.add_instance("orders-prod", node_count=3, volume_size_gb=100)


@pytest.fixture
def backup(project, simulator, cloud_instance) -> Backup:
    """A completed (automated) backup of the source instance, imported by a sync."""
    made = simulator.start_automated_backup(cloud_instance["id"], seconds=600)
    simulator.finish_backup(made["id"])
    project_sync(project=project)
    backup = Backup.objects.get(backup_id=made["id"])
    assert backup.status == Backup.Status.COMPLETED
    return backup


@pytest.fixture
def instance(backup) -> Instance:
    return backup.instance


@pytest.fixture
def spec(simulator, cloud_instance) -> dict:
    """The source's specification and network, as the restore form prefills them."""
    listed = next(i for i in simulator.instances() if i["id"] == cloud_instance["id"])
    network = simulator.network()
    return {
        "spec_code": listed["spec_code"],
        "node_count": 3,
        "volume_size_gb": 100,
        "storage_type": "ULTRAHIGH",
        "region": "eu-de",
        "availability_zone": listed["availability_zone"],
        "vpc_id": network["vpc_id"],
        "subnet_id": network["subnet_ids"][0],
        "security_group_id": network["security_group_id"],
    }


def cloud_instances_named(simulator, name: str) -> list[dict]:
    return [i for i in simulator.instances() if i["name"] == name]


def lapse(restore_id: int, lease: str = "claimed_at") -> None:
    """What a worker that died or stalled (a frozen VM) looks like to the others: its lease
    (`claimed_at`, or `delete_claimed_at`) is two leases old by the database's clock."""
    row = Restore.objects.filter(pk=restore_id)
    row.update(**{lease: row.values_list(lease, flat=True).get() - submit_lease() * 2})
