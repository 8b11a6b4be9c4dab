"""Following running backups (services/tracking.py), in-process against the simulator over real HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups.models import Backup, BackupEvent, Instance
from backups.services import submission, sync, tracking

pytestmark = pytest.mark.django_db(transaction=True)


def request(instance, user, name="nightly-0001", description="before the upgrade"):
    return submission.backup_request(instance=instance, user=user, name=name, description=description)


def named(simulator, instance, name):
    return [b for b in simulator.backups(instance_id=instance.cloud_id) if b["name"] == name]


def test_poll_follows_progress_then_completion_with_size(instance, requester, simulator):
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
    tracking.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.next_poll_at > timezone.now()
    simulator.finish_backup(backup.backup_id)
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
    tracking.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.COMPLETED
    assert backup.size_kb > 0
    assert backup.finished_at >= backup.started_at
    assert backup.progress == 100


def test_poll_works_from_the_backup_list_alone(instance, requester, simulator):
    simulator.configure(backup_jobs_listed=False)
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    simulator.finish_backup(backup.backup_id, status="FAILED", fail_reason="Disk quota exceeded")
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
    tracking.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "JOB_FAILED"


def test_failed_job_keeps_the_clouds_reason(instance, requester, simulator):
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    simulator.finish_backup(backup.backup_id, status="FAILED", fail_reason="Disk quota exceeded")
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
    tracking.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_message == "Disk quota exceeded"


def test_backup_the_cloud_forgot_becomes_unknown_not_running_forever(instance, requester, simulator):
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    simulator.delete_backup(backup.backup_id)
    simulator.configure(backup_jobs_listed=False)
    long_ago = timezone.now() - tracking.UNKNOWN_AFTER - timedelta(minutes=1)
    Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now(), last_seen_in_cloud_at=long_ago)
    tracking.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.UNKNOWN
    assert backup.events.filter(kind=BackupEvent.Kind.UNKNOWN).exists()


def test_polling_many_backups_costs_a_few_calls_not_one_per_backup(project, requester, simulator):
    instances = [simulator.add_instance(f"node-{i:02d}") for i in range(12)]
    sync.instances_sync(project=project)
    for cloud in instances:
        instance = Instance.objects.get(cloud_id=cloud["id"])
        submission.backup_submit(backup_id=request(instance, requester).pk)
    Backup.objects.update(next_poll_at=timezone.now())
    before = simulator.counters()
    tracking.backups_poll(project=project)
    after = simulator.counters()
    polling_calls = sum(
        after["by_kind"].get(k, 0) - before["by_kind"].get(k, 0) for k in ("get_job", "list_jobs", "list_backups")
    )
    assert Backup.objects.filter(status=Backup.Status.RUNNING).count() == 12
    assert polling_calls <= 2


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
    assert tracking.backups_watchdog() == 1
    slow.refresh_from_db()
    assert slow.overdue
    assert "longer than usual" in slow.events.get().message


def test_imported_automated_backup_is_followed_to_its_end(instance, simulator):
    automated = simulator.start_automated_backup(instance.cloud_id, seconds=600)
    sync.project_sync(project=instance.project)
    backup = Backup.objects.get(backup_id=automated["id"])
    assert backup.origin == Backup.Origin.CLOUD_AUTO
    assert backup.status == Backup.Status.RUNNING
    simulator.finish_backup(automated["id"])
    tracking.backups_poll(project=instance.project)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.COMPLETED
    assert backup.size_kb > 0
