"""Keeping each instance's protection status current (the rules are `backups/protection.py`).

The status is stored on the instance, so pages read it from the row. It is worked out again
when a backup ends (`lifecycle.backup_transition`), after each sync, when an admin changes the
policy or the RPO, and by the beat (`tasks.assess_protection`): time alone moves an instance
out of its RPO. A change of status is one event for the notifications app, keyed by the new
status and when it changed, so reporting the same change twice (two workers) notifies once.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone, translation

from backups import protection
from backups.models import Backup, Instance
from notifications.events import EventKind, notify

Status = Backup.Status

NOTIFY_KIND = {
    protection.PROTECTED: EventKind.INSTANCE_PROTECTED,
    protection.AT_RISK: EventKind.INSTANCE_AT_RISK,
    protection.UNPROTECTED: EventKind.INSTANCE_UNPROTECTED,
}


def policy_of(instance: Instance) -> protection.Policy:
    return protection.Policy(instance.policy_keep_days, instance.policy_start_time, instance.policy_period)


def _facts(instance: Instance, now) -> protection.Facts:
    rpo = timedelta(hours=instance.effective_rpo_hours)
    good = (
        Backup.objects.filter(
            instance=instance, status=Status.COMPLETED, deleted_in_cloud_at__isnull=True, finished_at__isnull=False
        )
        .order_by("-finished_at", "-id")
        .values_list("name", "finished_at", "origin")
    )
    # Those within the RPO, and at least the newest one (for "the latest is from …").
    recent = list(good.filter(finished_at__gte=now - rpo)) or list(good[:1])
    latest_ended = (
        Backup.objects.filter(instance=instance, status__in=[Status.COMPLETED, Status.FAILED, Status.UNKNOWN])
        .order_by("-requested_at", "-id")
        .values_list("name", "status")
        .first()
    )
    return protection.Facts(
        now=now,
        rpo=rpo,
        policy=policy_of(instance),
        # finished_at__isnull=False above: every `at` is a time (the stubs keep the column nullable).
        good=[protection.GoodBackup(n, at, origin == Backup.Origin.CLOUD_AUTO) for n, at, origin in recent],  # type: ignore[arg-type]
        latest_failed=latest_ended[0] if latest_ended and latest_ended[1] != Status.COMPLETED else None,
    )


def instance_protection_assess(instance: Instance, now) -> protection.Assessment:
    """The instance's protection worked out now, in the active language. Stores nothing: the
    stored reason is in the source language, and a page in another language asks again."""
    return protection.assess(_facts(instance, now))


def instance_protection_update(*, instance_id: int, now=None) -> bool:
    """Work out the instance's protection again; store it, and notify if the status changed.
    Returns whether it changed. Gone instances are left as they are."""
    now = now or timezone.now()
    instance = Instance.objects.select_related("project").filter(pk=instance_id, gone_at__isnull=True).first()
    if instance is None:
        return False
    # Stored and sent on, so in the source language whatever language the request speaks.
    with translation.override(None):
        result = instance_protection_assess(instance, now)
    if result.status == instance.protection_status:
        if (result.reason, result.next_step) != (instance.protection_reason, instance.protection_next_step):
            Instance.objects.filter(pk=instance.pk, protection_status=result.status).update(
                protection_reason=result.reason, protection_next_step=result.next_step
            )
        return False
    with transaction.atomic():
        # Conditional on the status read: of two workers seeing the same change, one records it.
        changed = Instance.objects.filter(pk=instance.pk, protection_status=instance.protection_status).update(
            protection_status=result.status,
            protection_reason=result.reason,
            protection_next_step=result.next_step,
            protection_changed_at=now,
        )
        if not changed:
            return False
        # The first assessment of a protected instance is no news; anything else is.
        if instance.protection_status or result.status != protection.PROTECTED:
            notify(
                kind=NOTIFY_KIND[result.status],
                key=f"instance:{instance.pk}:{result.status}:{now.isoformat()}",
                project=instance.project,
                instance=instance,
                reason=result.reason,
            )
    return True


def instances_protection_update(*, project=None) -> int:
    """Assess every live instance (of one project, or all). Returns how many changed status."""
    instances = Instance.objects.filter(gone_at__isnull=True)
    if project is not None:
        instances = instances.filter(project=project)
    now = timezone.now()
    return sum(instance_protection_update(instance_id=pk, now=now) for pk in instances.values_list("pk", flat=True))
