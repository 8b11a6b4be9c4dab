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
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import requests
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import audit, rules
from .cloud import (
    AmbiguousRequest,
    AuthenticationFailed,
    CloudBackup,
    CloudError,
    CloudUnavailable,
    DjangoCacheCallBudget,
    DjangoCacheTokenStore,
    Forbidden,
    Job,
    RetryPolicy,
    Throttled,
    client_for_project,
)
from .cloud import Instance as CloudInstance
from .cloud.memory import MemoryTokenStore
from .cloud.stores import cache_key
from .models import AuditEvent, Backup, BackupEvent, CloudProject, InitialPassword, Instance, Membership

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
        if moved and to in _OUTCOME_AUDIT:
            _audit_backup_outcome(pk, _OUTCOME_AUDIT[to])
    return bool(moved)


# Every way a backup ends passes through `backup_transition`: the one place to audit it.
_OUTCOME_AUDIT = {
    Status.COMPLETED: AuditEvent.Action.BACKUP_COMPLETED,
    Status.FAILED: AuditEvent.Action.BACKUP_FAILED,
    Status.UNKNOWN: AuditEvent.Action.BACKUP_UNKNOWN,
}


def _audit_backup_outcome(pk: int, action: str) -> None:
    backup = Backup.objects.select_related("instance__project").get(pk=pk)
    details = {"backup": backup.pk, "instance": backup.instance.name, "name": backup.name, "status": backup.status}
    if backup.error_code:
        details |= {"error_code": backup.error_code, "reason": backup.error_message[:300]}
    audit.record(
        action, project=backup.instance.project, target=f"{backup.instance.name} / {backup.name}", details=details
    )


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
            audit.record(
                AuditEvent.Action.BACKUP_REQUESTED,
                actor=user,
                project=instance.project,
                target=f"{instance.name} / {name}",
                details={
                    "backup": backup.pk,
                    "instance": instance.name,
                    "instance_id": instance.cloud_id,
                    "name": name,
                },
            )
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
            # Both types: imported automated backups are followed here too.
            cb.id: cb
            for cb in client.list_backups(begin_time=oldest, end_time=window_end)
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


# --- people and roles ----------------------------------------------------------------

Role = Membership.Role


def _lock_team(project_id: int) -> None:
    """Serialise changes to one project's team until the transaction ends.

    Two admins demoting each other at the same moment must not both see "another admin is
    left". On PostgreSQL the project row is locked; SQLite takes its write lock at BEGIN
    (settings: transaction_mode IMMEDIATE), which serialises the whole transaction anyway.
    """
    list(CloudProject.objects.select_for_update().filter(pk=project_id).values_list("pk", flat=True))


def _other_active_admins(project_id: int, user_id: int) -> int:
    return (
        Membership.objects.filter(project_id=project_id, role=Role.ADMIN, user__is_active=True)
        .exclude(user_id=user_id)
        .count()
    )


def _last_admin_error(membership: Membership, doing: str) -> ValidationError:
    return ValidationError(
        f"{membership.user.get_username()} is the last admin of {membership.project.name} and cannot be {doing}. "
        "Make someone else admin first.",
        code="last_admin",
    )


def member_add(*, project: CloudProject, user, role: str, by) -> Membership:
    """Give an existing, active account a role in the project.

    Raises ValidationError if the account is deactivated or already a member.
    """
    if not user.is_active:
        raise ValidationError(
            f"The account {user.get_username()} is deactivated; a site administrator can reactivate it.",
            code="inactive",
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, project=project, role=role)
            audit.record(
                AuditEvent.Action.MEMBER_ADDED,
                actor=by,
                project=project,
                target=user.get_username(),
                target_user=user,
                details={"role": role},
            )
    except IntegrityError:
        current = Membership.objects.filter(user=user, project=project).first()
        label = current.get_role_display() if current else "a member"
        raise ValidationError(
            f"{user.get_username()} is already a member of {project.name} ({label}). Change their role in the list.",
            code="already_member",
        ) from None
    return membership


