"""Following running backups to their end, from the cloud's jobs and backup lists.

`backups_poll` follows all due RUNNING backups of a project with one jobs-list call (and one
backup-list call when some have ended or the jobs API does not list them), on an interval
that grows with the backup's age. A backup the cloud stops reporting becomes UNKNOWN instead
of "running" forever; one that runs far longer than usual is flagged by the watchdog.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backups.cloud import CloudBackup, DjangoCacheCallBudget, Job, client_for_project
from backups.lifecycle import backup_event_record, backup_transition
from backups.models import Backup, BackupEvent
from backups.selectors.instances import usual_duration
from notifications.events import EventKind, notify
from webapp import metrics
from webapp.logcontext import log_context

Status = Backup.Status

# A running backup neither the jobs API nor the backup list has shown for this long is lost.
UNKNOWN_AFTER = timedelta(minutes=15)
# Jobs API: a query window may span at most 30 days (querying_tasks_and_details.rst).
JOBS_WINDOW = timedelta(days=30)
# Below this, a backup is not flagged as overdue whatever its history says.
OVERDUE_FLOOR = timedelta(minutes=30)


def poll_interval(age: timedelta) -> timedelta:
    """Poll young backups often and old ones rarely: most finish within minutes."""
    if age < timedelta(minutes=2):
        return timedelta(seconds=settings.BACKUP_POLL_FIRST_SECONDS)
    if age < timedelta(minutes=10):
        return timedelta(seconds=15)
    if age < timedelta(hours=1):
        return timedelta(seconds=30)
    return timedelta(minutes=2)


def backups_poll(*, project) -> int:
    """Update every due running backup of one project from the cloud. Returns how many."""
    now = timezone.now()
    due = list(
        Backup.objects.filter(
            instance__project=project, status__in=[Status.RUNNING, Status.UNKNOWN], next_poll_at__lte=now
        ).select_related("instance")
    )
    if not due:
        return 0
    # A poll waits briefly for budget, then gives way to the next beat tick.
    budget = DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE, max_wait=10)
    client = client_for_project(project, call_budget=budget)
    oldest = min(b.started_at or b.requested_at for b in due) - timedelta(minutes=5)
    jobs: dict[str, Job] = {}
    if any(b.job_id for b in due):
        since = max(oldest, now - JOBS_WINDOW + timedelta(minutes=1))
        jobs = {job.id: job for job in client.list_jobs(name="BackupInstance", start_time=since)}
    # Jobs tell progress; the backup list tells the outcome, size and times. Some services
    # do not list backup jobs at all (FIELD-NOTES), so the backup list must suffice alone.
    cloud_backups: dict[str, CloudBackup] = {}
    if any(b.job_id not in jobs or not jobs[b.job_id].is_running for b in due):
        # The window filters on the backup's begin time, to the second; the margin covers
        # rounding and clock skew between us and the cloud.
        window_end = now + timedelta(minutes=5)
        cloud_backups = {
            # Both types: imported automated backups are followed here too.
            cb.id: cb
            for cb in client.list_backups(begin_time=oldest, end_time=window_end)
        }
    for backup in due:
        with log_context(backup_id=backup.pk):
            _backup_follow(backup, jobs.get(backup.job_id), cloud_backups.get(backup.backup_id), now)
    return len(due)


def _backup_follow(backup: Backup, job: Job | None, cloud_backup: CloudBackup | None, now) -> None:
    age = now - (backup.started_at or backup.requested_at)
    seen = job is not None or cloud_backup is not None
    if cloud_backup and cloud_backup.is_completed:
        duration = _duration_text(cloud_backup.begin_time, cloud_backup.end_time)
        if backup_transition(
            backup.pk,
            Status.COMPLETED,
            event=BackupEvent.Kind.COMPLETED,
            message=f"{_size_text(cloud_backup.size_kb)} in {duration}",
            progress=100,
            size_kb=cloud_backup.size_kb,
            started_at=cloud_backup.begin_time or backup.started_at,
            finished_at=cloud_backup.end_time or now,
            last_seen_in_cloud_at=now,
            next_poll_at=None,
        ):
            metrics.completion_lag(cloud_backup.end_time)
        return
    if (job and job.is_failed) or (cloud_backup and cloud_backup.is_failed):
        # Only the cloud's own words are stored as its reason: the page sends people to read it.
        reason = job.fail_reason if job else ""
        ended = (job.end_time if job else None) or (cloud_backup.end_time if cloud_backup else None)
        if backup_transition(
            backup.pk,
            Status.FAILED,
            event=BackupEvent.Kind.FAILED,
            message=reason or "The cloud reported the backup as failed, without a reason.",
            error_code="JOB_FAILED",
            error_message=reason,
            finished_at=ended or now,
            last_seen_in_cloud_at=now,
            next_poll_at=None,
        ):
            metrics.completion_lag(ended)
        return
    if seen:
        if backup.status == Status.UNKNOWN:
            backup_transition(
                backup.pk, Status.RUNNING, event=BackupEvent.Kind.NOTE, message="The cloud reports it again"
            )
        progress = job.progress if job and job.progress is not None else backup.progress
        Backup.objects.filter(pk=backup.pk, status=Status.RUNNING).update(
            progress=progress, last_seen_in_cloud_at=now, next_poll_at=now + poll_interval(age)
        )
        if job and job.progress is not None and job.progress // 25 > (backup.progress or 0) // 25:
            backup_event_record(backup.pk, BackupEvent.Kind.PROGRESS, f"{job.progress}%")
        return
    last_seen = backup.last_seen_in_cloud_at or backup.started_at or backup.requested_at
    if backup.status == Status.RUNNING and now - last_seen > UNKNOWN_AFTER:
        backup_transition(
            backup.pk,
            Status.UNKNOWN,
            event=BackupEvent.Kind.UNKNOWN,
            message=f"Neither the jobs API nor the backup list has shown it since {last_seen:%Y-%m-%d %H:%M} UTC",
            error_code="LOST",
            error_message="The cloud stopped reporting on this backup.",
            next_poll_at=now + timedelta(minutes=5),
        )
    else:
        Backup.objects.filter(pk=backup.pk).update(next_poll_at=now + poll_interval(age))


def _size_text(size_kb: int | None) -> str:
    if size_kb is None:
        return "size unknown"
    return f"{size_kb / 1024 / 1024:.2f} GB" if size_kb >= 1024 * 1024 else f"{size_kb / 1024:.1f} MB"


def _duration_text(begin, end) -> str:
    if not (begin and end):
        return "an unknown time"
    seconds = int((end - begin).total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def backups_watchdog() -> int:
    """Flag running backups that take far longer than their instance usually needs."""
    now = timezone.now()
    flagged = 0
    running = Backup.objects.filter(status=Status.RUNNING, overdue=False, started_at__lt=now - OVERDUE_FLOOR)
    for backup in running.select_related("instance__project"):
        usual = usual_duration(backup.instance)
        limit = max(OVERDUE_FLOOR, 3 * usual) if usual else timedelta(hours=6)
        if backup.started_at is not None and now - backup.started_at > limit:
            usual_text = f"usually {_duration_text(now - usual, now)}" if usual else "no history"
            message = f"Running for much longer than usual ({usual_text}); still watching"
            with transaction.atomic():
                if not Backup.objects.filter(pk=backup.pk, overdue=False).update(overdue=True):
                    continue  # another watchdog flagged it meanwhile
                backup_event_record(backup.pk, BackupEvent.Kind.NOTE, message)
                notify(
                    kind=EventKind.BACKUP_LOST,
                    key=f"backup:{backup.pk}:overdue",
                    project=backup.instance.project,
                    instance=backup.instance,
                    backup=backup,
                    reason=message,
                )
            flagged += 1
    return flagged
