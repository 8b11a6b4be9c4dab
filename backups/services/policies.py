"""What keeps an instance protected: its automated backup policy in the cloud (read at each
sync, changed by admins here), and the RPO (the project's, and an instance's own).

A policy read at sync that differs from the one stored, which this console did not set, was
changed outside the console (the cloud console, the API): that is recorded in the audit trail
(by the system) and reported to the notifications app.

A policy change calls the cloud from the admin's request, like the credentials check: the
admin waits for the cloud's answer and needs to see it. So the call is made once, with a short
timeout and without waiting for the call budget, and only after the cloud said yes is the
policy stored (with the time, so the next sync does not take it for a change made elsewhere)
and recorded in the audit trail.
"""

import logging
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from access.models import AuditEvent, CloudProject
from access.services import audit
from backups.cloud import (
    AuthenticationFailed,
    CloudError,
    CloudUnavailable,
    DjangoCacheCallBudget,
    Forbidden,
    InstanceBusy,
    InstanceNotFound,
    RetryPolicy,
    Throttled,
    client_for_project,
)
from backups.models import Instance
from backups.protection import Policy
from backups.services.protection import instance_protection_update, policy_of
from backups.validators import validate_backup_policy
from notifications.events import EventKind, notify

log = logging.getLogger(__name__)

# Someone is watching the page: connect quickly, and do not wait long for the answer.
POLICY_CALL_TIMEOUT = (3.0, 8.0)


class PolicyChangeFailed(Exception):
    """The cloud did not take the new policy; `str()` says why in plain words. Nothing changed."""


@dataclass(frozen=True)
class PolicyChange:
    old: str
    new: str


def _failure(error: Exception) -> str:
    if isinstance(error, AuthenticationFailed):
        return gettext("The cloud refused the project's IAM credentials. A project admin should check them.")
    if isinstance(error, Forbidden):
        return gettext("The project's IAM user may not change backup policies. Grant it GeminiDB permissions.")
    if isinstance(error, InstanceBusy):
        return gettext("The instance is busy with another operation. Try again when it shows Available.")
    if isinstance(error, InstanceNotFound):
        return gettext("The cloud no longer knows this instance. Refresh the instance list.")
    if isinstance(error, Throttled):
        return gettext("The cloud is limiting calls for this project right now. Try again in a minute.")
    if isinstance(error, CloudUnavailable | requests.RequestException):
        return gettext("The cloud did not answer in time. Try again in a minute.")
    return gettext("The cloud refused the policy: %(error)s.") % {"error": error}


def instance_policy_change(*, instance: Instance, user, keep_days, start_time: str, period: str) -> PolicyChange:
    """Set the instance's automated backup policy in the cloud, then store and audit it.

    Raises ValidationError (keyed by field) for a policy the API would refuse, and
    PolicyChangeFailed when the cloud did not take it; nothing is stored then.
    """
    policy = validate_backup_policy(keep_days, start_time, period)
    old = policy_of(instance)
    client = client_for_project(
        instance.project,
        call_budget=DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE, max_wait=0),
        retry=RetryPolicy(attempts=1),
        timeout=POLICY_CALL_TIMEOUT,
    )
    try:
        client.set_backup_policy(instance.cloud_id, policy)
    except (CloudError, requests.RequestException) as error:
        raise PolicyChangeFailed(_failure(error)) from error
    finally:
        client.close()
    enabled = policy.enabled
    fields = {
        "policy_keep_days": policy.keep_days,
        "policy_start_time": policy.start_time if enabled else "",
        "policy_period": policy.period if enabled else "",
        "policy_synced_at": timezone.now(),
    }
    with transaction.atomic():
        Instance.objects.filter(pk=instance.pk).update(**fields)
        for name, value in fields.items():
            setattr(instance, name, value)
        new = policy_of(instance)
        audit.record(
            AuditEvent.Action.POLICY_CHANGED,
            actor=user,
            project=instance.project,
            target=instance.name,
            details={"instance": instance.name, **_described(old=old, new=new)},
        )
        instance_protection_update(instance_id=instance.pk)
    return PolicyChange(old.describe(), new.describe())


