"""Deleting a rehearsal's temporary instance, whatever became of the rehearsal: no instance a
rehearsal made is left running (and billed).

A rehearsal that ends (lifecycle.py) hands its instance to the clean-up: PENDING, published
after commit. `rehearsal_instance_delete` claims it under a lease (DELETING, with a claim id
that every write of its worker is conditional on: leases.py), finds the instance (by id, or
by the rehearsal's own name when the create's answer never came) and sends the delete
(deleting_an_instance.rst); tracking.py follows the delete job until the instance has left
the list. A refusal or an error puts it back (FAILED) with a backoff, and it is tried again,
without end: the cloud refuses a delete while the instance is still being created.

The sweeper, `rehearsals_sweep` (beat), is what makes this hold when workers die:
- a rehearsal whose worker died while sending the create is given up (FAILED), which hands
  its instance, if the create made one, to the clean-up;
- a clean-up whose worker died before the delete's answer goes back to PENDING (that worker,
  should it wake, can no longer mark it deleted or failed);
- every PENDING or FAILED clean-up that is due and not handed over lately is published again.
"""

import logging
import random
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from backups.cloud import AmbiguousRequest, CloudError, InstanceBusy, InstanceNotFound, client_for_project
from notifications.events import EventKind, notify
from webapp.logcontext import log_context

from .. import publish, timeline
from ..lifecycle import cleanup_transition, restore_event_record, restore_transition
from ..models import Restore, RestoreEvent
from ..timeline import Line
from . import leases
from .tracking import poll_interval

log = logging.getLogger(__name__)

Status = Restore.Status
Cleanup = Restore.Cleanup

# After this many failed attempts, the project hears that a billed instance is still there.
NOTIFY_AFTER_ATTEMPTS = 3
DELETE_RETRY_CAP_SECONDS = 600


def delete_retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter, capped: the clean-up never gives up."""
    base = min(settings.BACKUP_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0), DELETE_RETRY_CAP_SECONDS)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


def cleanup_publish(*, restore_id: int) -> bool:
    """Hand a rehearsal's clean-up to the broker. A failure only delays it: the sweep retries."""
    if not publish.hand_over(publish.DELETE_REHEARSAL_INSTANCE, restore_id, what=f"rehearsal {restore_id} clean-up"):
        return False
    Restore.objects.filter(pk=restore_id, cleanup_status__in=(Cleanup.PENDING, Cleanup.FAILED)).update(
        delete_enqueued_at=timezone.now()
    )
    return True


def _delete_claim(restore_id: int) -> uuid.UUID | None:
    """PENDING or FAILED and due -> DELETING, with a claim id and a lease; returns the claim's
    id, or None when there is nothing to claim. Only a rehearsal's instance, and only once the
    rehearsal has ended: a restore's new instance is never this module's to delete."""
    claim = uuid.uuid4()
    claimed = Restore.objects.filter(
        pk=restore_id,
        kind=Restore.Kind.REHEARSAL,
        status__in=(Status.COMPLETED, Status.FAILED),
        cleanup_status__in=(Cleanup.PENDING, Cleanup.FAILED),
        delete_next_attempt_at__lte=timezone.now(),
    ).update(
        cleanup_status=Cleanup.DELETING,
        delete_claim=claim,
        delete_claimed_at=Now(),
        delete_attempts=F("delete_attempts") + 1,
    )
    return claim if claimed else None


def rehearsal_instance_delete(*, restore_id: int) -> None:
    """Delete a rehearsal's temporary instance if it exists; note it deleted if it does not."""
    with log_context(restore_id=restore_id):
        claim = _delete_claim(restore_id)
        if claim is None:
            log.info("rehearsal %s: nothing to delete (done, not due, or another worker holds it)", restore_id)
            return
        with leases.delete_heartbeat(restore_id=restore_id, claim=claim):
            # Every write below is conditional on `restore.delete_claim`, the claim just made.
            restore = (
                Restore.objects.select_related("project", "source_instance")
                .filter(pk=restore_id, delete_claim=claim)
                .first()
            )
            if restore is None:
                return  # taken over already: that worker's lease is the one that counts
            _delete_send(restore)


def _delete_send(restore: Restore) -> None:
    held = Restore.objects.filter(pk=restore.pk, cleanup_status=Cleanup.DELETING, delete_claim=restore.delete_claim)
    client = client_for_project(restore.project)
    try:
        if restore.instance_cloud_id:
            instance_id = restore.instance_cloud_id
        else:
            # The create's answer never came: the name is the rehearsal's own (rehearsals.py).
            found = client.find_instance_by_name(restore.target_name)
            if found is None:
                _deleted(restore, timeline.line(timeline.NOTHING_TO_DELETE))
                return
            instance_id = found.id
            if not held.update(instance_cloud_id=instance_id):
                log.warning("rehearsal %s: no longer deleting on this claim; another worker sends it", restore.pk)
                return
        job_id = client.delete_instance(instance_id)
    except InstanceNotFound:
        _deleted(restore, timeline.line(timeline.ALREADY_GONE))
    except InstanceBusy as error:
        # Still being created (or backed up): the cloud takes no delete until that job ends.
        delete_retry(restore, str(error), failed=False, claim=restore.delete_claim)
    except (AmbiguousRequest, CloudError) as error:
        delete_retry(restore, str(error), claim=restore.delete_claim)
    else:
        # Still DELETING, now with the job that tracking.py follows until the instance is gone.
        if held.update(delete_job_id=job_id, next_poll_at=timezone.now() + poll_interval()):
            restore_event_record(
                restore.pk, RestoreEvent.Kind.CLEANUP, timeline.line(timeline.DELETE_SENT, job_id=job_id)
            )
        else:
            log.warning("rehearsal %s: delete job %s not recorded, no longer held on this claim", restore.pk, job_id)


