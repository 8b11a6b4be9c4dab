"""Following running backups (services/tracking.py), in-process against the simulator over real HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups import publish, tasks, timeline
from backups.models import Backup, BackupEvent, Instance
from backups.services import submission, sync, tracking
from tests.backups.services.lines import written

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
    seconds = int((backup.finished_at - backup.started_at).total_seconds())
    completed = written(backup.events.get(kind=BackupEvent.Kind.COMPLETED))
    assert completed == (timeline.COMPLETED, {"size_kb": backup.size_kb, "seconds": seconds})


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
    assert written(backup.events.get(kind=BackupEvent.Kind.FAILED)) == (timeline.FAILED_WITHOUT_REASON, {})


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
    failed = written(backup.events.get(kind=BackupEvent.Kind.FAILED))
    assert failed == (timeline.FAILED, {"reason": "Disk quota exceeded"})


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
    lost = written(backup.events.get(kind=BackupEvent.Kind.UNKNOWN))
    assert lost == (timeline.LOST, {"last_seen": long_ago.isoformat()})


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
    assert written(slow.events.get()) == (timeline.OVERDUE, {"usual_seconds": 600})
    assert slow.events.get().message == "Running for much longer than usual (usually 10 min 00 s); still watching"


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


def test_one_backup_list_call_follows_every_backup_begun_since_the_oldest_due_one(project, requester, simulator):
    clouds = [simulator.add_instance(f"node-{i}") for i in range(3)]
    sync.instances_sync(project=project)
    backups = []
    for cloud in clouds:
        backup = request(Instance.objects.get(cloud_id=cloud["id"]), requester)
        submission.backup_submit(backup_id=backup.pk)
        backups.append(Backup.objects.get(pk=backup.pk))
    oldest, *younger = backups
    now = timezone.now()
    Backup.objects.filter(pk=oldest.pk).update(next_poll_at=now)  # only the oldest is due
    Backup.objects.filter(pk__in=[b.pk for b in younger]).update(next_poll_at=now + timedelta(minutes=1))
    simulator.finish_backup(younger[0].backup_id)
    before = simulator.counters()["by_kind"]

    assert tracking.backups_poll(project=project) == 3

    after = simulator.counters()["by_kind"]
    assert after["list_backups"] - before["list_backups"] == 1
    assert Backup.objects.get(pk=younger[0].pk).status == Backup.Status.COMPLETED  # seen in the same answer
    for backup in (oldest, younger[1]):
        backup.refresh_from_db()
        assert backup.status == Backup.Status.RUNNING
        assert backup.last_seen_in_cloud_at >= now
        assert now < backup.next_poll_at <= timezone.now() + tracking.poll_interval(timedelta(0))


def test_progress_is_read_at_most_every_progress_interval(instance, requester, simulator):
    simulator.configure(job_seconds=600)
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    before = simulator.counters()["by_kind"]
    for _ in range(3):
        Backup.objects.filter(pk=backup.pk).update(next_poll_at=timezone.now())
        tracking.backups_poll(project=instance.project)
    after = simulator.counters()["by_kind"]
    assert after["list_backups"] - before["list_backups"] == 3  # the outcome, at every poll
    assert after["list_jobs"] - before["list_jobs"] == 1  # the progress, once in PROGRESS_EVERY
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.progress is not None


def test_many_outcomes_at_once_are_shared_out_and_none_is_lost_when_the_broker_is_down(
    project, requester, simulator, monkeypatch
):
    clouds = [simulator.add_instance(f"node-{i}") for i in range(tracking.OUTCOMES_PER_TASK + 2)]
    sync.instances_sync(project=project)
    for cloud in clouds:
        backup = request(Instance.objects.get(cloud_id=cloud["id"]), requester)
        submission.backup_submit(backup_id=backup.pk)
        simulator.finish_backup(Backup.objects.get(pk=backup.pk).backup_id)
    handed_out = []
    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: handed_out.append((task_name, *args)))
    Backup.objects.update(next_poll_at=timezone.now())

    tracking.backups_poll(project=project)

    completed = Backup.objects.filter(status=Backup.Status.COMPLETED)
    assert completed.count() == tracking.OUTCOMES_PER_TASK  # recorded by the poll itself
    [(task_name, outcomes)] = handed_out
    assert task_name == publish.RECORD_OUTCOMES
    assert len(outcomes) == 2
    tasks.record_outcomes(outcomes)  # what the worker that receives them runs
    assert completed.count() == len(clouds)
    assert all(b.size_kb > 0 and b.finished_at for b in completed)

    # Recording again (a duplicate delivery, or the next poll) changes nothing.
    tasks.record_outcomes(outcomes)
    assert BackupEvent.objects.filter(kind=BackupEvent.Kind.COMPLETED).count() == len(clouds)


def test_outcomes_a_poll_cannot_hand_out_it_records_itself(project, requester, simulator, monkeypatch):
    clouds = [simulator.add_instance(f"node-{i}") for i in range(tracking.OUTCOMES_PER_TASK + 2)]
    sync.instances_sync(project=project)
    for cloud in clouds:
        backup = request(Instance.objects.get(cloud_id=cloud["id"]), requester)
        submission.backup_submit(backup_id=backup.pk)
        simulator.finish_backup(Backup.objects.get(pk=backup.pk).backup_id)

    def broker_down(task_name, *args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("backups.publish.publish", broker_down)
    Backup.objects.update(next_poll_at=timezone.now())
    tracking.backups_poll(project=project)
    assert Backup.objects.filter(status=Backup.Status.COMPLETED).count() == len(clouds)
