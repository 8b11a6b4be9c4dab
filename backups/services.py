"""Everything that changes state: request a backup, submit it, follow it, sync the cloud.

How a backup travels (each step is safe to repeat, so a task delivered twice, a worker
killed mid-task or a broker outage never loses a request or creates a backup twice):

1. `backup_request` commits a QUEUED row (the outbox) and, after commit, publishes the
   submit task. If the broker is down the row stays QUEUED; `backups_dispatch_due`
   publishes it later.
2. `backup_submit` claims the row with a conditional UPDATE (QUEUED -> SUBMITTING with a
   lease). Any attempt after the first looks the backup up by name before POSTing, because
   an earlier attempt may have created it without our knowing (the create API has no
   idempotency key; FIELD-NOTES). Retryable errors put the row back to QUEUED with a
   backoff; permanent ones fail it with the cloud's code and message.
3. `backups_poll` follows all RUNNING backups of a project with one jobs-list call (and
   one backup-list call when some have ended or the jobs API does not list them), on an
   interval that grows with the backup's age. A backup the cloud stops reporting becomes
   UNKNOWN instead of "running" forever.
"""

import logging
import random
import statistics
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import rules
from .cloud import (
    AmbiguousRequest,
    CloudBackup,
    CloudError,
    DjangoCacheCallBudget,
    Job,
    Throttled,
    client_for_project,
)
from .models import Backup, BackupEvent, CloudProject, Instance

log = logging.getLogger(__name__)

Status = Backup.Status

# A worker that claimed a backup this long ago is dead: the submit task's hard time limit
# (tasks.py) is shorter, so the lease never lapses under a live worker.
SUBMIT_LEASE = timedelta(seconds=settings.BACKUP_SUBMIT_LEASE_SECONDS)
MAX_SUBMIT_ATTEMPTS = 6
# A queued backup handed to the broker this long ago but still queued is published again.
REPUBLISH_AFTER = timedelta(seconds=90)
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


def submit_retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter, capped well below the broker's visibility timeout."""
    base = min(settings.BACKUP_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 300)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


# --- the state machine -------------------------------------------------------------


def backup_transition(pk: int, to: str, /, *, event: str | None, message: str = "", **fields) -> bool:
    """Move a backup to `to` if its current status allows it; record the event if it moved.

    The conditional UPDATE is the claim: of two workers racing, one sees a row count of 1.
    """
    now = timezone.now()
    with transaction.atomic():
        moved = Backup.objects.filter(pk=pk, status__in=rules.statuses_leading_to(to)).update(status=to, **fields)
        if moved and event:
            BackupEvent.objects.create(backup_id=pk, at=now, kind=event, message=message)
    return bool(moved)


def _record_event(backup_id: int, kind: str, message: str) -> None:
    BackupEvent.objects.create(backup_id=backup_id, at=timezone.now(), kind=kind, message=message)


# --- requesting and submitting -----------------------------------------------------


def backup_request(*, instance: Instance, user, name: str, description: str) -> Backup:
    """Record a backup request and hand it to the worker once the row is committed.

    Raises ValidationError (keyed by field) when a rule of `rules.validate_backup_request`
    is broken, including when another request won a race for the same instance or name.
    """
    rules.validate_backup_request(instance=instance, name=name, description=description)
    now = timezone.now()
    try:
        with transaction.atomic():
            backup = Backup.objects.create(
                instance=instance,
                name=name,
                description=description,
                origin=Backup.Origin.DASHBOARD,
                requested_by=user,
                requested_at=now,
                next_attempt_at=now,
            )
            who = user.get_full_name() or user.username
            BackupEvent.objects.create(backup=backup, at=now, kind=BackupEvent.Kind.REQUESTED, message=f"by {who}")
    except IntegrityError:
        # A concurrent request (a double click, another tab) got there first: say why.
        rules.validate_backup_request(instance=instance, name=name, description=description)
        raise
    transaction.on_commit(partial(backup_publish, backup_id=backup.pk))
    return backup