def account_create(
    *, username: str, email: str, first_name: str, last_name: str, initial_password: str, by, project=None
):
    """Create an account whose first sign-in must replace `initial_password`.

    Raises ValidationError (keyed by field) for a taken username or a weak password.
    """
    User = get_user_model()
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    password_validation.validate_password(initial_password, user)
    user.set_password(initial_password)
    try:
        with transaction.atomic():
            user.save()
            InitialPassword.objects.create(user=user, set_by=by)
            audit.record(
                AuditEvent.Action.ACCOUNT_CREATED,
                actor=by,
                project=project,
                target=username,
                target_user=user,
                details={"initial_password": True},
            )
    except IntegrityError:
        raise ValidationError({"username": f"The username {username} is taken."}, code="taken") from None
    return user


def member_add_new_account(
    *,
    project: CloudProject,
    role: str,
    by,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    initial_password: str,
) -> Membership:
    """Create an account with an initial password and give it a role in the project, together."""
    with transaction.atomic():
        user = account_create(
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            initial_password=initial_password,
            by=by,
            project=project,
        )
        return member_add(project=project, user=user, role=role, by=by)


def member_role_change(*, membership: Membership, role: str, by) -> Membership:
    """Change a member's role. The last active admin of a project cannot be demoted."""
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.", code="invalid")
    with transaction.atomic():
        _lock_team(membership.project_id)
        current = Membership.objects.select_related("user", "project").filter(pk=membership.pk).first()
        if current is None:
            raise ValidationError("This person is no longer a member of the project.", code="gone")
        if current.role == role:
            return current
        if current.role == Role.ADMIN and not _other_active_admins(current.project_id, current.user_id):
            raise _last_admin_error(current, "demoted")
        previous = current.role
        Membership.objects.filter(pk=current.pk).update(role=role)
        current.role = role
        audit.record(
            AuditEvent.Action.ROLE_CHANGED,
            actor=by,
            project=current.project,
            target=current.user.get_username(),
            target_user=current.user,
            details={"from": previous, "to": role},
        )
    return current


def member_remove(*, membership: Membership, by) -> None:
    """Take a person out of a project (their account stays). Not its last active admin."""
    with transaction.atomic():
        _lock_team(membership.project_id)
        current = Membership.objects.select_related("user", "project").filter(pk=membership.pk).first()
        if current is None:
            return  # already removed, by someone else or an earlier click
        if current.role == Role.ADMIN and not _other_active_admins(current.project_id, current.user_id):
            raise _last_admin_error(current, "removed")
        current.delete()
        audit.record(
            AuditEvent.Action.MEMBER_REMOVED,
            actor=by,
            project=current.project,
            target=current.user.get_username(),
            target_user=current.user,
            details={"role": current.role},
        )


def account_deactivate(*, user, by) -> None:
    """Stop an account from signing in (its sessions end too; memberships and history stay).

    Refused for one's own account and for the last active admin of any project.
    """
    if user.pk == by.pk:
        raise ValidationError("You cannot deactivate your own account.", code="self")
    with transaction.atomic():
        admin_of = list(
            Membership.objects.filter(user=user, role=Role.ADMIN)
            .order_by("project_id")
            .values_list("project_id", flat=True)
        )
        for project_id in admin_of:  # in id order, so two of these never wait on each other
            _lock_team(project_id)
        orphaned = [
            membership.project.name
            for membership in Membership.objects.filter(user=user, role=Role.ADMIN).select_related("project")
            if not _other_active_admins(membership.project_id, user.pk)
        ]
        if orphaned:
            raise ValidationError(
                f"{user.get_username()} is the last admin of {', '.join(sorted(orphaned))}. "
                "Make someone else admin there first.",
                code="last_admin",
            )
        updated = type(user).objects.filter(pk=user.pk, is_active=True).update(is_active=False)
        if updated:
            audit.record(AuditEvent.Action.ACCOUNT_DEACTIVATED, actor=by, target=user.get_username(), target_user=user)
    user.is_active = False


