"""Following restores to their end, and rehearsals' temporary instances until they are gone.

`restores_poll` (beat) looks at each restore due for a look: the new instance in the instance
list (available = "normal", or "createfail") and its job (Failed, with a reason; progress). A
restore the cloud stops reporting becomes UNKNOWN (a rehearsal fails, and is cleaned up). The
same poll follows each delete a rehearsal sent until the instance has left the list.

Restores are few (people ask for them one by one), so each costs its own two calls a look.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from backups.cloud import CloudError, GeminiDBClient, Job, client_for_project
from backups.cloud import Instance as CloudInstance
from webapp.logcontext import log_context

from .. import timeline
from ..lifecycle import cleanup_transition, restore_event_record, restore_transition
from ..models import Restore, RestoreEvent

log = logging.getLogger(__name__)

Status = Restore.Status
Cleanup = Restore.Cleanup

# A restore neither the instance list nor the jobs API has shown for this long is lost track of.
UNKNOWN_AFTER = timedelta(minutes=10)
FOLLOWED = (Status.RESTORING, Status.UNKNOWN)


def poll_interval() -> timedelta:
    return timedelta(seconds=settings.RESTORE_POLL_SECONDS)


def restores_poll() -> int:
    """Look at every restore and every rehearsal delete that is due; returns how many."""
    now = timezone.now()
    restores = Restore.objects.filter(status__in=FOLLOWED, next_poll_at__lte=now)
    deletes = Restore.objects.filter(cleanup_status=Cleanup.DELETING, next_poll_at__lte=now).exclude(delete_job_id="")
    looked = 0
    clients: dict[int, GeminiDBClient] = {}
    for restore in [*restores.select_related("project"), *deletes.select_related("project")]:
        client = clients.setdefault(restore.project_id, client_for_project(restore.project))
        with log_context(restore_id=restore.pk):
            try:
                if restore.status in FOLLOWED:
                    _restore_follow(client, restore)
                else:
                    _delete_follow(client, restore)
            except CloudError as error:
                # The next tick looks again; the restore keeps its state meanwhile.
                log.warning("restore %s: the cloud could not be asked (%s)", restore.pk, error)
                Restore.objects.filter(pk=restore.pk).update(next_poll_at=now + poll_interval())
        looked += 1
    return looked


def _restore_follow(client, restore: Restore) -> None:
    now = timezone.now()
    if restore.instance_cloud_id:
        instance = client.get_instance(restore.instance_cloud_id)
    else:
        instance = client.find_instance_by_name(restore.target_name)
    job = client.get_job(restore.job_id) if restore.job_id else None
    if instance is not None and instance.status == CloudInstance.NORMAL:
        restore_transition(
            restore.pk,
            Status.COMPLETED,
            event=RestoreEvent.Kind.COMPLETED,
            message=timeline.line(timeline.AVAILABLE, target=restore.target_name),
            instance_cloud_id=instance.id,
            progress=100,
            finished_at=now,
            last_seen_in_cloud_at=now,
            next_poll_at=None,
        )
    elif (instance is not None and instance.status == CloudInstance.CREATE_FAILED) or (job and job.is_failed):
        cloud_reason = job.fail_reason if job else ""
        if cloud_reason:
            failed = timeline.line(timeline.FAILED, reason=cloud_reason)
        else:
            failed = timeline.line(timeline.FAILED_WITHOUT_REASON)
        reason = failed.message
        restore_transition(
            restore.pk,
            Status.FAILED,
            event=RestoreEvent.Kind.FAILED,
            message=failed,
            error_code="CREATE_FAILED",
            error_message=reason,
            finished_at=now,
            last_seen_in_cloud_at=now,
            next_poll_at=None,
        )
    elif instance is not None or job is not None:
        _seen(restore, instance, job)
    else:
        _unseen(restore)


def _seen(restore: Restore, instance: CloudInstance | None, job: Job | None) -> None:
    now = timezone.now()
    if restore.status == Status.UNKNOWN:
        restore_transition(
            restore.pk, Status.RESTORING, event=RestoreEvent.Kind.NOTE, message=timeline.line(timeline.REAPPEARED)
        )
    fields: dict[str, object] = {"last_seen_in_cloud_at": now, "next_poll_at": now + poll_interval()}
    if instance is not None and not restore.instance_cloud_id:
        fields["instance_cloud_id"] = instance.id
    if job and job.progress is not None and job.progress != restore.progress:
        fields["progress"] = job.progress
        if job.progress // 25 > (restore.progress or 0) // 25:
            restore_event_record(
                restore.pk, RestoreEvent.Kind.PROGRESS, timeline.line(timeline.PROGRESS, progress=job.progress)
            )
    Restore.objects.filter(pk=restore.pk, status__in=FOLLOWED).update(**fields)


def _unseen(restore: Restore) -> None:
    now = timezone.now()
    last_seen = restore.last_seen_in_cloud_at or restore.submitted_at or restore.requested_at
    if now - last_seen <= UNKNOWN_AFTER:
        Restore.objects.filter(pk=restore.pk).update(next_poll_at=now + poll_interval())
        return
    message = timeline.line(timeline.LOST, last_seen=last_seen.isoformat())
    if restore.is_rehearsal:
        # Nothing proven; its instance, if it shows up again, is deleted by the clean-up.
        restore_transition(
            restore.pk,
            Status.FAILED,
            event=RestoreEvent.Kind.FAILED,
            message=message,
            error_code="LOST",
            error_message="The cloud stopped reporting on the temporary instance.",
            finished_at=now,
            next_poll_at=None,
        )
    elif restore.status == Status.RESTORING:
        restore_transition(
            restore.pk,
            Status.UNKNOWN,
            event=RestoreEvent.Kind.UNKNOWN,
            message=message,
            error_code="LOST",
            error_message="The cloud stopped reporting on the new instance.",
            next_poll_at=now + timedelta(minutes=5),
        )
    else:
        Restore.objects.filter(pk=restore.pk).update(next_poll_at=now + timedelta(minutes=5))


def _delete_follow(client, restore: Restore) -> None:
    """A rehearsal's delete was sent: done once the instance has left the list; sent again
    (by the clean-up) if its job failed."""
    from .cleanup import delete_retry  # cleanup.py follows up through this module

    now = timezone.now()
    if client.get_instance(restore.instance_cloud_id) is None:
        cleanup_transition(
            restore.pk,
            Cleanup.DELETED,
            event=RestoreEvent.Kind.CLEANUP,
            message=timeline.line(timeline.DELETED, target=restore.target_name),
            next_poll_at=None,
        )
        return
    job = client.get_job(restore.delete_job_id)
    if job is not None and job.is_failed:
        delete_retry(restore, job.fail_reason)
        return
    Restore.objects.filter(pk=restore.pk, cleanup_status=Cleanup.DELETING).update(next_poll_at=now + poll_interval())