def backup_publish(*, backup_id: int) -> bool:
    """Hand a queued backup to the broker. A failure only delays it: the sweep retries."""
    from .tasks import submit_backup

    try:
        submit_backup.delay(backup_id)
    except Exception:  # any broker or connection error: the row is the durable copy
        log.warning("Broker unavailable: backup %s stays queued until the next sweep", backup_id, exc_info=True)
        return False
    Backup.objects.filter(pk=backup_id, status=Status.QUEUED).update(enqueued_at=timezone.now())
    return True


def backups_dispatch_due() -> int:
    """The outbox sweep: publish queued backups that are due and not recently published,
    and those whose submitting worker died (lapsed lease)."""
    now = timezone.now()
    due = Backup.objects.filter(
        Q(status=Status.QUEUED, next_attempt_at__lte=now)
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REPUBLISH_AFTER))
        | Q(status=Status.SUBMITTING, claimed_at__lt=now - SUBMIT_LEASE)
    ).values_list("pk", flat=True)[:500]
    return sum(backup_publish(backup_id=pk) for pk in due)


def backup_submit(*, backup_id: int) -> None:
    """Create the backup in the cloud, exactly once, whatever happened before."""
    now = timezone.now()
    claimed = (
        Backup.objects.filter(pk=backup_id)
        .filter(
            Q(status=Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=Status.SUBMITTING, claimed_at__lt=now - SUBMIT_LEASE)
        )
        .update(status=Status.SUBMITTING, claimed_at=now, submit_attempts=F("submit_attempts") + 1)
    )
    if not claimed:
        return  # a duplicate delivery, or another worker holds it, or it is done
    backup = Backup.objects.select_related("instance__project").get(pk=backup_id)
    instance = backup.instance
    client = client_for_project(instance.project, call_budget=_submission_budget())
    try:
        if backup.submit_attempts > 1:
            existing = client.find_backup_by_name(instance.cloud_id, backup.name)
            if existing:
                _backup_adopt(backup, existing, "Found in the cloud after an interrupted attempt")
                return
        created = client.create_backup(instance.cloud_id, backup.name, backup.description)
    except Throttled as error:
        if error.status is None:  # our own budget said "not now": nothing was sent
            _backup_defer(backup, error.retry_after)
        else:
            _backup_retry(backup, error)
    except AmbiguousRequest as error:
        # Maybe created, maybe not: the next attempt looks it up by name before POSTing.
        _backup_retry(backup, error)
    except CloudError as error:
        if error.error_code == "DBS.201201":  # "the backup already exists": an earlier attempt made it
            existing = client.find_backup_by_name(instance.cloud_id, backup.name)
            if existing:
                _backup_adopt(backup, existing, "Found in the cloud after an interrupted attempt")
                return
        if error.retryable:
            _backup_retry(backup, error)
        else:
            _backup_fail(backup, error.error_code or "AUTH", error.error_msg or str(error))
    else:
        backup_transition(
            backup.pk,
            Status.RUNNING,
            event=BackupEvent.Kind.SUBMITTED,
            message=f"Cloud job {created.job_id}, backup {created.backup_id}",
            job_id=created.job_id,
            backup_id=created.backup_id,
            started_at=timezone.now(),
            progress=0,
            next_poll_at=timezone.now() + poll_interval(timedelta(0)),
            last_seen_in_cloud_at=timezone.now(),
        )


def backup_release(*, backup_id: int) -> None:
    """Return a backup whose submission was cut short to the outbox, as after an ambiguous call."""
    backup = Backup.objects.get(pk=backup_id)
    _backup_retry(backup, AmbiguousRequest("The submission took too long and was stopped."))


def _backup_adopt(backup: Backup, cloud_backup: CloudBackup, message: str) -> None:
    now = timezone.now()
    backup_transition(
        backup.pk,
        Status.RUNNING,
        event=BackupEvent.Kind.SUBMITTED,
        message=f"{message}: backup {cloud_backup.id}",
        backup_id=cloud_backup.id,
        started_at=cloud_backup.begin_time or now,
        next_poll_at=now,
        last_seen_in_cloud_at=now,
    )