def account_reactivate(*, user, by) -> None:
    """Let a deactivated account sign in again, with the roles it had."""
    with transaction.atomic():
        if type(user).objects.filter(pk=user.pk, is_active=False).update(is_active=True):
            audit.record(AuditEvent.Action.ACCOUNT_REACTIVATED, actor=by, target=user.get_username(), target_user=user)
    user.is_active = True


def account_password_change(*, user, password: str) -> None:
    """Set the person's own new password; an initial password an admin set is replaced by it."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        initial, _ = InitialPassword.objects.filter(user=user).delete()
        audit.record(
            AuditEvent.Action.PASSWORD_CHANGED,
            actor=user,
            target=user.get_username(),
            target_user=user,
            details={"replaced_initial_password": bool(initial)},
        )


# --- connecting cloud projects -------------------------------------------------------


class CloudCheckFailed(Exception):
    """The credentials did not prove themselves; `str()` says why, for the person who typed them."""


@dataclass(frozen=True)
class CredentialsCheck:
    """What proving a set of credentials found: the project's Cassandra instances."""

    instances: list[CloudInstance]


def _checking_client(project: CloudProject):
    # A token store of its own (cloud/memory.py explains why), one attempt, and no waiting
    # for the call budget: someone is watching the page.
    return client_for_project(
        project,
        token_store=MemoryTokenStore(),
        call_budget=DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE, max_wait=0),
        retry=RetryPolicy(attempts=1),
        timeout=(min(5.0, settings.CLOUD_TIMEOUT_SECONDS), settings.CLOUD_TIMEOUT_SECONDS),
    )


def _check_failure(error: Exception, project: CloudProject) -> str:
    if isinstance(error, AuthenticationFailed):
        return (
            f"IAM refused the sign-in ({error.error_msg or 'no reason given'}). Check the IAM domain, user name "
            f"and password, and that the user may access project {project.project_id}. Nothing was saved."
        )
    if isinstance(error, Throttled):
        return "The cloud is limiting calls for this IAM user right now. Try again in a minute. Nothing was saved."
    if isinstance(error, CloudUnavailable | requests.RequestException):
        iam = "/v3/auth/tokens" in str(error)
        which, url = ("IAM", project.iam_endpoint) if iam else ("GeminiDB", project.geminidb_endpoint)
        return (
            f"No usable answer from the {which} endpoint {url}. Check the address, and that this server can "
            "reach it. Nothing was saved."
        )
    if isinstance(error, Forbidden):
        return (
            f"The IAM user signed in but may not list GeminiDB instances in project {project.project_id} "
            f"({error}). Grant it GeminiDB permissions in that project. Nothing was saved."
        )
    return (
        f"The cloud refused to list the project's instances ({error}). Check the project ID and the GeminiDB "
        "endpoint. Nothing was saved."
    )


def _credentials_check(project: CloudProject) -> CredentialsCheck:
    client = _checking_client(project)
    try:
        return CredentialsCheck(client.list_instances(datastore_type="cassandra"))
    except (CloudError, requests.RequestException) as error:
        log.info("Credentials for project %s did not prove themselves: %s", project.project_id, type(error).__name__)
        raise CloudCheckFailed(_check_failure(error, project)) from error
    finally:
        client.close()


def project_credentials_check(
    *, iam_endpoint: str, geminidb_endpoint: str, project_id: str, iam_domain: str, iam_user: str, password: str
) -> CredentialsCheck:
    """Prove credentials before anything is saved: get a token and list the Cassandra instances.

    Raises CloudCheckFailed with a message that says what to fix.
    """
    unsaved = CloudProject(
        iam_endpoint=iam_endpoint,
        geminidb_endpoint=geminidb_endpoint,
        project_id=project_id,
        iam_domain=iam_domain,
        iam_user=iam_user,
        iam_password=password,
    )
    return _credentials_check(unsaved)


