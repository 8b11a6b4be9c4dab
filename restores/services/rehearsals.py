"""Restore rehearsals: restore an instance's latest completed backup to a temporary instance,
time it, then delete the instance (cleanup.py) — started by an Admin, or by a schedule.

A rehearsal is recorded like any restore (requests.py), with a name of its own and a random
strong password; its specification is copied from the source instance in the cloud when the
worker sends it (submission.py), so requesting one never waits on the cloud.
"""

import logging
import secrets
import string
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.services import audit
from backups.models import Backup, Instance

from .. import validators
from ..lifecycle import AuditAction
from ..models import RehearsalSchedule, Restore
from .requests import restore_record

log = logging.getLogger(__name__)

PASSWORD_LENGTH = 24


def latest_restorable_backup(instance: Instance) -> Backup | None:
    """The instance's latest completed backup that still exists in the cloud."""
    return (
        Backup.objects.filter(
            instance=instance,
            status=Backup.Status.COMPLETED,
            deleted_in_cloud_at__isnull=True,
            finished_at__isnull=False,
        )
        .exclude(backup_id="")
        .order_by("-finished_at", "-id")
        .first()
    )


def rehearsal_problem(instance: Instance) -> str | None:
    """Why the instance cannot be rehearsed now, in plain words; None when it can."""
    under_way = Restore.objects.filter(
        source_instance=instance, kind=Restore.Kind.REHEARSAL, status__in=Restore.ACTIVE_STATUSES
    ).exists()
    return rehearsal_blocker(
        instance, under_way=under_way, has_backup=under_way or latest_restorable_backup(instance) is not None
    )


def rehearsal_blocker(instance: Instance, *, under_way: bool, has_backup: bool) -> str | None:
    """`rehearsal_problem` from facts a page has already read."""
    if instance.gone_at is not None:
        return _("The instance is no longer in the cloud.")
    if under_way:
        return _("A rehearsal of this instance is already under way.")
    if not has_backup:
        return _("The instance has no completed backup to rehearse a restore of.")
    return None


def rehearsal_name(instance: Instance) -> str:
    """A name valid for the create API (letters, digits, -, _; starting with a letter; at most
    64) that no other instance has: the clean-up finds the instance by it, and the instance
    sync passes it over (backups.models.REHEARSAL_INSTANCE_NAME)."""
    return f"rehearsal-{instance.pk}-{timezone.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def rehearsal_password() -> str:
    """A random password that meets the create API's rules (one of each kind of character)."""
    kinds = (string.ascii_uppercase, string.ascii_lowercase, string.digits, validators.SPECIAL_CHARACTERS)
    everything = "".join(kinds)
    characters = [secrets.choice(kind) for kind in kinds]
    characters += [secrets.choice(everything) for _ in range(PASSWORD_LENGTH - len(kinds))]
    secrets.SystemRandom().shuffle(characters)
    return "".join(characters)


def rehearsal_request(*, instance: Instance, user=None) -> Restore:
    """Record a rehearsal of the instance's latest completed backup; the worker sends it.
    `user` None: the schedule asked. Raises ValidationError saying why when it cannot run."""
    problem = rehearsal_problem(instance)
    if problem:
        raise ValidationError(problem, code="cannot_rehearse")
    return restore_record(
        kind=Restore.Kind.REHEARSAL,
        source=instance,
        backup=latest_restorable_backup(instance),
        restore_time=None,
        user=user,
        target_name=rehearsal_name(instance),
        password=rehearsal_password(),
        spec={},
    )


def rehearsal_schedule_set(
    *, instance: Instance, user, enabled: bool, every_days: int | None = None
) -> RehearsalSchedule:
    """Rehearse the instance every `every_days` days (the first one that many days from now), or
    stop. Raises ValidationError for an interval out of range."""
    if enabled:
        validators.validate_rehearsal_interval(every_days)
    now = timezone.now()
    with transaction.atomic():
        schedule = RehearsalSchedule.objects.select_for_update().filter(instance=instance).first()
        if schedule is None:
            schedule = RehearsalSchedule(instance=instance, created_by=user, next_due_at=now)
        if enabled and every_days is not None:  # validated above
            if not schedule.enabled or schedule.every_days != every_days or schedule.pk is None:
                schedule.next_due_at = now + timedelta(days=every_days)
            schedule.every_days = every_days
        schedule.enabled = enabled
        schedule.save()
        audit.record(
            AuditAction.REHEARSAL_SCHEDULE_CHANGED,
            actor=user,
            project=instance.project,
            target=instance.name,
            details={"instance": instance.name, "enabled": enabled, "every_days": schedule.every_days},
        )
    return schedule


def rehearsals_schedule_due() -> int:
    """Beat: start a rehearsal for each schedule that is due, and move it on by its interval.

    Moving `next_due_at` is the claim (a conditional UPDATE), so two beats start one rehearsal.
    A schedule that cannot run now (no backup yet, one already under way) waits a whole interval:
    the instance's page says why."""
    now = timezone.now()
    started = 0
    due = RehearsalSchedule.objects.filter(enabled=True, next_due_at__lte=now, instance__gone_at__isnull=True)
    for schedule in due.select_related("instance__project"):
        interval = timedelta(days=schedule.every_days)
        # Long overdue (the console was off): one rehearsal now, the next a whole interval on.
        next_due_at = schedule.next_due_at + interval
        if next_due_at <= now:
            next_due_at = now + interval
        with transaction.atomic():
            claimed = RehearsalSchedule.objects.filter(pk=schedule.pk, next_due_at=schedule.next_due_at).update(
                next_due_at=next_due_at
            )
            if not claimed:
                continue
            try:
                with transaction.atomic():
                    rehearsal_request(instance=schedule.instance, user=None)
            except ValidationError as error:
                log.info("scheduled rehearsal of %s not started: %s", schedule.instance, " ".join(error.messages))
                continue
        started += 1
    return started