def _submission_budget() -> DjangoCacheCallBudget:
    # Creations leave a fifth of each minute's calls to polling, and wait briefly rather
    # than hold a worker: a burst of requests must not hide the progress of running backups.
    limit = settings.CLOUD_CALLS_PER_MINUTE
    return DjangoCacheCallBudget(limit, reserve=max(1, limit // 5), max_wait=5)


def _backup_defer(backup: Backup, seconds: float) -> None:
    """Put a backup back in the outbox without counting an attempt: no call was made."""
    backup_transition(
        backup.pk,
        Status.QUEUED,
        event=None,
        submit_attempts=F("submit_attempts") - 1,
        next_attempt_at=timezone.now() + timedelta(seconds=seconds),
        enqueued_at=None,
        claimed_at=None,
    )


def _backup_retry(backup: Backup, error: CloudError) -> None:
    if backup.submit_attempts >= MAX_SUBMIT_ATTEMPTS:
        _backup_fail(backup, error.error_code or "UNREACHABLE", error.error_msg or str(error))
        return
    delay = submit_retry_delay(backup.submit_attempts)
    if isinstance(error, Throttled):
        delay = max(delay, timedelta(seconds=error.retry_after))
    backup_transition(
        backup.pk,
        Status.QUEUED,
        event=BackupEvent.Kind.RETRY,
        message=f"Attempt {backup.submit_attempts} did not go through ({error}); trying again in {delay.seconds} s",
        next_attempt_at=timezone.now() + delay,
        enqueued_at=None,
        claimed_at=None,
    )


def _backup_fail(backup: Backup, code: str, message: str) -> None:
    backup_transition(
        backup.pk,
        Status.FAILED,
        event=BackupEvent.Kind.FAILED,
        message=f"{code}: {message}",
        error_code=code,
        error_message=message,
        finished_at=timezone.now(),
    )


# --- following running backups -----------------------------------------------------


def projects_with_due_polls() -> list[int]:
    now = timezone.now()
    return list(
        Backup.objects.filter(status__in=[Status.RUNNING, Status.UNKNOWN], next_poll_at__lte=now)
        .values_list("instance__project_id", flat=True)
        .distinct()
    )


def backups_poll(*, project: CloudProject) -> int:
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
            cb.id: cb for cb in client.list_backups(backup_type="Manual", begin_time=oldest, end_time=window_end)
        }
    for backup in due:
        _backup_follow(backup, jobs.get(backup.job_id), cloud_backups.get(backup.backup_id), now)
    return len(due)


def _backup_follow(backup: Backup, job: Job | None, cloud_backup: CloudBackup | None, now) -> None:
    age = now - (backup.started_at or backup.requested_at)
    seen = job is not None or cloud_backup is not None
    if cloud_backup and cloud_backup.is_completed:
        duration = _duration_text(cloud_backup.begin_time, cloud_backup.end_time)
        backup_transition(
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
        )
        return
    if (job and job.is_failed) or (cloud_backup and cloud_backup.is_failed):
        reason = (job.fail_reason if job else "") or "The cloud reported the backup as failed."
        backup_transition(
            backup.pk,
            Status.FAILED,
            event=BackupEvent.Kind.FAILED,
            message=reason,
            error_code="JOB_FAILED",
            error_message=reason,
            finished_at=(job.end_time if job else None) or (cloud_backup.end_time if cloud_backup else None) or now,
            last_seen_in_cloud_at=now,
            next_poll_at=None,
        )
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
        if job and job.progress is not None and job.progress // 25 > backup.progress // 25:
            _record_event(backup.pk, BackupEvent.Kind.PROGRESS, f"{job.progress}%")
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


# --- keeping the history complete and honest ---------------------------------------


def instances_sync(*, project: CloudProject) -> dict[str, int]:
    """Refresh the project's Cassandra instances from the cloud; keep the history of gone ones."""
    cloud_instances = client_for_project(project).list_instances(datastore_type="cassandra")
    now = timezone.now()
    seen = set()
    created = 0
    for item in cloud_instances:
        seen.add(item.id)
        _, was_created = Instance.objects.update_or_create(
            project=project,
            cloud_id=item.id,
            defaults={
                "name": item.name,
                "status": item.status,
                "mode": item.mode,
                "datastore_version": item.datastore_version,
                "synced_at": now,
                "gone_at": None,
            },
        )
        created += was_created
    gone = Instance.objects.filter(project=project, gone_at__isnull=True).exclude(cloud_id__in=seen).update(gone_at=now)
    CloudProject.objects.filter(pk=project.pk).update(instances_synced_at=now)
    return {"instances": len(seen), "new": created, "gone": gone}


def backups_import(*, project: CloudProject) -> dict[str, int]:
    """Bring backups made outside this console into the history, and notice deleted ones."""
    cloud_backups = client_for_project(project).list_backups()
    instances = {i.cloud_id: i for i in Instance.objects.filter(project=project)}
    known = dict(
        Backup.objects.filter(instance__project=project).exclude(backup_id="").values_list("backup_id", "status")
    )
    ours_in_flight = set(
        Backup.objects.filter(
            instance__project=project, origin=Backup.Origin.DASHBOARD, status__in=Backup.ACTIVE_STATUSES
        ).values_list("instance__cloud_id", "name")
    )
    now = timezone.now()
    imported = 0
    for cb in cloud_backups:
        instance = instances.get(cb.instance_id)
        if cb.id in known or instance is None or (cb.instance_id, cb.name) in ours_in_flight:
            continue  # already ours, an instance we do not follow, or our own create in flight
        status = {"COMPLETED": Status.COMPLETED, "FAILED": Status.FAILED}.get(cb.status, Status.RUNNING)
        origin = Backup.Origin.CLOUD_AUTO if cb.type == "Auto" else Backup.Origin.CLOUD_MANUAL
        try:
            with transaction.atomic():
                backup = Backup.objects.create(
                    instance=instance,
                    name=cb.name,
                    description=cb.description,
                    origin=origin,
                    requested_at=cb.begin_time or now,
                    status=status,
                    progress=100 if status == Status.COMPLETED else 0,
                    backup_id=cb.id,
                    size_kb=cb.size_kb,
                    started_at=cb.begin_time,
                    finished_at=cb.end_time if status != Status.RUNNING else None,
                    last_seen_in_cloud_at=now,
                    next_poll_at=now if status == Status.RUNNING else None,
                    error_code="JOB_FAILED" if status == Status.FAILED else "",
                )
                BackupEvent.objects.create(
                    backup=backup, at=now, kind=BackupEvent.Kind.NOTE, message=f"Found in the cloud ({cb.type})"
                )
        except IntegrityError:
            continue  # another running backup on the instance; the next sync retries
        imported += 1
    listed = {cb.id for cb in cloud_backups}
    deleted = (
        Backup.objects.filter(instance__project=project, status=Status.COMPLETED, deleted_in_cloud_at__isnull=True)
        .exclude(backup_id="")
        .exclude(backup_id__in=listed)
        .update(deleted_in_cloud_at=now)
    )
    return {"imported": imported, "deleted_in_cloud": deleted}


def project_sync(*, project: CloudProject) -> dict[str, int]:
    """Instances first, then backups: imported backups need their instance."""
    return instances_sync(project=project) | backups_import(project=project)


def usual_duration(instance: Instance) -> timedelta | None:
    """The median duration of the instance's last completed backups, if it has a history."""
    recent = Backup.objects.filter(
        instance=instance, status=Status.COMPLETED, started_at__isnull=False, finished_at__isnull=False
    ).order_by("-finished_at")[:20]
    durations = [b.finished_at - b.started_at for b in recent]
    return statistics.median(durations) if durations else None


def backups_watchdog() -> int:
    """Flag running backups that take far longer than their instance usually needs."""
    now = timezone.now()
    flagged = 0
    running = Backup.objects.filter(status=Status.RUNNING, overdue=False, started_at__lt=now - OVERDUE_FLOOR)
    for backup in running.select_related("instance"):
        usual = usual_duration(backup.instance)
        limit = max(OVERDUE_FLOOR, 3 * usual) if usual else timedelta(hours=6)
        if now - backup.started_at > limit:
            Backup.objects.filter(pk=backup.pk).update(overdue=True)
            usual_text = f"usually {_duration_text(now - usual, now)}" if usual else "no history"
            _record_event(
                backup.pk, BackupEvent.Kind.NOTE, f"Running for much longer than usual ({usual_text}); still watching"
            )
            flagged += 1
    return flagged
