"""The life a restore may lead, and the one function that moves it along.

Every change of a restore's status goes through `restore_transition`, which records the
timeline event and, when the restore ends, the audit event, the notification, a line on the
source backup's timeline and, for a rehearsal, the start of its temporary instance's deletion.
A rehearsal's clean-up moves through `cleanup_transition` the same way. So a stale or duplicate
update (a redelivered task, a late poll) changes nothing.
"""

import logging
import uuid
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access.models import AuditEvent
from access.services import audit
from backups import timeline as backup_timeline
from backups.lifecycle import backup_event_record
from backups.models import BackupEvent
from notifications.events import EventKind, notify
from webapp.logcontext import log_context

from . import timeline
from .models import Restore, RestoreEvent
from .timeline import Line

log = logging.getLogger(__name__)

Status = Restore.Status
Cleanup = Restore.Cleanup


# The restores' lines of the audit trail.
AuditAction = AuditEvent.Action


TRANSITIONS: dict[str, set[str]] = {
    Status.QUEUED: {Status.SUBMITTING, Status.FAILED},
    Status.SUBMITTING: {Status.QUEUED, Status.RESTORING, Status.FAILED},
    Status.RESTORING: {Status.COMPLETED, Status.FAILED, Status.UNKNOWN},
    Status.UNKNOWN: {Status.RESTORING, Status.COMPLETED, Status.FAILED},
    Status.COMPLETED: set(),
    Status.FAILED: set(),
}

CLEANUP_TRANSITIONS: dict[str, set[str]] = {
    Cleanup.NONE: {Cleanup.PENDING},
    Cleanup.PENDING: {Cleanup.DELETING, Cleanup.DELETED},
    Cleanup.DELETING: {Cleanup.PENDING, Cleanup.DELETED, Cleanup.FAILED},
    Cleanup.FAILED: {Cleanup.PENDING, Cleanup.DELETING, Cleanup.DELETED},
    Cleanup.DELETED: set(),
}


def _leading_to(transitions: dict[str, set[str]], status: str) -> list[str]:
    return [source for source, targets in transitions.items() if status in targets]


def restore_transition(
    pk: int, to: str, /, *, event: str | None, message: Line | str = "", claim: uuid.UUID | None = None, **fields
) -> bool:
    """Move a restore to `to` if its current status allows it; record the event if it moved.

    `message` is what the timeline says: a `timeline.line(...)`, or text kept as written.

    The conditional UPDATE is the claim: of two workers racing, one sees a row count of 1.
    The worker sending a restore passes its `claim` (services/leases.py): the move then happens
    only while the restore is still being submitted on that claim, so a worker that lost its
    lease to another (or whose rehearsal was given up) cannot write over what came after.
    """
    now = timezone.now()
    line = Line.of(message)
    if to in (Status.COMPLETED, Status.FAILED):
        fields.setdefault("password", "")  # not needed any more, whatever happened
    mine = Q(status=Status.SUBMITTING, claim=claim) if claim else Q()
    with transaction.atomic():
        moved = Restore.objects.filter(mine, pk=pk, status__in=_leading_to(TRANSITIONS, to)).update(status=to, **fields)
        if not moved:
            if claim:
                with log_context(restore_id=pk):
                    log.warning("restore %s: not moved to %s, no longer submitting on this claim", pk, to)
            return False
        with log_context(restore_id=pk):
            log.info("restore %s is now %s%s", pk, to, f": {line.message}" if line.message else "")
        if event:
            _event_create(pk, now, event, line)
        if to in (Status.COMPLETED, Status.FAILED, Status.UNKNOWN):
            restore = Restore.objects.select_related("source_instance__project", "backup").get(pk=pk)
            _outcome_record(restore, line.message)
    return True


def _outcome_record(restore: Restore, message: str) -> None:
    """The audit event, the notification and the backup's timeline line of an ending restore;
    a rehearsal's temporary instance is handed to the clean-up."""
    instance = restore.source_instance
    rehearsal = restore.is_rehearsal
    details = {"restore": restore.pk, "kind": restore.kind, "instance": instance.name, "target": restore.target_name}
    if restore.backup is not None:
        details["backup"] = restore.backup.name
    if restore.error_code:
        details |= {"error_code": restore.error_code, "reason": restore.error_message[:300]}
    if restore.rto:
        details["rto_seconds"] = int(restore.rto.total_seconds())
    audit.record(
        _OUTCOME_AUDIT[restore.kind][restore.status],
        project=instance.project,
        target=f"{instance.name} → {restore.target_name}",
        details=details,
    )
    line = _backup_line(restore, message)
    if restore.backup_id:
        backup_event_record(restore.backup_id, BackupEvent.Kind.NOTE, line)
    kind = _OUTCOME_NOTIFY[restore.kind].get(restore.status)
    if kind:
        notify(
            kind=kind,
            key=f"restore:{restore.pk}:{restore.status}",
            project=instance.project,
            instance=instance,
            backup=restore.backup,
            reason=line.message,
        )
    if rehearsal and restore.status in (Status.COMPLETED, Status.FAILED):
        cleanup_start(restore.pk)


