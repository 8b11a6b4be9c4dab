"""The restores' data: every restore of a backup (or of an instance at a point in time) to a new
instance, the rehearsals that restore an instance's latest backup to a temporary instance to
prove it restores (and time it), and each instance's rehearsal schedule.

`lifecycle.py` says which statuses may follow which; `services/` moves them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from access.fields import EncryptedTextField
from access.models import CloudProject
from backups.models import Backup, Instance


class Restore(models.Model):
    """One request to create a NEW instance from a backup, or from an instance at a point in time.

    A restore is an outbox row, like a backup request: recorded first, sent by a worker under a
    lease (`services/submission.py`), followed through the cloud's job to its end
    (`services/tracking.py`). The create call has no idempotency key, so `target_name` is the
    handle: before any retry the worker looks the instance up by that name.

    A rehearsal (`kind` "rehearsal") is a restore to a temporary instance that is timed, then
    deleted (`cleanup_*`, `services/cleanup.py`), whatever happened to the restore.
    """

    class Kind(models.TextChoices):
        RESTORE = "restore", _("Restore")
        REHEARSAL = "rehearsal", _("Rehearsal")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SUBMITTING = "submitting", _("Submitting")
        RESTORING = "restoring", _("Restoring")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown")

    ACTIVE_STATUSES = (Status.QUEUED, Status.SUBMITTING, Status.RESTORING)

    class Cleanup(models.TextChoices):
        """What became of a rehearsal's temporary instance ("" for a restore, or before the end)."""

        NONE = "", _("Not needed yet")
        PENDING = "pending", _("To delete")
        DELETING = "deleting", _("Deleting")
        DELETED = "deleted", _("Deleted")
        # The last attempt did not go through; the worker tries again (it never gives up).
        FAILED = "failed", _("Not deleted yet")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.RESTORE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)

    # The project the new instance is created in: the source's (restores do not cross projects).
    project = models.ForeignKey(CloudProject, on_delete=models.CASCADE, related_name="restores")
    # What is restored: a backup, or (backup None) the source instance as it was at restore_time.
    backup = models.ForeignKey(Backup, null=True, blank=True, on_delete=models.PROTECT, related_name="restores")
    source_instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="restores")
    restore_time = models.DateTimeField("point in time", null=True, blank=True)

    # The new instance, as sent to the cloud (creating_an_instance.rst). A restore has it from
    # its form; a rehearsal copies the source's from the cloud when it is submitted, so these
    # stay blank (None) until then.
    target_name = models.CharField("new instance name", max_length=64)
    spec_code = models.CharField("specification code", max_length=64, blank=True)
    node_count = models.PositiveSmallIntegerField("nodes", null=True, blank=True)
    volume_size_gb = models.PositiveIntegerField("storage (GB)", null=True, blank=True)
    storage_type = models.CharField("disk type", max_length=32, blank=True)
    region = models.CharField(max_length=64, blank=True)
    availability_zone = models.CharField(max_length=128, blank=True)
    vpc_id = models.CharField("VPC ID", max_length=64, blank=True)
    subnet_id = models.CharField("subnet ID", max_length=64, blank=True)
    security_group_id = models.CharField("security group ID", max_length=64, blank=True)
    mode = models.CharField(max_length=32, default="Cluster")
    # Needed only until the cloud accepted the create; blanked then (generated for rehearsals).
    password = EncryptedTextField(blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()

    # Outbox, claim and lease, as on Backup (backups/services/leases.py explains them): a new
    # claim id each time a worker claims the restore for sending, so one that lost its lease can
    # no longer move it on; the lease is renewed by the database's clock.
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_seen_in_cloud_at = models.DateTimeField(null=True, blank=True)

    # The cloud's side.
    job_id = models.CharField("cloud job ID", max_length=64, blank=True)
    instance_cloud_id = models.CharField("new instance ID", max_length=64, blank=True)
    # None while the cloud reports no progress.
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField("accepted by the cloud", null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)

    # A rehearsal's temporary instance: its deletion is an outbox of its own.
    cleanup_status = models.CharField(max_length=16, choices=Cleanup.choices, blank=True, default=Cleanup.NONE)
    delete_attempts = models.PositiveSmallIntegerField(default=0)
    delete_next_attempt_at = models.DateTimeField(null=True, blank=True)
    delete_enqueued_at = models.DateTimeField(null=True, blank=True)
    # Claim and lease of the worker sending the delete; a lapsed lease means that worker died.
    delete_claim = models.UUIDField(null=True, blank=True, editable=False)
    delete_claimed_at = models.DateTimeField(null=True, blank=True)
    delete_job_id = models.CharField("delete job ID", max_length=64, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # The name is how an ambiguous create is reconciled: never two of ours alike.
            models.UniqueConstraint(fields=["project", "target_name"], name="unique_restore_target_name"),
            # One rehearsal at a time per instance: a schedule and a click must not double up.
            models.UniqueConstraint(
                fields=["source_instance"],
                condition=Q(kind="rehearsal", status__in=["queued", "submitting", "restoring"]),
                name="one_active_rehearsal_per_instance",
            ),
            models.CheckConstraint(
                condition=Q(backup__isnull=False) | Q(restore_time__isnull=False), name="restore_has_a_source"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="restore_submit_queue"),
            models.Index(fields=["status", "next_poll_at"], name="restore_poll_queue"),
            models.Index(fields=["cleanup_status", "delete_next_attempt_at"], name="restore_cleanup_queue"),
            # Last proven restore of an instance / of a backup.
            models.Index(
                fields=["source_instance", "-finished_at"], condition=Q(status="completed"), name="restore_proven"
            ),
            models.Index(
                fields=["project", "instance_cloud_id"], condition=~Q(instance_cloud_id=""), name="restore_new_instance"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.source_instance} to {self.target_name}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def is_rehearsal(self) -> bool:
        return self.kind == self.Kind.REHEARSAL

    @property
    def rto(self):
        """How long the cloud took, from accepting the create to the instance being available."""
        if self.status == self.Status.COMPLETED and self.submitted_at and self.finished_at:
            return self.finished_at - self.submitted_at
        return None


class RestoreEvent(models.Model):
    """One line of a restore's timeline."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SUBMITTED = "submitted", _("Submitted")
        RETRY = "retry", _("Will retry")
        PROGRESS = "progress", _("Restoring")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Lost track")
        CLEANUP = "cleanup", _("Clean-up")
        NOTE = "note", _("Note")

    restore = models.ForeignKey(Restore, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What happened, as a code of restores/timeline.py and its raw values: put in words when a
    # page is drawn, in the viewer's language. Empty in rows written before codes existed.
    code = models.CharField(max_length=32, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # The same in English, written with the row: for the admin, logs and notifications.
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["restore", "at"], name="restore_event_timeline")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.message}"

    @property
    def text(self) -> str:
        """What the line says, in the active language and time zone."""
        from restores.timeline import event_text  # its formatting helpers import the backups' models

        return event_text(self)


class RehearsalSchedule(models.Model):
    """Rehearse an instance's latest completed backup every `every_days` days (beat task)."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="rehearsal_schedule")
    every_days = models.PositiveSmallIntegerField(default=30)
    next_due_at = models.DateTimeField()
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["next_due_at"], condition=Q(enabled=True), name="rehearsal_due")]

    def __str__(self):
        return f"Rehearse {self.instance} every {self.every_days} days"
