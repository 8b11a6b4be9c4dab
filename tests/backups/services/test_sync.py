"""Syncing instances and importing cloud backups (services/sync.py), and the operators' commands."""

import pytest
import requests

from backups.cloud import client_for_project
from backups.models import Backup, Instance
from backups.services import sync

pytestmark = pytest.mark.django_db(transaction=True)


def named(simulator, instance, name):
    return [b for b in simulator.backups(instance_id=instance.cloud_id) if b["name"] == name]


def test_sync_marks_gone_instances_and_imports_cloud_backups(project, simulator):
    kept = simulator.add_instance("orders-prod")
    removed = simulator.add_instance("old-cluster")
    simulator.add_instance("cache", datastore_type="redis")
    sync.instances_sync(project=project)
    assert set(Instance.objects.values_list("name", flat=True)) == {"orders-prod", "old-cluster"}

    made_elsewhere = client_for_project(project).create_backup(kept["id"], "made-in-the-console", "by hand")
    simulator.finish_backup(made_elsewhere.backup_id)
    requests.delete(f"{simulator.url}/_sim/instances/{removed['id']}", timeout=5).raise_for_status()
    result = sync.project_sync(project=project)
    assert Instance.objects.get(cloud_id=removed["id"]).gone_at is not None
    assert result["imported"] == 1
    imported = Backup.objects.get(backup_id=made_elsewhere.backup_id)
    assert imported.origin == Backup.Origin.CLOUD_MANUAL
    assert imported.status == Backup.Status.COMPLETED

    simulator.delete_backup(made_elsewhere.backup_id)
    sync.project_sync(project=project)
    imported.refresh_from_db()
    assert imported.deleted_in_cloud_at is not None


def test_operator_command_syncs_every_project(project, simulator):
    # `pipeline_state`, the other operators' command, is tested in tests/backups/selectors/test_pipeline.py.
    from io import StringIO

    from django.core.management import call_command

    simulator.add_instance("orders-prod")
    out = StringIO()
    call_command("sync_cloud", stdout=out)
    assert "eu-de_test: instances 1, new 1, gone 0, imported 0, deleted in cloud 0" in out.getvalue()
