"""Sending a restore to the simulator and following it to its end, step by step (the worker's
services called in the test's process): exactly one new instance per request, whatever the
connection does; a refusal is final and explained."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import AuditEvent
from backups.cloud import client_for_project
from backups.models import Backup, BackupEvent
from backups.services.sync import project_sync
from notifications.models import Event
from restores.explanations import explain
from restores.models import Restore, RestoreEvent
from restores.services.requests import point_in_time_restore_request, restore_request
from restores.services.submission import restore_submit
from restores.services.tracking import restores_poll
from tests.restores.services.conftest import PASSWORD, cloud_instances_named

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_restores")]


def request(backup, requester, spec, **changes):
    fields = {"target_name": "orders-restored", "password": PASSWORD, **spec, **changes}
    return restore_request(backup=backup, user=requester, **fields)


def submit_due(restore_id: int) -> Restore:
    """Send it now (its backoff skipped), as the sweep would once it is due."""
    Restore.objects.filter(pk=restore_id).update(next_attempt_at=timezone.now())
    restore_submit(restore_id=restore_id)
    return Restore.objects.get(pk=restore_id)


def poll_until_ended(restore_id: int, timeout: float = 20) -> Restore:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        Restore.objects.filter(pk=restore_id).update(next_poll_at=timezone.now())
        restores_poll()
        restore = Restore.objects.get(pk=restore_id)
        if restore.status in (Restore.Status.COMPLETED, Restore.Status.FAILED):
            return restore
        time.sleep(0.3)
    pytest.fail(f"restore {restore_id} did not end within {timeout} s")


def test_a_restore_makes_one_available_instance_and_records_its_rto(simulator, backup, requester, spec):
    restore = submit_due(request(backup, requester, spec).pk)
    assert restore.status == Restore.Status.RESTORING
    assert restore.password == ""  # not kept once the cloud has it
    assert restore.instance_cloud_id
    assert restore.job_id

    restore = poll_until_ended(restore.pk)

    assert restore.status == Restore.Status.COMPLETED, restore.error_message
    assert restore.rto is not None
    assert restore.rto.total_seconds() > 0
    [made] = cloud_instances_named(simulator, "orders-restored")
    assert made["id"] == restore.instance_cloud_id
    assert made["status"] == "normal"
    assert made["node_count"] == 3
    kinds = list(restore.events.values_list("kind", flat=True))
    assert kinds[0] == RestoreEvent.Kind.REQUESTED
    assert RestoreEvent.Kind.SUBMITTED in kinds
    assert kinds[-1] == RestoreEvent.Kind.COMPLETED
    assert AuditEvent.objects.filter(action="restore_completed").count() == 1
    assert Event.objects.filter(kind="restore_completed", key=f"restore:{restore.pk}:completed").exists()
    assert BackupEvent.objects.filter(
        backup=backup, message__startswith="Restore to orders-restored: available"
    ).exists()
    assert restore.cleanup_status == ""  # a restore's instance is the user's: never deleted


def test_a_dropped_connection_after_the_create_still_makes_exactly_one_instance(simulator, backup, requester, spec):
    simulator.configure(drop_connection_after_instance_create=1)
    restore = submit_due(request(backup, requester, spec).pk)
    # The cloud made it, but the answer was lost: back to the outbox, to look before sending again.
    assert restore.status == Restore.Status.QUEUED
    assert restore.events.filter(kind=RestoreEvent.Kind.RETRY).exists()

    restore = submit_due(restore.pk)

    assert restore.status == Restore.Status.RESTORING
    assert restore.submit_attempts == 2
    assert restore.events.get(kind=RestoreEvent.Kind.SUBMITTED).message.startswith("Found in the cloud")
    assert len(cloud_instances_named(simulator, "orders-restored")) == 1
    assert simulator.counters()["by_kind"]["create_instance"] == 1
    assert poll_until_ended(restore.pk).status == Restore.Status.COMPLETED


def test_fewer_nodes_than_the_source_is_refused_for_good_in_plain_words(simulator, project, requester, spec):
    # A 5-node source, restored to 4 nodes: the cloud refuses (creating_an_instance.rst).
    source = simulator.add_instance("big-cluster", node_count=5, volume_size_gb=100)
    made = simulator.start_automated_backup(source["id"], seconds=600)
    simulator.finish_backup(made["id"])
    project_sync(project=project)
    big_backup = Backup.objects.get(backup_id=made["id"])

    restore = submit_due(request(big_backup, requester, spec, node_count=4).pk)

    assert restore.status == Restore.Status.FAILED
    assert restore.error_code == "DBS.280123"
    assert "at least as many nodes" in explain(restore.error_code).summary
    assert restore.submit_attempts == 1
    assert not restore.events.filter(kind=RestoreEvent.Kind.RETRY).exists()
    assert cloud_instances_named(simulator, "orders-restored") == []
    assert restore.password == ""
    assert AuditEvent.objects.filter(action="restore_failed").count() == 1


def test_a_name_someone_else_gave_an_instance_is_not_adopted(simulator, backup, requester, spec):
    simulator.add_instance("orders-restored")
    restore = submit_due(request(backup, requester, spec).pk)
    assert restore.status == Restore.Status.FAILED
    assert restore.error_code == "NAME_TAKEN"
    assert simulator.counters()["by_kind"].get("create_instance", 0) == 0


def test_a_restore_that_fails_in_the_cloud_is_failed_with_the_clouds_reason(simulator, backup, requester, spec):
    simulator.configure(restore_failure_rate=1.0)
    restore = poll_until_ended(submit_due(request(backup, requester, spec).pk).pk)
    assert restore.status == Restore.Status.FAILED
    assert restore.error_code == "CREATE_FAILED"
    assert restore.error_message
    assert Event.objects.filter(kind="restore_failed").exists()


def test_a_redelivered_submit_sends_nothing_more(simulator, backup, requester, spec):
    restore = submit_due(request(backup, requester, spec).pk)
    restore_submit(restore_id=restore.pk)  # the same task again: nothing to claim
    assert simulator.counters()["by_kind"]["create_instance"] == 1
    assert Restore.objects.get(pk=restore.pk).submit_attempts == 1


def test_a_point_in_time_restore_inside_the_window_makes_the_instance(simulator, project, instance, requester, spec):
    [(start, end)] = client_for_project(project).restorable_time_periods(instance.cloud_id)
    restore = point_in_time_restore_request(
        instance=instance,
        restore_time=start + (end - start) / 2,
        user=requester,
        target_name="orders-as-of-noon",
        password=PASSWORD,
        **spec,
    )
    restore = poll_until_ended(submit_due(restore.pk).pk)
    assert restore.status == Restore.Status.COMPLETED, restore.error_message
    assert restore.backup is None
    assert len(cloud_instances_named(simulator, "orders-as-of-noon")) == 1


def test_a_point_in_time_outside_the_window_is_refused_by_the_cloud_in_plain_words(
    simulator, project, instance, requester, spec
):
    [(start, _)] = client_for_project(project).restorable_time_periods(instance.cloud_id)
    restore = point_in_time_restore_request(
        instance=instance,
        restore_time=start - timedelta(days=1),
        user=requester,
        target_name="orders-as-of-never",
        password=PASSWORD,
        **spec,
    )
    restore = submit_due(restore.pk)
    assert restore.status == Restore.Status.FAILED
    assert restore.error_code == "DBS.201215"
    assert "outside the window" in explain(restore.error_code).summary
    assert cloud_instances_named(simulator, "orders-as-of-never") == []