def project_connect(
    *,
    by,
    name: str,
    region: str,
    iam_endpoint: str,
    geminidb_endpoint: str,
    project_id: str,
    iam_domain: str,
    iam_user: str,
    password: str,
    admin,
) -> CloudProject:
    """Connect a cloud project: prove the credentials, save the project with its first admin,
    then list its instances.

    Raises CloudCheckFailed (nothing saved) or ValidationError (already connected, admin
    deactivated).
    """
    if not admin.is_active:
        raise ValidationError({"admin": f"The account {admin.get_username()} is deactivated."}, code="inactive")
    project = CloudProject(
        name=name,
        region=region,
        project_id=project_id,
        iam_endpoint=iam_endpoint,
        geminidb_endpoint=geminidb_endpoint,
        iam_domain=iam_domain,
        iam_user=iam_user,
        iam_password=password,
    )
    found = _credentials_check(project)
    try:
        with transaction.atomic():
            project.save()
            Membership.objects.create(user=admin, project=project, role=Role.ADMIN)
            audit.record(
                AuditEvent.Action.PROJECT_CONNECTED,
                actor=by,
                project=project,
                target=name,
                details={
                    "region": region,
                    "project_id": project_id,
                    "iam_endpoint": iam_endpoint,
                    "geminidb_endpoint": geminidb_endpoint,
                    "iam_domain": iam_domain,
                    "iam_user": iam_user,
                    "instances_found": len(found.instances),
                },
            )
            audit.record(
                AuditEvent.Action.MEMBER_ADDED,
                actor=by,
                project=project,
                target=admin.get_username(),
                target_user=admin,
                details={"role": Role.ADMIN},
            )
    except IntegrityError:
        raise ValidationError({"project_id": f"Project {project_id} is already connected."}, code="taken") from None
    # After the commit, never inside it (no network I/O in a transaction). A failure here
    # only delays the list: the periodic sync fills it in.
    try:
        instances_sync(project=project)
    except CloudError:
        log.warning("Project %s connected; its first instance sync failed", project.project_id, exc_info=True)
    return project


def _token_cache_key(project: CloudProject) -> str:
    # The client's key for a project's cached token (GeminiDBClient.__init__): endpoint, domain,
    # user and project, but not the password.
    return cache_key("token", project.iam_endpoint, project.iam_domain, project.iam_user, project.project_id)


def project_credentials_rotate(
    *, project: CloudProject, by, iam_domain: str, iam_user: str, password: str
) -> CredentialsCheck:
    """Replace the project's IAM credentials after proving the new ones; forget cached tokens.

    The password is always required: the stored one is never sent anywhere it was not sent
    before. Raises CloudCheckFailed and saves nothing when the new credentials do not work.
    """
    candidate = CloudProject(
        pk=project.pk,
        name=project.name,
        iam_endpoint=project.iam_endpoint,
        geminidb_endpoint=project.geminidb_endpoint,
        project_id=project.project_id,
        iam_domain=iam_domain,
        iam_user=iam_user,
        iam_password=password,
    )
    found = _credentials_check(candidate)
    previous = {"iam_domain": project.iam_domain, "iam_user": project.iam_user}
    stale_keys = {_token_cache_key(project), _token_cache_key(candidate)}
    with transaction.atomic():
        project.iam_domain, project.iam_user, project.iam_password = iam_domain, iam_user, password
        project.save(update_fields=["iam_domain", "iam_user", "iam_password", "updated_at"])
        audit.record(
            AuditEvent.Action.CREDENTIALS_CHANGED,
            actor=by,
            project=project,
            target=project.name,
            details={"iam_domain": iam_domain, "iam_user": iam_user, "previous": previous},
        )
    # A token got with the old password stays valid for up to a day (FIELD-NOTES); workers
    # must not go on using it as if the new credentials had been proven with it.
    store = DjangoCacheTokenStore()
    store.cache.delete_many(list(stale_keys))
    return found
