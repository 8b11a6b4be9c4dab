"""The pipeline's services, called in-process against the simulator over real HTTP.

These drive one step at a time (submit, poll, sync) to pin down each rule; the worker
tests in test_worker.py run the same path end to end through Celery.
"""

from datetime import timedelta

import pytest
import requests
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from backups import services
from backups.cloud import client_for_project
from backups.models import Backup, BackupEvent, Instance

pytestmark = pytest.mark.django_db(transaction=True)


def request(instance, user, name="nightly-0001", description="before the upgrade"):
    return services.backup_request(instance=instance, user=user, name=name, description=description)


def named(simulator, instance, name):
    return [b for b in simulator.backups(instance_id=instance.cloud_id) if b["name"] == name]


def test_request_is_recorded_queued_with_its_requester(instance, requester):
    backup = request(instance, requester)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED
    assert backup.requested_by == requester
    assert backup.origin == Backup.Origin.DASHBOARD
    assert list(backup.events.values_list("kind", flat=True)) == [BackupEvent.Kind.REQUESTED]


def test_invalid_request_changes_nothing_and_says_why(instance, requester):
    with pytest.raises(ValidationError) as error:
        request(instance, requester, name="9lives", description="a <b> tag")
    assert set(error.value.message_dict) == {"name", "description"}
    assert Backup.objects.count() == 0


def test_second_request_while_one_is_active_is_refused(instance, requester):
    request(instance, requester)
    with pytest.raises(ValidationError) as error:
        request(instance, requester, name="nightly-0002")
    assert "already queued" in error.value.message_dict[NON_FIELD_ERRORS][0]
    assert Backup.objects.count() == 1


def test_a_name_is_used_once_per_instance(instance, requester):
    first = request(instance, requester)
    Backup.objects.filter(pk=first.pk).update(status=Backup.Status.COMPLETED)
    with pytest.raises(ValidationError) as error:
        request(instance, requester)
    assert "already has a backup named nightly-0001" in error.value.message_dict["name"][0]


def test_instance_that_is_not_available_cannot_be_backed_up(instance, requester):
    Instance.objects.filter(pk=instance.pk).update(status="frozen")
    instance.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        request(instance, requester)
    assert "The instance is Frozen" in error.value.message_dict[NON_FIELD_ERRORS][0]


def test_submit_creates_one_cloud_backup_even_when_delivered_twice(instance, requester, simulator):
    backup = request(instance, requester)
    services.backup_submit(backup_id=backup.pk)
    services.backup_submit(backup_id=backup.pk)  # a duplicate delivery finds nothing to claim
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.job_id
    assert backup.backup_id
    assert len(named(simulator, instance, backup.name)) == 1
    assert simulator.counters()["by_kind"]["create_backup"] == 1


def test_dropped_connection_after_create_is_reconciled_not_resent(instance, requester, simulator):
    simulator.configure(drop_connection_after_create=1)
    backup = request(instance, requester)
    services.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED  # ambiguous: back in the outbox
    Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())  # as when the backoff is over
    services.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.backup_id == named(simulator, instance, backup.name)[0]["id"]
    assert len(named(simulator, instance, backup.name)) == 1
    assert simulator.counters()["by_kind"]["create_backup"] == 1


def test_permanent_cloud_refusal_fails_the_backup_with_code_and_message(instance, requester, simulator):
    simulator.set_instance_status(instance.cloud_id, "frozen")  # the console still thinks it is normal
    backup = request(instance, requester)
    services.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "DBS.201015"
    assert backup.error_message
    assert backup.events.filter(kind=BackupEvent.Kind.FAILED).exists()


def test_system_busy_is_retried_later(instance, requester, simulator):
    simulator.configure(error_rate=1.0)
    backup = request(instance, requester)
    services.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED
    assert backup.next_attempt_at > timezone.now()
    assert backup.events.filter(kind=BackupEvent.Kind.RETRY).exists()


def test_gives_up_after_bounded_attempts(instance, requester, simulator):
    simulator.configure(error_rate=1.0)
    backup = request(instance, requester)
    for _ in range(services.MAX_SUBMIT_ATTEMPTS):
        Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())
        services.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "DBS.200998"
    assert backup.submit_attempts == services.MAX_SUBMIT_ATTEMPTS


def test_poll_follows_progress_then_completion_with_size(instance, requester, simulator):
    backup = request(instance, requester)
    services.backup_submit(backup_id=backup.pk)
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
    services.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.next_poll_at > timezone.now()
    simulator.finish_backup(backup.backup_id)
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
    services.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.COMPLETED
    assert backup.size_kb > 0
    assert backup.finished_at >= backup.started_at
    assert backup.progress == 100


def test_poll_works_from_the_backup_list_alone(instance, requester, simulator):
    simulator.configure(backup_jobs_listed=False)
    backup = request(instance, requester)
    services.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    simulator.finish_backup(backup.backup_id, status="FAILED", fail_reason="Disk quota exceeded")
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
    services.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "JOB_FAILED"


def test_failed_job_keeps_the_clouds_reason(instance, requester, simulator):
    backup = request(instance, requester)
    services.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    simulator.finish_backup(backup.backup_id, status="FAILED", fail_reason="Disk quota exceeded")
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
    services.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_message == "Disk quota exceeded"


