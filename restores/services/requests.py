"""Requesting a restore of a backup, or of an instance at a point in time, to a new instance,
and handing it to the worker.

Like a backup request (backups/services/submission.py), a restore is recorded first, as a
QUEUED row (the outbox), and published after commit; `restores_dispatch_due` (beat) publishes
what the broker did not take, and what a dead worker left half sent.
"""

import logging
from datetime import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from access.services import audit
from backups import timeline as backup_timeline
from backups.lifecycle import backup_event_record
from backups.models import Backup, BackupEvent, Instance
from webapp.logcontext import log_context

from .. import publish, timeline, validators
from ..lifecycle import AuditAction
from ..models import Restore, RestoreEvent
from . import leases

log = logging.getLogger(__name__)

Status = Restore.Status

SPEC_FIELDS = (
    "spec_code",
    "node_count",
    "volume_size_gb",
    "storage_type",
    "region",
    "availability_zone",
    "vpc_id",
    "subnet_id",
    "security_group_id",
)


def restorable_backup_problem(backup: Backup) -> str | None:
    """Why this backup cannot be restored, in plain words; None when it can."""
    if backup.status != Backup.Status.COMPLETED or not backup.backup_id:
        return _("Only a completed backup can be restored.")
    if backup.deleted_in_cloud_at is not None:
        return _("This backup has been deleted in the cloud.")
    return None


@sensitive_variables("password")
def _validate(*, project, target_name: str, password: str, spec: dict) -> None:
    """The create-instance rules (restores/validators.py), keyed by field; and a name that no
    other restore of this console has in the project: the name is how the worker finds the
    instance after an interrupted create."""
    errors: dict[str, list] = {}
    checks = [
        ("target_name", lambda: validators.validate_instance_name(target_name)),
        ("password", lambda: validators.validate_instance_password(password)),
        ("node_count", lambda: validators.validate_node_count(spec.get("node_count"))),
        ("volume_size_gb", lambda: validators.validate_volume_size(spec.get("volume_size_gb"))),
    ]
    for name, label in validators.REQUIRED_TEXT.items():
        checks.append((name, partial(validators.validate_required, spec.get(name, ""), label)))
    for field, check in checks:
        try:
            check()
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.error_list)
    if "target_name" not in errors and _name_taken(project, target_name):
        errors["target_name"] = [
            ValidationError(_("Another restore of this console already used this name: choose another."), code="taken")
        ]
    if errors:
        raise ValidationError(errors)


def _name_taken(project, target_name: str) -> bool:
    return (
        Restore.objects.filter(project=project, target_name=target_name).exists()
        or Instance.objects.filter(project=project, name=target_name, gone_at__isnull=True).exists()
    )


@sensitive_variables("password", "spec")
def restore_request(*, backup: Backup, user, target_name: str, password: str, **spec) -> Restore:
    """Record a restore of a completed backup to a new instance named `target_name`, and hand
    it to the worker once committed. `spec` holds the new instance's SPEC_FIELDS (and `mode`).

    Raises ValidationError (keyed by field) when a create-instance rule is broken or the backup
    cannot be restored; nothing is recorded then."""
    problem = restorable_backup_problem(backup)
    if problem:
        raise ValidationError(problem, code="not_restorable")
    return restore_record(
        kind=Restore.Kind.RESTORE,
        source=backup.instance,
        backup=backup,
        restore_time=None,
        user=user,
        target_name=target_name,
        password=password,
        spec=spec,
    )


@sensitive_variables("password", "spec")
def point_in_time_restore_request(
    *, instance: Instance, restore_time: datetime, user, target_name: str, password: str, **spec
) -> Restore:
    """Record a restore of `instance` as it was at `restore_time` to a new instance. The form
    checks the time against the cloud's restorable window; the cloud checks it again."""
    if instance.mode and instance.mode != validators.MODE:
        raise ValidationError(_("Only a Cluster instance can be restored to a point in time."), code="not_cluster")
    if restore_time is None:
        raise ValidationError({"restore_time": [_("Choose the time to restore to.")]})
    return restore_record(
        kind=Restore.Kind.RESTORE,
        source=instance,
        backup=None,
        restore_time=restore_time,
        user=user,
        target_name=target_name,
        password=password,
        spec=spec,
    )


