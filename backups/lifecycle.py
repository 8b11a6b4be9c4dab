"""The life a backup may lead: which status may follow which, and the one function that moves
a backup along. Every change of a backup's status, by any service, goes through
`backup_transition`, which records the timeline event and, when the backup ends, the audit
event, the notification and the instance's new protection status; so a stale or duplicate
update (a redelivered task, a late poll) changes nothing.
"""

import logging
import uuid

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access.models import AuditEvent
from access.services import audit
from notifications.events import EventKind, notify
from webapp import metrics
from webapp.logcontext import log_context

from .models import Backup, BackupEvent
from .services.protection import instance_protection_update
from .timeline import Line

log = logging.getLogger(__name__)

Status = Backup.Status

# Which status a backup may move to from which. Anything else is a stale or duplicate
# update (a redelivered task, a late poll) and is ignored by `backup_transition`.
TRANSITIONS: dict[str, set[str]] = {
    Status.QUEUED: {Status.SUBMITTING, Status.FAILED},
    Status.SUBMITTING: {Status.QUEUED, Status.RUNNING, Status.FAILED},
    Status.RUNNING: {Status.COMPLETED, Status.FAILED, Status.UNKNOWN},
    Status.UNKNOWN: {Status.RUNNING, Status.COMPLETED, Status.FAILED},
    Status.COMPLETED: set(),
    Status.FAILED: set(),
}


def statuses_leading_to(status: str) -> list[str]:
    return [source for source, targets in TRANSITIONS.items() if status in targets]


def backup_transition(
    pk: int, to: str, /, *, event: str | None, message: Line | str = "", claim: uuid.UUID | None = None, **fields
) -> bool:
    """Move a backup to `to` if its current status allows it; record the event if it moved.

    `message` is what the timeline says: a `timeline.line(...)`, or text kept as written.
    The conditional UPDATE is the claim: of two workers racing, one sees a row count of 1.
    The worker submitting a backup passes its `claim` (services/leases.py): the move then
    happens only while the backup is still being submitted on that claim, so a worker that lost
    its lease to another cannot write over what the other does.
    """
    now = timezone.now()
    line = Line.of(message)
    mine = Q(status=Status.SUBMITTING, claim=claim) if claim else Q()
    with transaction.atomic():
        moved = Backup.objects.filter(mine, pk=pk, status__in=statuses_leading_to(to)).update(status=to, **fields)
        if claim and not moved:
            with log_context(backup_id=pk):
                log.warning("backup %s: not moved to %s, its submit claim was lost to another worker", pk, to)
        if moved:
            with log_context(backup_id=pk):
                log.info("backup %s is now %s%s", pk, to, f": {line.message}" if line.message else "")
        if moved and event:
            BackupEvent.objects.create(
                backup_id=pk, at=now, kind=event, code=line.code, params=line.params, message=line.message
            )
        if moved and to in _OUTCOME_AUDIT:
            backup = _audit_backup_outcome(pk, _OUTCOME_AUDIT[to])
            notify(
                kind=_OUTCOME_NOTIFY[to],
                key=f"backup:{pk}:{to}",
                project=backup.instance.project,
                instance=backup.instance,
                backup=backup,
                reason=line.message or backup.error_message,
            )
            instance_protection_update(instance_id=backup.instance_id, now=now)
            metrics.backup_outcome(to)  # counted once the transaction commits
    return bool(moved)


# Every way a backup ends passes through `backup_transition`: the one place to audit it.
_OUTCOME_AUDIT: dict[str, str] = {
    Status.COMPLETED: AuditEvent.Action.BACKUP_COMPLETED,
    Status.FAILED: AuditEvent.Action.BACKUP_FAILED,
    Status.UNKNOWN: AuditEvent.Action.BACKUP_UNKNOWN,
}


_OUTCOME_NOTIFY: dict[str, str] = {
    Status.COMPLETED: EventKind.BACKUP_COMPLETED,
    Status.FAILED: EventKind.BACKUP_FAILED,
    Status.UNKNOWN: EventKind.BACKUP_LOST,
}


def _audit_backup_outcome(pk: int, action: str) -> Backup:
    backup = Backup.objects.select_related("instance__project").get(pk=pk)
    details = {"backup": backup.pk, "instance": backup.instance.name, "name": backup.name, "status": backup.status}
    if backup.error_code:
        details |= {"error_code": backup.error_code, "reason": backup.error_message[:300]}
    audit.record(
        action, project=backup.instance.project, target=f"{backup.instance.name} / {backup.name}", details=details
    )
    return backup


def backup_event_record(backup_id: int, kind: str, message: Line | str) -> None:
    """Add a line to a backup's timeline that comes with no change of status."""
    line = Line.of(message)
    BackupEvent.objects.create(
        backup_id=backup_id, at=timezone.now(), kind=kind, code=line.code, params=line.params, message=line.message
    )