def test_backup_the_cloud_forgot_becomes_unknown_not_running_forever(instance, requester, simulator):
    backup = request(instance, requester)
    services.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    simulator.delete_backup(backup.backup_id)
    simulator.configure(backup_jobs_listed=False)
    long_ago = timezone.now() - services.UNKNOWN_AFTER - timedelta(minutes=1)
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now(), last_seen_in_cloud_at=long_ago)
    services.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.UNKNOWN
    assert backup.events.filter(kind=BackupEvent.Kind.UNKNOWN).exists()


def test_polling_many_backups_costs_a_few_calls_not_one_per_backup(project, requester, simulator):
    instances = [simulator.add_instance(f"node-{i:02d}") for i in range(12)]
    services.instances_sync(project=project)
    for cloud in instances:
        instance = Instance.objects.get(cloud_id=cloud["id"])
        services.backup_submit(backup_id=request(instance, requester).pk)
    Backup.objects.update(next_poll_at=timezone.now())
    before = simulator.counters()
    services.backups_poll(project=project)
    after = simulator.counters()
    polling_calls = sum(
        after["by_kind"].get(k, 0) - before["by_kind"].get(k, 0) for k in ("get_job", "list_jobs", "list_backups")
    )
    assert Backup.objects.filter(status=Backup.Status.RUNNING).count() == 12
    assert polling_calls <= 2


def test_sync_marks_gone_instances_and_imports_cloud_backups(project, simulator):
    kept = simulator.add_instance("orders-prod")
    removed = simulator.add_instance("old-cluster")
    simulator.add_instance("cache", datastore_type="redis")
    services.instances_sync(project=project)
    assert set(Instance.objects.values_list("name", flat=True)) == {"orders-prod", "old-cluster"}

    made_elsewhere = client_for_project(project).create_backup(kept["id"], "made-in-the-console", "by hand")
    simulator.finish_backup(made_elsewhere.backup_id)
    requests.delete(f"{simulator.url}/_sim/instances/{removed['id']}", timeout=5).raise_for_status()
    result = services.project_sync(project=project)
    assert Instance.objects.get(cloud_id=removed["id"]).gone_at is not None
    assert result["imported"] == 1
    imported = Backup.objects.get(backup_id=made_elsewhere.backup_id)
    assert imported.origin == Backup.Origin.CLOUD_MANUAL
    assert imported.status == Backup.Status.COMPLETED

    simulator.delete_backup(made_elsewhere.backup_id)
    services.project_sync(project=project)
    imported.refresh_from_db()
    assert imported.deleted_in_cloud_at is not None


def test_watchdog_flags_a_backup_far_slower_than_usual(instance, requester):
    now = timezone.now()
    for i in range(3):
        Backup.objects.create(
            instance=instance, name=f"past-{i}", requested_at=now - timedelta(days=i + 1),
            status=Backup.Status.COMPLETED, started_at=now - timedelta(days=i + 1),
            finished_at=now - timedelta(days=i + 1) + timedelta(minutes=10),
        )  # fmt: skip
    slow = Backup.objects.create(
        instance=instance, name="slow-one", requested_at=now - timedelta(hours=2),
        status=Backup.Status.RUNNING, started_at=now - timedelta(hours=2),
    )  # fmt: skip
    assert services.backups_watchdog() == 1
    slow.refresh_from_db()
    assert slow.overdue
    assert "longer than usual" in slow.events.get().message


def test_operator_commands_sync_and_show_the_pipeline(project, simulator, requester):
    from io import StringIO

    from django.core.management import call_command

    simulator.add_instance("orders-prod")
    out = StringIO()
    call_command("sync_cloud", stdout=out)
    assert "eu-de_test: instances 1, new 1, gone 0, imported 0, deleted in cloud 0" in out.getvalue()
    request(Instance.objects.get(), requester)
    out = StringIO()
    call_command("pipeline_state", stdout=out)
    assert "queued" in out.getvalue()


def test_a_spent_call_budget_defers_creation_but_leaves_room_for_polling(project, requester, simulator, settings):
    settings.CLOUD_CALLS_PER_MINUTE = 3  # creations may use 2 of them: the token call and one create
    simulator.configure(job_seconds=600)  # still running at the poll: one jobs-list call
    first, second = (simulator.add_instance(name) for name in ("orders-prod", "orders-dr"))
    services.instances_sync(project=project)
    # Start the minute afresh: the sync spent calls of its own.
    from django.core.cache import cache

    cache.clear()
    backups = [request(Instance.objects.get(cloud_id=c["id"]), requester) for c in (first, second)]
    for backup in backups:
        services.backup_submit(backup_id=backup.pk)
    running, deferred = (Backup.objects.get(pk=b.pk) for b in backups)
    assert running.status == Backup.Status.RUNNING
    assert deferred.status == Backup.Status.QUEUED
    assert deferred.submit_attempts == 0  # no call was made: not an attempt
    assert not deferred.events.filter(kind=BackupEvent.Kind.RETRY).exists()
    assert simulator.counters()["by_kind"]["create_backup"] == 1
    Backup.objects.filter(pk=running.pk).update(next_poll_at=timezone.now())
    assert services.backups_poll(project=project) == 1  # the reserved unit


def test_imported_automated_backup_is_followed_to_its_end(instance, simulator):
    automated = simulator.start_automated_backup(instance.cloud_id, seconds=600)
    services.project_sync(project=instance.project)
    backup = Backup.objects.get(backup_id=automated["id"])
    assert backup.origin == Backup.Origin.CLOUD_AUTO
    assert backup.status == Backup.Status.RUNNING
    simulator.finish_backup(automated["id"])
    services.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.COMPLETED
    assert backup.size_kb > 0
