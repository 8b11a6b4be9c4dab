"""Syncing instances and importing cloud backups (services/sync.py), and the operators' commands."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from access.models import CloudProject
from backups import timeline
from backups.cloud import client_for_project
from backups.cloud.errors import CloudError
from backups.models import Backup, Instance
from backups.services import sync
from tests.backups.services.lines import written

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
    assert written(imported.events.get()) == (timeline.IMPORTED, {"backup_type": "Manual"})

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
    assert (
        "eu-de_test: instances 1, new 1, gone 0, policies changed outside 0, imported 0, deleted in cloud 0"
        in out.getvalue()
    )


def test_a_sync_skips_a_project_another_worker_is_syncing(project, simulator):
    simulator.add_instance("orders-prod")
    CloudProject.objects.filter(pk=project.pk).update(sync_started_at=timezone.now())
    assert sync.project_sync(project=project) == {"skipped": 1}
    assert not Instance.objects.exists()

    # The other worker died: its lease runs out and the next sync takes over.
    long_ago = timezone.now() - sync.SYNC_LEASE - timedelta(seconds=1)
    CloudProject.objects.filter(pk=project.pk).update(sync_started_at=long_ago)
    assert sync.project_sync(project=project)["new"] == 1
    project.refresh_from_db()
    assert project.sync_started_at is None  # released when it ends


def test_a_failed_sync_releases_the_project(project, simulator):
    project.iam_password = "not-the-password"
    project.save()
    with pytest.raises(CloudError):
        sync.project_sync(project=project)
    project.refresh_from_db()
    assert project.sync_started_at is None


def test_a_sync_reads_a_policy_only_when_the_instance_list_shows_a_change_or_it_is_old(project, simulator):
    clouds = [simulator.add_instance(f"node-{i:02d}") for i in range(sync.POLICY_READS_PER_SYNC + 2)]
    sync.instances_sync(project=project)  # the first sync reads every policy

    def policy_reads():
        return simulator.counters()["by_kind"]["get_backup_policy"]

    before = policy_reads()
    sync.instances_sync(project=project)
    assert policy_reads() == before  # nothing changed: no calls

    # The instance list shows the retention (and the window), not the days of the week.
    simulator.set_policy(clouds[0]["id"], keep_days=3, start_time="16:00-17:00", period="1,2,3,4,5,6,7")
    sync.instances_sync(project=project)
    assert policy_reads() == before + 1
    assert Instance.objects.get(cloud_id=clouds[0]["id"]).policy_keep_days == 3

    # The days of the week only the policy shows: read again once old, the oldest few per sync.
    old = timezone.now() - sync.POLICY_REFRESH - timedelta(minutes=1)
    Instance.objects.update(policy_synced_at=old)
    before = policy_reads()
    sync.instances_sync(project=project)
    assert policy_reads() == before + sync.POLICY_READS_PER_SYNC
    sync.instances_sync(project=project)
    assert policy_reads() == before + sync.POLICY_READS_PER_SYNC + 2


def test_a_rehearsals_temporary_instance_is_not_the_teams(project, simulator):
    """The instance a restore rehearsal makes and deletes is never listed nor assessed."""
    from restores.services.rehearsals import rehearsal_name

    kept = simulator.add_instance("orders-prod")
    source = Instance.objects.create(
        project=project, cloud_id=kept["id"], name="orders-prod", status="normal", synced_at=timezone.now()
    )
    temporary = simulator.add_instance(rehearsal_name(source))
    # A team's own instance that merely starts like one is theirs.
    lookalike = simulator.add_instance("rehearsal-db")
    sync.instances_sync(project=project)
    listed = set(Instance.objects.filter(project=project, gone_at__isnull=True).values_list("cloud_id", flat=True))
    assert listed == {kept["id"], lookalike["id"]}
    assert temporary["id"] not in listed
