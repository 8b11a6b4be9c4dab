"""Sending a restore to the cloud, exactly once: never two instances for one request.

`restore_submit` claims the QUEUED row (QUEUED -> SUBMITTING with a claim id and a lease that a
heartbeat renews while the worker lives: `leases.py`); every move it makes afterwards is
conditional on that claim, so a worker taken over after a stall writes nothing. Then, before
any create, it looks the new instance up by its name, since the create call has no idempotency
key (FIELD-NOTES) and an earlier attempt (or a dead worker) may have made it unseen: found on a
later attempt, it is adopted; found on the first, it is someone else's, and the restore fails
rather than take it.

- AmbiguousRequest (the answer was lost): back to the outbox; the next attempt looks first.
- A refusal (InvalidRequest and the like): failed, with the cloud's code and plain words.
- CloudUnavailable, ServerBusy, Throttled: back to the outbox with backoff.
- The task's time limit cut a call short: back to the outbox, as after an ambiguous call.
After the last attempt one more look by name decides: adopted if there, failed if not.
"""

import logging
import random
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from backups.cloud import AmbiguousRequest, CloudError, DjangoCacheCallBudget, Throttled, client_for_project
from backups.cloud import Instance as CloudInstance
from backups.cloud.types import NewInstance
from webapp import metrics
from webapp.logcontext import log_context

from .. import timeline
from ..lifecycle import restore_transition
from ..models import Restore, RestoreEvent
from . import leases
from .cleanup import cleanup_reopen
from .tracking import poll_interval

log = logging.getLogger(__name__)

Status = Restore.Status

MAX_SUBMIT_ATTEMPTS = 6
# The disk type the create page documents (creating_an_instance.rst, flavor.storage): SSD.
DEFAULT_STORAGE_TYPE = "ULTRAHIGH"


def submit_retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter, capped well below the broker's visibility timeout."""
    base = min(settings.BACKUP_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 300)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


def submit_claim(*, restore_id: int) -> uuid.UUID | None:
    """Claim a restore for sending: a queued one that is due, or a plain restore whose worker's
    lease lapsed. Returns the claim's id, or None when there is nothing to claim (duplicate
    delivery, held by another live worker, done)."""
    claim = uuid.uuid4()
    claimable = Q(status=Status.QUEUED, next_attempt_at__lte=timezone.now()) | (
        leases.submit_lapsed() & Q(kind=Restore.Kind.RESTORE)
    )
    claimed = Restore.objects.filter(claimable, pk=restore_id).update(
        status=Status.SUBMITTING, claim=claim, claimed_at=Now(), submit_attempts=F("submit_attempts") + 1
    )
    return claim if claimed else None


def restore_submit(*, restore_id: int) -> None:
    """Create the new instance in the cloud, exactly once, whatever happened before."""
    with log_context(restore_id=restore_id):
        claim = submit_claim(restore_id=restore_id)
        if claim is None:
            log.info("restore %s: nothing to submit (done, or another worker holds it)", restore_id)
            return
        with leases.submit_heartbeat(restore_id=restore_id, claim=claim):
            # Every move below is conditional on `restore.claim`, the claim just made.
            restore = (
                Restore.objects.select_related("project", "source_instance", "backup")
                .filter(pk=restore_id, claim=claim)
                .first()
            )
            if restore is None:
                return  # taken over already: that worker's lease is the one that counts
            try:
                _restore_send(restore)
            except SoftTimeLimitExceeded:
                # The task's time limit cut a call short: back to the outbox, as after an
                # ambiguous call; the next attempt looks in the cloud first.
                _retry(restore, AmbiguousRequest("The submission took too long and was stopped."))


def _restore_send(restore: Restore) -> None:
    log.info("restore %s: submitting %r (attempt %s)", restore.pk, restore.target_name, restore.submit_attempts)
    client = client_for_project(restore.project, call_budget=_submission_budget())
    try:
        existing = client.find_instance_by_name(restore.target_name)
        if existing is not None:
            if restore.submit_attempts > 1:
                _adopt(restore, existing)
            else:
                _fail(restore, "NAME_TAKEN", f"An instance named {restore.target_name} already exists in the project.")
            return
        if restore.submit_attempts > MAX_SUBMIT_ATTEMPTS:
            # The last look, after the last ambiguous attempt: nothing there, so nothing was made.
            _fail(restore, "UNREACHABLE", "The cloud did not confirm the restore, and it made no instance.")
            return
        if restore.is_rehearsal and not restore.node_count and not _rehearsal_spec_copy(client, restore):
            return
        created = client.create_instance(_new_instance(restore))
    except Throttled as error:
        if error.status is None:  # our own budget said "not now": nothing was sent
            _defer(restore, error.retry_after)
        else:
            _retry(restore, error)
    except AmbiguousRequest as error:
        metrics.ambiguous_create()
        _retry(restore, error)
    except CloudError as error:
        if error.retryable:
            _retry(restore, error)
        else:
            _fail(restore, error.error_code or "AUTH", error.error_msg or str(error))
    else:
        now = timezone.now()
        moved = restore_transition(
            restore.pk,
            Status.RESTORING,
            claim=restore.claim,
            event=RestoreEvent.Kind.SUBMITTED,
            message=timeline.line(timeline.SUBMITTED, instance_id=created.instance_id, job_id=created.job_id),
            job_id=created.job_id,
            instance_cloud_id=created.instance_id,
            submitted_at=now,
            last_seen_in_cloud_at=now,
            next_poll_at=now + poll_interval(),
            password="",
        )
        if not moved and restore.is_rehearsal:
            # The sweeper gave this rehearsal up while the create was on its way (this worker went
            # unheard for a whole lease): the instance it made must not be left behind. (A plain
            # restore taken over needs nothing: the next worker finds this instance by name.)
            cleanup_reopen(restore_id=restore.pk, instance_id=created.instance_id)


