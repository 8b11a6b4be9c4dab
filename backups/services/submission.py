"""Requesting a backup and submitting it to the cloud, exactly once.

How a request travels (each step is safe to repeat, so a task delivered twice, a worker
killed mid-task or a broker outage never loses a request or creates a backup twice):

1. `backup_request` commits a QUEUED row (the outbox) and, after commit, publishes the
   submit task. If the broker is down the row stays QUEUED; the outbox sweep (`dispatch.py`,
   beat) publishes it later.
2. `backup_submit` claims the row with a conditional UPDATE (QUEUED -> SUBMITTING with a
   lease, which a heartbeat renews while the worker lives: `leases.py`). Any attempt after the
   first looks the backup up by name before POSTing, because an earlier attempt may have
   created it without our knowing (the create API has no idempotency key; FIELD-NOTES).
   Retryable errors put the row back to QUEUED with a backoff; permanent ones fail it with the
   cloud's code and message; a spent call budget, with nothing sent, puts it back uncounted,
   and the sweep hands it over once the budget has room.
3. From RUNNING on, `tracking.py` follows it to its end.
"""

import logging
import random
from datetime import timedelta
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from access.models import AuditEvent
from access.services import audit
from backups import rules, timeline
from backups.cloud import (
    AmbiguousRequest,
    CloudBackup,
    CloudError,
    Throttled,
    client_for_project,
)
from backups.lifecycle import backup_transition
from backups.models import Backup, BackupEvent, Instance
from backups.services import dispatch, leases
from backups.services.tracking import poll_interval
from webapp import metrics
from webapp.logcontext import log_context

log = logging.getLogger(__name__)

Status = Backup.Status

MAX_SUBMIT_ATTEMPTS = 6
# "The backup already exists" (error_codes.rst): the name is taken on the instance.
BACKUP_EXISTS = "DBS.201201"


def submit_retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter, capped well below the broker's visibility timeout."""
    base = min(settings.BACKUP_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 300)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