def _backup_line(restore: Restore, message: str) -> Line:
    """The line an ending restore leaves on its backup's timeline."""
    rehearsal = restore.is_rehearsal
    params: dict[str, Any] = {} if rehearsal else {"target": restore.target_name}
    if restore.status == Status.COMPLETED:
        code = backup_timeline.REHEARSAL_AVAILABLE if rehearsal else backup_timeline.RESTORE_AVAILABLE
        params["seconds"] = int(restore.rto.total_seconds()) if restore.rto else None
    elif restore.status == Status.FAILED:
        code = backup_timeline.REHEARSAL_FAILED if rehearsal else backup_timeline.RESTORE_FAILED
        params["reason"] = restore.error_message or message
    else:
        code = backup_timeline.REHEARSAL_LOST if rehearsal else backup_timeline.RESTORE_LOST
    return backup_timeline.line(code, **params)


def _event_create(restore_id: int, at: datetime, kind: str, line: Line) -> None:
    RestoreEvent.objects.create(
        restore_id=restore_id, at=at, kind=kind, code=line.code, params=line.params, message=line.message
    )


def cleanup_start(pk: int) -> bool:
    """Hand a rehearsal's temporary instance to the clean-up (services/cleanup.py), once."""
    from .services.cleanup import cleanup_publish  # the services build on this module

    moved = cleanup_transition(
        pk,
        Cleanup.PENDING,
        event=RestoreEvent.Kind.CLEANUP,
        message=timeline.line(timeline.CLEANUP_STARTED),
        delete_next_attempt_at=timezone.now(),
    )
    if moved:
        transaction.on_commit(partial(cleanup_publish, restore_id=pk))
    return moved


def cleanup_transition(
    pk: int, to: str, /, *, event: str | None, message: Line | str = "", claim: uuid.UUID | None = None, **fields
) -> bool:
    """Move a rehearsal's clean-up to `to` if its current state allows it; record the event.

    `message` is what the timeline says: a `timeline.line(...)`, or text kept as written.

    With a delete `claim` (services/leases.py), only while the delete is still held on it.
    """
    now = timezone.now()
    line = Line.of(message)
    mine = Q(cleanup_status=Cleanup.DELETING, delete_claim=claim) if claim else Q()
    with transaction.atomic():
        rows = Restore.objects.filter(
            mine, pk=pk, kind=Restore.Kind.REHEARSAL, cleanup_status__in=_leading_to(CLEANUP_TRANSITIONS, to)
        )
        if to == Cleanup.DELETED:
            fields.setdefault("deleted_at", now)
        moved = rows.update(cleanup_status=to, **fields)
        if not moved:
            if claim:
                with log_context(restore_id=pk):
                    log.warning("rehearsal %s: clean-up not moved to %s, no longer deleting on this claim", pk, to)
            return False
        with log_context(restore_id=pk):
            log.info("rehearsal %s: clean-up %s%s", pk, to or "none", f": {line.message}" if line.message else "")
        if event:
            _event_create(pk, now, event, line)
        if to == Cleanup.DELETED:
            restore = Restore.objects.select_related("source_instance__project").get(pk=pk)
            audit.record(
                AuditAction.REHEARSAL_INSTANCE_DELETED,
                project=restore.source_instance.project,
                target=f"{restore.source_instance.name} → {restore.target_name}",
                details={"restore": pk, "target": restore.target_name, "instance_id": restore.instance_cloud_id},
            )
    return True


def restore_event_record(restore_id: int, kind: str, message: Line | str) -> None:
    """Add a line to a restore's timeline that comes with no change of status."""
    _event_create(restore_id, timezone.now(), kind, Line.of(message))


_OUTCOME_AUDIT: dict[str, dict[str, str]] = {
    Restore.Kind.RESTORE: {
        Status.COMPLETED: AuditAction.RESTORE_COMPLETED,
        Status.FAILED: AuditAction.RESTORE_FAILED,
        Status.UNKNOWN: AuditAction.RESTORE_UNKNOWN,
    },
    Restore.Kind.REHEARSAL: {
        Status.COMPLETED: AuditAction.REHEARSAL_COMPLETED,
        Status.FAILED: AuditAction.REHEARSAL_FAILED,
        Status.UNKNOWN: AuditAction.REHEARSAL_FAILED,
    },
}

_OUTCOME_NOTIFY: dict[str, dict[str, str]] = {
    Restore.Kind.RESTORE: {Status.COMPLETED: EventKind.RESTORE_COMPLETED, Status.FAILED: EventKind.RESTORE_FAILED},
    Restore.Kind.REHEARSAL: {Status.COMPLETED: EventKind.REHEARSAL_PASSED, Status.FAILED: EventKind.REHEARSAL_FAILED},
}
