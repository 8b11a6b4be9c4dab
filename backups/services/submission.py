"""Requesting a backup and submitting it to the cloud, exactly once.

How a request travels (each step is safe to repeat, so a task delivered twice, a worker
killed mid-task or a broker outage never loses a request or creates a backup twice):

1. `backup_request` commits a QUEUED row (the outbox) and, after commit, publishes the
   submit task. If the broker is down the row stays QUEUED; `backups_dispatch_due` (beat)
   publishes it later.
2. `backup_submit` claims the row with a conditional UPDATE (QUEUED -> SUBMITTING with a
   lease, which a heartbeat renews while the worker lives: `leases.py`). Any attempt after the
   first looks the backup up by name before POSTing, because an earlier attempt may have
   created it without our knowing (the create API has no idempotency key; FIELD-NOTES).
   Retryable errors put the row back to QUEUED with a backoff; permanent ones fail it with the
   cloud's code and message; a spent call budget, with nothing sent, puts it back uncounted,
   and the sweep hands it over once the budget has room.
3. From RUNNING on, `tracking.py` follows it to its end.
"""

import itertools
import logging
import random
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from access.models import AuditEvent, CloudProject
from access.services import audit
from backups import publish, rules
from backups.cloud import (
    AmbiguousRequest,
    CloudBackup,
    CloudError,
    DjangoCacheCallBudget,
    Throttled,
    client_for_project,
)
from backups.lifecycle import backup_transition
from backups.models import Backup, BackupEvent, Instance
from backups.services import leases
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


def backup_request(*, instance: Instance, user, name: str, description: str, via: str = "") -> Backup:
    """Record a backup request and hand it to the worker once the row is committed.

    `via` says how it came, when not through the pages (e.g. "through the API, token deploy"):
    it goes into the timeline and the audit trail.

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
            message = f"by {who} {via}" if via else f"by {who}"
            BackupEvent.objects.create(backup=backup, at=now, kind=BackupEvent.Kind.REQUESTED, message=message)
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
                    **({"via": via} if via else {}),
                },
            )
    except IntegrityError:
        # A concurrent request (a double click, another tab) got there first: say why.
        rules.validate_backup_request(instance=instance, name=name, description=description)
        raise
    with log_context(backup_id=backup.pk):
        log.info("backup %s requested: %r of %s", backup.pk, name, instance.name)
        transaction.on_commit(partial(backup_publish, backup_id=backup.pk))
    return backup


def backup_publish(*, backup_id: int) -> bool:
    """Hand a queued backup to the broker. A failure only delays it: the sweep retries."""
    if not publish.hand_over(publish.SUBMIT_BACKUP, backup_id, what=f"backup {backup_id}"):
        return False  # the row is the durable copy; an outage is logged once (webapp/broker.py)
    Backup.objects.filter(pk=backup_id, status=Status.QUEUED).update(enqueued_at=timezone.now())
    return True


def backups_dispatch_due() -> int:
    """The outbox sweep: publish the queued backups that are due, and those whose submitting
    worker died (lapsed lease).

    Queued backups go out oldest request first and at most as many per IAM user as its
    creation budget has room for now, less those handed over and not started yet: the rest
    wait here, in the database, not in a worker. So a hundred backups waiting for one
    project's budget cost the workers nothing, and every other project's backups go out as
    soon as their own budget has room.
    """
    now = timezone.now()
    lapsed = Backup.objects.filter(leases.lapsed(now))
    published = _publish_while_the_broker_takes(lapsed.values_list("pk", flat=True)[:500])
    queued = Backup.objects.filter(status=Status.QUEUED)
    republish_before = now - publish.REPUBLISH_AFTER
    due = queued.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=republish_before), next_attempt_at__lte=now)
    projects_by_key = _projects_by_budget_key(due.values_list("instance__project_id", flat=True).distinct())
    if not projects_by_key:
        return published
    handed_over = dict(
        queued.filter(enqueued_at__gte=republish_before)
        .values_list("instance__project_id")
        .annotate(Count("pk"))
        .order_by()
    )
    budget = _submission_budget()
    queues = []
    for key, project_ids in projects_by_key.items():
        room = budget.room(key) - sum(handed_over.get(project_id, 0) for project_id in project_ids)
        if room > 0:
            line = due.filter(instance__project_id__in=project_ids).order_by("requested_at", "pk")
            queues.append(list(line.values_list("pk", flat=True)[:room]))
    # Take turns between IAM users, so that none waits in the broker behind another's batch.
    turns = (pk for pk in itertools.chain.from_iterable(itertools.zip_longest(*queues)) if pk is not None)
    return published + _publish_while_the_broker_takes(turns)


def _publish_while_the_broker_takes(backup_ids) -> int:
    """Publish each until the broker refuses one (an outage): the rest stay queued for the next sweep."""
    published = 0
    for backup_id in backup_ids:
        if not backup_publish(backup_id=backup_id):
            break
        published += 1
    return published


def _projects_by_budget_key(project_ids) -> dict[str, list[int]]:
    """The projects grouped by call budget: projects connected as one IAM user share one."""
    rows = CloudProject.objects.filter(pk__in=project_ids).values_list("pk", "iam_endpoint", "iam_domain", "iam_user")
    grouped: dict[str, list[int]] = {}
    for pk, endpoint, domain, user in rows:
        grouped.setdefault(DjangoCacheCallBudget.key_for(endpoint, domain, user), []).append(pk)
    return grouped


def backup_submit(*, backup_id: int) -> None:
    """Create the backup in the cloud, exactly once, whatever happened before."""
    with log_context(backup_id=backup_id):
        _backup_submit(backup_id)


def _backup_submit(backup_id: int) -> None:
    claimed_at = leases.submit_claim(backup_id=backup_id)
    if claimed_at is None:
        log.info("backup %s: nothing to submit (done, or another worker holds it)", backup_id)
        return  # a duplicate delivery, or another worker holds it, or it is done
    with leases.SubmitHeartbeat(backup_id=backup_id, claimed_at=claimed_at):
        _backup_send(backup_id)


def _backup_send(backup_id: int) -> None:
    backup = Backup.objects.select_related("instance__project").get(pk=backup_id)
    log.info("backup %s: submitting %r (attempt %s)", backup_id, backup.name, backup.submit_attempts)
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
            event=BackupEvent.Kind.SUBMITTED,
            message=f"Cloud job {created.job_id}, backup {created.backup_id}",
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
        _backup_adopt(backup, existing, "Found in the cloud after an interrupted attempt")
    else:
        _backup_retry(backup, AmbiguousRequest("The cloud has this backup but does not list it yet."))


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
    # Creations leave a fifth of each minute's calls to polling, so that a burst of requests
    # cannot hide the outcome of running backups. They never wait for room (a worker waiting for
    # one IAM user's budget holds up every other project): back to the outbox (`_backup_defer`).
    limit = settings.CLOUD_CALLS_PER_MINUTE
    return DjangoCacheCallBudget(limit, reserve=max(1, limit // 5), max_wait=0)


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