def _new_instance(restore: Restore) -> NewInstance:
    # A rehearsal's size is copied from its source before its first create (_rehearsal_spec_copy).
    if restore.node_count is None or restore.volume_size_gb is None:
        raise ValueError(f"restore {restore.pk} has no node count or storage size to create with")
    return NewInstance(
        name=restore.target_name,
        password=restore.password,
        region=restore.region,
        availability_zone=restore.availability_zone,
        vpc_id=restore.vpc_id,
        subnet_id=restore.subnet_id,
        security_group_id=restore.security_group_id,
        mode=restore.mode,
        spec_code=restore.spec_code,
        node_count=restore.node_count,
        volume_size_gb=restore.volume_size_gb,
        storage_type=restore.storage_type or DEFAULT_STORAGE_TYPE,
        restore_backup_id=restore.backup.backup_id if restore.backup is not None else None,
        restore_source_instance_id=None if restore.backup_id else restore.source_instance.cloud_id,
        restore_time=restore.restore_time,
    )


def _rehearsal_spec_copy(client, restore: Restore) -> bool:
    """A rehearsal's instance is the source's twin: copy its spec from the cloud now, once.
    False when the source is no longer there (and the rehearsal failed), or when this worker
    no longer holds the rehearsal (given up by the sweeper): then nothing is to be created."""
    source = client.get_instance(restore.source_instance.cloud_id)
    if source is None or not (source.node_count and source.volume_size_gb and source.spec_code):
        _fail(restore, "NO_SOURCE", f"{restore.source_instance.name} is not in the cloud's instance list.")
        return False
    spec = {
        "spec_code": source.spec_code,
        "node_count": source.node_count,
        "volume_size_gb": source.volume_size_gb,
        "storage_type": DEFAULT_STORAGE_TYPE,
        "region": source.region or restore.project.region,
        "availability_zone": source.availability_zone,
        "vpc_id": source.vpc_id,
        "subnet_id": source.subnet_id,
        "security_group_id": source.security_group_id,
        "mode": source.mode or restore.mode,
    }
    held = Restore.objects.filter(pk=restore.pk, status=Status.SUBMITTING, claim=restore.claim)
    if not held.update(**spec):
        log.warning("rehearsal %s: not created, no longer submitting on this claim", restore.pk)
        return False
    for name, value in spec.items():
        setattr(restore, name, value)
    return True


def _adopt(restore: Restore, instance: CloudInstance) -> None:
    """An earlier attempt made the instance without our hearing of it: follow that one."""
    now = timezone.now()
    restore_transition(
        restore.pk,
        Status.RESTORING,
        claim=restore.claim,
        event=RestoreEvent.Kind.SUBMITTED,
        message=timeline.line(timeline.ADOPTED, instance_id=instance.id),
        instance_cloud_id=instance.id,
        # The RTO counts from when the cloud took the create, as near as we know it.
        submitted_at=instance.created or now,
        last_seen_in_cloud_at=now,
        next_poll_at=now,
        password="",
    )


def _submission_budget() -> DjangoCacheCallBudget:
    # As for backups: creations leave a fifth of each minute's calls to polling, never wait.
    limit = settings.CLOUD_CALLS_PER_MINUTE
    return DjangoCacheCallBudget(limit, reserve=max(1, limit // 5), max_wait=0)


def _defer(restore: Restore, seconds: float) -> None:
    """Back to the outbox without counting an attempt: no call was made."""
    restore_transition(
        restore.pk,
        Status.QUEUED,
        claim=restore.claim,
        event=None,
        submit_attempts=F("submit_attempts") - 1,
        next_attempt_at=timezone.now() + timedelta(seconds=seconds),
        enqueued_at=None,
        claimed_at=None,
    )


def _retry(restore: Restore, error: CloudError) -> None:
    # An ambiguous last attempt earns one more look by name (never another create).
    ambiguous = isinstance(error, AmbiguousRequest)
    if restore.submit_attempts >= MAX_SUBMIT_ATTEMPTS + (1 if ambiguous else 0):
        _fail(restore, error.error_code or "UNREACHABLE", error.error_msg or str(error))
        return
    delay = submit_retry_delay(restore.submit_attempts)
    if isinstance(error, Throttled):
        delay = max(delay, timedelta(seconds=error.retry_after))
    restore_transition(
        restore.pk,
        Status.QUEUED,
        claim=restore.claim,
        event=RestoreEvent.Kind.RETRY,
        message=timeline.line(
            timeline.RETRY, attempt=restore.submit_attempts, error=str(error), seconds=int(delay.total_seconds())
        ),
        next_attempt_at=timezone.now() + delay,
        enqueued_at=None,
        claimed_at=None,
    )


def _fail(restore: Restore, code: str, message: str) -> None:
    restore_transition(
        restore.pk,
        Status.FAILED,
        claim=restore.claim,
        event=RestoreEvent.Kind.FAILED,
        message=timeline.line(timeline.SUBMIT_FAILED, error_code=code, reason=message),
        error_code=code,
        error_message=message,
        finished_at=timezone.now(),
    )