def backup_request(*, instance: Instance, user, name: str, description: str, api_token: str = "") -> Backup:
    """Record a backup request and hand it to the worker once the row is committed.

    `api_token` names the API token it came through, when not through the pages: the timeline
    and the audit trail say so.

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
            if api_token:
                line = timeline.line(timeline.REQUESTED_THROUGH_API, who=who, token=api_token)
            else:
                line = timeline.line(timeline.REQUESTED, who=who)
            BackupEvent.objects.create(
                backup=backup,
                at=now,
                kind=BackupEvent.Kind.REQUESTED,
                code=line.code,
                params=line.params,
                message=line.message,
            )
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
                    **({"via": f"through the API (token {api_token})"} if api_token else {}),
                },
            )
    except IntegrityError:
        # A concurrent request (a double click, another tab) got there first: say why.
        rules.validate_backup_request(instance=instance, name=name, description=description)
        raise
    with log_context(backup_id=backup.pk):
        log.info("backup %s requested: %r of %s", backup.pk, name, instance.name)
        transaction.on_commit(partial(dispatch.backup_publish, backup_id=backup.pk))
    return backup


def backup_submit(*, backup_id: int) -> None:
    """Create the backup in the cloud, exactly once, whatever happened before."""
    with log_context(backup_id=backup_id):
        _backup_submit(backup_id)


def _backup_submit(backup_id: int) -> None:
    claim = leases.submit_claim(backup_id=backup_id)
    if claim is None:
        log.info("backup %s: nothing to submit (done, or another worker holds it)", backup_id)
        return  # a duplicate delivery, or another worker holds it, or it is done
    with leases.submit_heartbeat(backup_id=backup_id, claim=claim):
        # Every move below is conditional on `backup.claim`, the claim just made.
        backup = Backup.objects.select_related("instance__project").filter(pk=backup_id, claim=claim).first()
        if backup is None:
            return  # taken over already: that worker's lease is the one that counts
        try:
            _backup_send(backup)
        except SoftTimeLimitExceeded:
            # The task's time limit cut a call short: back to the outbox, as after an ambiguous
            # call; the next attempt looks in the cloud first.
            _backup_retry(backup, AmbiguousRequest("The submission took too long and was stopped."))


def _backup_send(backup: Backup) -> None:
    backup_id = backup.pk
    log.info("backup %s: submitting %r (attempt %s)", backup_id, backup.name, backup.submit_attempts)
    instance = backup.instance
    client = client_for_project(instance.project, call_budget=dispatch.submission_budget())
    try:
        if backup.submit_attempts > 1:
            existing = client.find_backup_by_name(instance.cloud_id, backup.name)
            if existing:
                _backup_adopt(backup, existing)
                return
        created = client.create_backup(instance.cloud_id, backup.name, backup.description)
    except Throttled as error:
        if error.status is None:  # our own budget said "not now": nothing was sent
            _backup_defer(backup, error.retry_after)
        else:
            _backup_retry(backup, error)
    except AmbiguousRequest as error:
        # Maybe created, maybe not: the next attempt looks it up by name before POSTing.
        metrics.ambiguous_create()
        _backup_retry(backup, error)
    except CloudError as error:
        if error.error_code == BACKUP_EXISTS and backup.submit_attempts > 1:
            _backup_reconcile(client, backup)
        elif error.retryable:
            _backup_retry(backup, error)
        else:
            _backup_fail(backup, error.error_code or "AUTH", error.error_msg or str(error))
    else:
        backup_transition(
            backup.pk,
            Status.RUNNING,
            claim=backup.claim,
            event=BackupEvent.Kind.SUBMITTED,
            message=timeline.line(timeline.SUBMITTED, job_id=created.job_id, backup_id=created.backup_id),
            job_id=created.job_id,
            backup_id=created.backup_id,
            started_at=timezone.now(),
            progress=None,  # unknown until the jobs API reports some
            next_poll_at=timezone.now() + poll_interval(timedelta(0)),
            last_seen_in_cloud_at=timezone.now(),
        )


def _backup_reconcile(client, backup: Backup) -> None:
    """The cloud says the name is taken, after an earlier attempt of ours: that attempt made it,
    and the lookup before this attempt missed it (the backup list can lag behind a create).
    Look again; if it is still not listed, the next attempt looks once more, rather than fail
    a backup that exists or create a second one.

    On a first attempt the same answer means someone made a backup of that name outside this
    console: that is not ours to adopt, and the request fails with the cloud's reason."""
    try:
        existing = client.find_backup_by_name(backup.instance.cloud_id, backup.name)
    except CloudError as error:
        _backup_retry(backup, error)
        return
    if existing:
        _backup_adopt(backup, existing)
    else:
        _backup_retry(backup, AmbiguousRequest("The cloud has this backup but does not list it yet."))


def _backup_adopt(backup: Backup, cloud_backup: CloudBackup) -> None:
    """An earlier attempt made it, and the cloud lists it now: follow that one."""
    now = timezone.now()
    backup_transition(
        backup.pk,
        Status.RUNNING,
        claim=backup.claim,
        event=BackupEvent.Kind.SUBMITTED,
        message=timeline.line(timeline.ADOPTED, backup_id=cloud_backup.id),
        backup_id=cloud_backup.id,
        started_at=cloud_backup.begin_time or now,
        next_poll_at=now,
        last_seen_in_cloud_at=now,
    )


def _backup_defer(backup: Backup, seconds: float) -> None:
    """Put a backup back in the outbox without counting an attempt: no call was made."""
    backup_transition(
        backup.pk,
        Status.QUEUED,
        claim=backup.claim,
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
        claim=backup.claim,
        event=BackupEvent.Kind.RETRY,
        message=timeline.line(
            timeline.RETRY, attempt=backup.submit_attempts, error=str(error), seconds=int(delay.total_seconds())
        ),
        next_attempt_at=timezone.now() + delay,
        enqueued_at=None,
        claimed_at=None,
    )


def _backup_fail(backup: Backup, code: str, message: str) -> None:
    backup_transition(
        backup.pk,
        Status.FAILED,
        claim=backup.claim,
        event=BackupEvent.Kind.FAILED,
        message=timeline.line(timeline.SUBMIT_FAILED, error_code=code, reason=message),
        error_code=code,
        error_message=message,
        finished_at=timezone.now(),
    )
