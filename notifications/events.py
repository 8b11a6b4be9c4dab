"""What the rest of the console tells notifications: one call, `notify`, when something worth
a message has happened. The backups app calls it; this app decides who hears about it, on which
channels, and delivers it (services/ and tasks.py).

Contract (the callers rely on it):
- Call `notify` inside the transaction of the change it reports: the event is recorded with it,
  or rolled back with it, and delivered by workers after commit.
- `key` names the change, so that one change makes one event however often it is reported
  (a poll that sees the same failure twice, two workers, a retried task): a second `notify`
  with a kind and key already recorded does nothing. Use e.g.
  ``f"backup:{backup.pk}:failed"`` or
  ``f"instance:{instance.pk}:{status}:{instance.protection_changed_at.isoformat()}"``.
- `reason` is plain words for people (the same words the page shows); never a secret.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    BACKUP_FAILED = "backup_failed", _("Backup failed")
    BACKUP_LOST = "backup_lost", _("Backup lost track of or overdue")
    BACKUP_COMPLETED = "backup_completed", _("Backup completed")  # for people who follow their own backups
    INSTANCE_AT_RISK = "instance_at_risk", _("Instance at risk")
    INSTANCE_UNPROTECTED = "instance_unprotected", _("Instance unprotected")
    INSTANCE_PROTECTED = "instance_protected", _("Instance protected again")
    POLICY_CHANGED_OUTSIDE = "policy_changed_outside", _("Backup policy changed outside the console")
    RESTORE_COMPLETED = "restore_completed", _("Restore completed")
    RESTORE_FAILED = "restore_failed", _("Restore failed")
    REHEARSAL_PASSED = "rehearsal_passed", _("Restore rehearsal passed")
    REHEARSAL_FAILED = "rehearsal_failed", _("Restore rehearsal failed")
    # A rehearsal's temporary instance could not be deleted yet: it is billed until it is.
    REHEARSAL_CLEANUP_STUCK = "rehearsal_cleanup_stuck", _("Rehearsal instance not deleted")


def notify(*, kind: str, key: str, project, instance=None, backup=None, reason: str = "") -> None:
    """Record that `kind` happened (see the module's contract): the event, and a delivery to
    each enabled channel of `project` that hears about `kind`, sent by workers after commit."""
    from notifications.services.events import event_record  # the services build on this module

    event_record(kind=kind, key=key, project=project, instance=instance, backup=backup, reason=reason)