RPO_MIN_HOURS = 1
RPO_MAX_HOURS = 24 * 35  # the longest the cloud keeps an automated backup


def validate_rpo_hours(hours, *, optional: bool = False) -> None:
    if hours is None and optional:
        return
    if hours is None or not RPO_MIN_HOURS <= hours <= RPO_MAX_HOURS:
        raise ValidationError(
            {
                "rpo_hours": gettext("Enter a number of hours from %(min)d to %(max)d (35 days).")
                % {"min": RPO_MIN_HOURS, "max": RPO_MAX_HOURS}
            }
        )


def project_rpo_change(*, project: CloudProject, user, rpo_hours: int) -> None:
    """Set the project's RPO; its instances (those without their own) are assessed again."""
    validate_rpo_hours(rpo_hours)
    old = project.rpo_hours
    with transaction.atomic():
        CloudProject.objects.filter(pk=project.pk).update(rpo_hours=rpo_hours)
        project.rpo_hours = rpo_hours
        audit.record(
            AuditEvent.Action.RPO_CHANGED,
            actor=user,
            project=project,
            target=project.name,
            details={"old_hours": old, "new_hours": rpo_hours},
        )
        for pk in Instance.objects.filter(project=project, rpo_hours__isnull=True).values_list("pk", flat=True):
            instance_protection_update(instance_id=pk)


def instance_rpo_change(*, instance: Instance, user, rpo_hours: int | None) -> None:
    """Give the instance its own RPO, or (None) let it follow the project's again."""
    validate_rpo_hours(rpo_hours, optional=True)
    old = instance.rpo_hours
    with transaction.atomic():
        Instance.objects.filter(pk=instance.pk).update(rpo_hours=rpo_hours)
        instance.rpo_hours = rpo_hours
        audit.record(
            AuditEvent.Action.RPO_CHANGED,
            actor=user,
            project=instance.project,
            target=instance.name,
            details={"instance": instance.name, "old_hours": old, "new_hours": rpo_hours},
        )
        instance_protection_update(instance_id=instance.pk)


def instance_policy_sync(*, instance: Instance, client) -> bool:
    """Read the instance's automated backup policy from the cloud and store it. Returns whether
    it had been changed outside the console since the last read (then audited and notified).

    A policy this console set meanwhile wins: the write is conditional on the policy_synced_at
    read before the call, so a slow sync does not put back the old policy (and later flag the
    console's own change as made elsewhere).
    """
    read_at = instance.policy_synced_at
    before = policy_of(instance)
    try:
        cloud = client.get_backup_policy(instance.cloud_id)
    except CloudError as error:
        log.warning("Reading the backup policy of %s failed: %s", instance, error)
        return False
    enabled = cloud.enabled
    fields = {
        "policy_keep_days": cloud.keep_days,
        "policy_start_time": (cloud.start_time or "") if enabled else "",
        "policy_period": (cloud.period or "") if enabled else "",
        "policy_synced_at": timezone.now(),
    }
    with transaction.atomic():
        if not Instance.objects.filter(pk=instance.pk, policy_synced_at=read_at).update(**fields):
            return False  # the console changed it meanwhile; the next sync reads it again
        for name, value in fields.items():
            setattr(instance, name, value)
        after = policy_of(instance)
        if not before.known or after == before:
            return False
        reason = f"The automated backup policy of {instance.name} was changed outside the console: " + (
            f"{before.describe()} → {after.describe()}."
        )
        audit.record(
            AuditEvent.Action.POLICY_CHANGED_OUTSIDE,
            project=instance.project,
            target=instance.name,
            details={"instance": instance.name, **_described(old=before, new=after)},
        )
        notify(
            kind=EventKind.POLICY_CHANGED_OUTSIDE,
            key=f"instance:{instance.pk}:policy:{fields['policy_synced_at'].isoformat()}",
            project=instance.project,
            instance=instance,
            reason=reason,
        )
    return True


def _described(**policies: Policy) -> dict[str, str]:
    """The policies in words for the audit trail, which is stored in the source language."""
    with translation.override(None):
        return {key: policy.describe() for key, policy in policies.items()}