def _deleted(restore: Restore, message: Line) -> None:
    cleanup_transition(
        restore.pk,
        Cleanup.DELETED,
        claim=restore.delete_claim,
        event=RestoreEvent.Kind.CLEANUP,
        message=message,
        next_poll_at=None,
    )


def delete_retry(restore: Restore, reason: str, *, failed: bool = True, claim: uuid.UUID | None = None) -> None:
    """Try the delete again later: FAILED (shown as "not deleted yet") for an error, PENDING when
    the cloud only asked to wait. `reason` is the cloud's words ("" if it gave none). The worker
    that sent the delete passes its `claim`: nothing moves once another worker holds the clean-up."""
    restore.refresh_from_db(fields=["delete_attempts", "cleanup_status"])
    delay = delete_retry_delay(restore.delete_attempts)
    moved = cleanup_transition(
        restore.pk,
        Cleanup.FAILED if failed else Cleanup.PENDING,
        claim=claim,
        event=RestoreEvent.Kind.CLEANUP,
        message=_retry_line(reason, busy=not failed, seconds=int(delay.total_seconds())),
        delete_next_attempt_at=timezone.now() + delay,
        delete_enqueued_at=None,
        delete_claimed_at=None,
        delete_job_id="",
        next_poll_at=None,
    )
    if moved and failed and restore.delete_attempts == NOTIFY_AFTER_ATTEMPTS:
        instance = restore.source_instance
        notify(
            kind=EventKind.REHEARSAL_CLEANUP_STUCK,
            key=f"restore:{restore.pk}:cleanup_stuck",
            project=restore.project,
            instance=instance,
            reason=f"The temporary instance {restore.target_name} could not be deleted after "
            f"{restore.delete_attempts} attempts ({reason or 'no reason given'}). The console keeps trying.",
        )


def _retry_line(reason: str, *, busy: bool, seconds: int) -> Line:
    if busy:
        return timeline.line(timeline.DELETE_BUSY, reason=reason, seconds=seconds)
    if reason:
        return timeline.line(timeline.DELETE_RETRY, reason=reason, seconds=seconds)
    return timeline.line(timeline.DELETE_JOB_FAILED, seconds=seconds)


def cleanup_reopen(*, restore_id: int, instance_id: str) -> None:
    """An instance turned up after the clean-up ended (a create answered late): delete it too."""
    now = timezone.now()
    reopened = Restore.objects.filter(pk=restore_id, kind=Restore.Kind.REHEARSAL).update(
        instance_cloud_id=instance_id,
        cleanup_status=Cleanup.PENDING,
        delete_next_attempt_at=now,
        delete_enqueued_at=None,
        delete_claimed_at=None,
        delete_job_id="",
    )
    if reopened:
        restore_event_record(
            restore_id, RestoreEvent.Kind.CLEANUP, timeline.line(timeline.LATE_INSTANCE, instance_id=instance_id)
        )
        transaction.on_commit(partial(cleanup_publish, restore_id=restore_id))


def rehearsals_sweep() -> int:
    """The sweeper (see the module's docstring); returns how many clean-ups it published."""
    now = timezone.now()
    # Each is given up on the claim found lapsed: not one a worker has made since.
    for restore_id, claim in Restore.objects.filter(leases.submit_lapsed(), kind=Restore.Kind.REHEARSAL).values_list(
        "pk", "claim"
    ):
        with log_context(restore_id=restore_id):
            restore_transition(
                restore_id,
                Status.FAILED,
                claim=claim,
                event=RestoreEvent.Kind.FAILED,
                message=timeline.line(timeline.WORKER_LOST),
                error_code="WORKER_LOST",
                error_message="The worker stopped while it was sending the rehearsal to the cloud.",
                finished_at=now,
            )
    for restore_id, claim in Restore.objects.filter(leases.delete_lapsed()).values_list("pk", "delete_claim"):
        cleanup_transition(
            restore_id,
            Cleanup.PENDING,
            claim=claim,
            event=RestoreEvent.Kind.CLEANUP,
            message=timeline.line(timeline.DELETER_LOST),
            delete_next_attempt_at=now,
            delete_enqueued_at=None,
            delete_claimed_at=None,
        )
    # An ended rehearsal never handed to the clean-up (it cannot happen; if it did, it would bill).
    for restore_id in Restore.objects.filter(
        kind=Restore.Kind.REHEARSAL, status__in=(Status.COMPLETED, Status.FAILED), cleanup_status=Cleanup.NONE
    ).values_list("pk", flat=True):
        cleanup_transition(
            restore_id,
            Cleanup.PENDING,
            event=RestoreEvent.Kind.CLEANUP,
            message=timeline.line(timeline.CLEANUP_STARTED),
            delete_next_attempt_at=now,
        )
    due = Restore.objects.filter(
        Q(delete_enqueued_at__isnull=True) | Q(delete_enqueued_at__lt=now - publish.REPUBLISH_AFTER),
        cleanup_status__in=(Cleanup.PENDING, Cleanup.FAILED),
        delete_next_attempt_at__lte=now,
    )
    published = 0
    for restore_id in due.values_list("pk", flat=True)[:100]:
        if not cleanup_publish(restore_id=restore_id):
            break  # the broker is down (logged once): the rest wait for the next sweep
        published += 1
    return published