@sensitive_variables("password", "spec")
def restore_record(*, kind, source: Instance, backup, restore_time, user, target_name, password, spec) -> Restore:
    """Validate, then save the QUEUED restore, its first event, the audit event and the
    backup's timeline line in one transaction; publish after commit."""
    project = source.project
    if kind == Restore.Kind.RESTORE:
        _validate(project=project, target_name=target_name, password=password, spec=spec)
    now = timezone.now()
    values = {name: spec.get(name) for name in SPEC_FIELDS if spec.get(name) is not None}
    try:
        with transaction.atomic():
            restore = Restore.objects.create(
                kind=kind,
                project=project,
                source_instance=source,
                backup=backup,
                restore_time=restore_time,
                target_name=target_name,
                password=password,
                mode=spec.get("mode") or validators.MODE,
                requested_by=user,
                requested_at=now,
                next_attempt_at=now,
                **values,
            )
            # No one (None) is the rehearsal schedule, named in the reader's language.
            who = (user.get_full_name() or user.username) if user else None
            if backup:
                requested = timeline.line(
                    timeline.REQUESTED_FROM_BACKUP, backup=backup.name, target=target_name, who=who
                )
            else:
                requested = timeline.line(
                    timeline.REQUESTED_TO_A_TIME,
                    instance=source.name,
                    time=restore_time.isoformat(),
                    target=target_name,
                    who=who,
                )
            RestoreEvent.objects.create(
                restore=restore,
                at=now,
                kind=RestoreEvent.Kind.REQUESTED,
                code=requested.code,
                params=requested.params,
                message=requested.message,
            )
            rehearsal = kind == Restore.Kind.REHEARSAL
            audit.record(
                AuditAction.REHEARSAL_REQUESTED if rehearsal else AuditAction.RESTORE_REQUESTED,
                actor=user,
                project=project,
                target=f"{source.name} → {target_name}",
                details={
                    "restore": restore.pk,
                    "instance": source.name,
                    "target": target_name,
                    **({"backup": backup.name} if backup else {"restore_time": restore_time.isoformat()}),
                },
            )
            if backup is not None:
                if rehearsal:
                    note = backup_timeline.line(backup_timeline.REHEARSAL_REQUESTED, who=who)
                else:
                    note = backup_timeline.line(backup_timeline.RESTORE_REQUESTED, target=target_name, who=who)
                backup_event_record(backup.pk, BackupEvent.Kind.NOTE, note)
    except IntegrityError:
        # A concurrent request took the name (or started a rehearsal) first: say why.
        if kind == Restore.Kind.REHEARSAL:
            raise ValidationError(_("A rehearsal of this instance is already under way."), code="active") from None
        _validate(project=project, target_name=target_name, password=password, spec=spec)
        raise
    with log_context(restore_id=restore.pk):
        log.info("restore %s requested: %s of %s to %s", restore.pk, kind, source.name, target_name)
        transaction.on_commit(partial(restore_publish, restore_id=restore.pk))
    return restore


def restore_publish(*, restore_id: int) -> bool:
    """Hand a queued restore to the broker. A failure only delays it: the sweep retries."""
    if not publish.hand_over(publish.SUBMIT_RESTORE, restore_id, what=f"restore {restore_id}"):
        return False
    Restore.objects.filter(pk=restore_id, status=Status.QUEUED).update(enqueued_at=timezone.now())
    return True


def restores_dispatch_due() -> int:
    """The outbox sweep: publish the queued restores that are due and not handed over lately,
    and the restores whose submitting worker died (lapsed lease). A rehearsal left half sent
    is not taken over but given up, and its instance deleted if it was made
    (services/cleanup.py, `rehearsals_sweep`)."""
    now = timezone.now()
    republish_before = now - publish.REPUBLISH_AFTER
    due = Restore.objects.filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=republish_before),
        status=Status.QUEUED,
        next_attempt_at__lte=now,
    )
    lapsed = Restore.objects.filter(leases.submit_lapsed(), kind=Restore.Kind.RESTORE)
    published = 0
    for restore_id in [*lapsed.values_list("pk", flat=True)[:100], *due.values_list("pk", flat=True)[:100]]:
        if not restore_publish(restore_id=restore_id):
            break  # the broker is down (logged once): the rest wait for the next sweep
        published += 1
    return published
