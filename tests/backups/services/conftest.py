import pytest
from django.contrib.auth import get_user_model

from access.models import CloudProject
from backups.models import Instance
from backups.services.sync import instances_sync


@pytest.fixture
def requester(db):
    return get_user_model().objects.create_user("oscar", first_name="Oscar", last_name="Operator")


@pytest.fixture
def project(db, simulator):
    """A cloud project connected to the simulator, as an admin would connect it."""
    return CloudProject.objects.create(name="eu-de_test", **simulator.project_fields())


@pytest.fixture
def instance(project, simulator) -> Instance:
    """One available Cassandra instance, in the cloud and synced into the console."""
    cloud = simulator.add_instance("orders-prod")
    instances_sync(project=project)
    return Instance.objects.get(cloud_id=cloud["id"])
