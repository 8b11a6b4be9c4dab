"""The backups' data: the Cassandra instances found in each cloud project, and every backup
with its life story (`lifecycle.py` says which statuses may follow which)."""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from access.models import CloudProject

# The console's own temporary instances, made to rehearse a restore and deleted after it
# (restores/services/rehearsals.py names them so): not the team's, so never synced, listed
# or assessed for protection.
REHEARSAL_INSTANCE_NAME = re.compile(r"rehearsal-\d+-\d{14}-[0-9a-f]{6}")


class Instance(models.Model):
    """A GeminiDB Cassandra instance as last seen in the cloud's instance list."""

    # Instance statuses from querying_instances_and_details.rst; only "normal" may be backed up.
    BACKUP_ALLOWED_STATUS = "normal"

    project = models.ForeignKey(CloudProject, on_delete=models.CASCADE, related_name="instances")
    cloud_id = models.CharField("instance ID", max_length=64)
    name = models.CharField(max_length=128)
    status = models.CharField(max_length=32)
    mode = models.CharField(max_length=32, blank=True)
    datastore_version = models.CharField(max_length=32, blank=True)
    synced_at = models.DateTimeField()
    # Set when the instance disappeared from the cloud's list; its history stays.
    gone_at = models.DateTimeField(null=True, blank=True)

    # The automated backup policy as last read from the cloud (or set by this console):
    # keep_days None = not read yet, 0 = off. Window "hh:mm-HH:MM" in UTC, days "1,2,…" (1 = Monday).
    policy_keep_days = models.PositiveSmallIntegerField("retention (days)", null=True, blank=True)
    policy_start_time = models.CharField("backup window (UTC)", max_length=16, blank=True)
    policy_period = models.CharField("backup days", max_length=32, blank=True)
    policy_synced_at = models.DateTimeField(null=True, blank=True)
    # The recovery point objective: None = the project's (CloudProject.rpo_hours).
    rpo_hours = models.PositiveIntegerField("RPO (hours)", null=True, blank=True)

    class Protection(models.TextChoices):
        PROTECTED = "protected", _("Protected")
        AT_RISK = "at_risk", _("At risk")
        UNPROTECTED = "unprotected", _("Unprotected")

    # Worked out by services/protection.py (rules in protection.py) and stored, so list pages
    # read it from the row. Blank until first assessed, and for gone instances.
    protection_status = models.CharField(max_length=16, choices=Protection.choices, blank=True)
    protection_reason = models.TextField(blank=True)
    protection_next_step = models.TextField(blank=True)
    protection_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "cloud_id"], name="unique_instance_per_project")]

    def __str__(self):
        return self.name

    @property
    def effective_rpo_hours(self) -> int:
        return self.rpo_hours or self.project.rpo_hours


class Backup(models.Model):
    """One backup: requested here, or found in the cloud (automated or made in the console)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SUBMITTING = "submitting", _("Submitting")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown")

    ACTIVE_STATUSES = (Status.QUEUED, Status.SUBMITTING, Status.RUNNING)

    class Origin(models.TextChoices):
        DASHBOARD = "dashboard", _("This console")
        CLOUD_AUTO = "cloud_auto", _("Automated (cloud policy)")
        CLOUD_MANUAL = "cloud_manual", _("Manual, outside this console")

    instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="backups")
    name = models.CharField(max_length=64)
    # The name in capitals, computed by the database on every write: the history's name search
    # is a plain LIKE on it (by its trigram index, migration 0007), not UPPER() of every row it reads.
    name_upper = models.GeneratedField(
        expression=Upper("name"), output_field=models.CharField(max_length=64), db_persist=True
    )
    description = models.CharField(max_length=256, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.DASHBOARD)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(db_index=False)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # None while the cloud reports no progress (some services do not list backup jobs).
    progress = models.PositiveSmallIntegerField(null=True, blank=True, default=None)
    job_id = models.CharField("cloud job ID", max_length=64, blank=True)
    backup_id = models.CharField("cloud backup ID", max_length=64, blank=True)
    size_kb = models.BigIntegerField("size (KB)", null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)

    # Pipeline bookkeeping (services/submission.py and services/tracking.py explain each step).
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    # Outbox: a queued backup is (re)published when due and not handed to the broker recently.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The claim of the worker submitting it (services/leases.py): a new id for each claim, so a
    # worker that lost its lease can no longer move the backup on; and the lease, renewed by the
    # database's clock, whose lapse means that worker died.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_seen_in_cloud_at = models.DateTimeField(null=True, blank=True)
    overdue = models.BooleanField(default=False)
    deleted_in_cloud_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # The cloud refuses a second backup while one runs; so do we, in the database.
            models.UniqueConstraint(
                fields=["instance"],
                condition=Q(status__in=["queued", "submitting", "running"]),
                name="one_active_backup_per_instance",
            ),
            # Finding out whether an ambiguous create went through looks the name up.
            models.UniqueConstraint(
                fields=["instance", "name"],
                condition=Q(origin="dashboard"),
                name="unique_dashboard_backup_name_per_instance",
            ),
            models.UniqueConstraint(
                fields=["instance", "backup_id"],
                condition=~Q(backup_id=""),
                name="unique_cloud_backup_per_instance",
            ),
        ]
        indexes = [
            # History: newest first, keyset on (requested_at, id), optionally narrowed.
            models.Index(fields=["-requested_at", "-id"], name="backup_history"),
            models.Index(fields=["instance", "-requested_at", "-id"], name="backup_history_instance"),
            models.Index(fields=["status", "-requested_at", "-id"], name="backup_history_status"),
            models.Index(fields=["requested_by", "-requested_at", "-id"], name="backup_history_requester"),
            # The overview's last days (counts by status; instances with a recent success),
            # read from the index alone (migration 0006).
            models.Index(fields=["requested_at", "status", "instance"], name="backup_recent_outcomes"),
            # An instance's good backups by end time: its last good one, those expiring soon.
            models.Index(
                fields=["instance", "-finished_at", "-id"],
                condition=Q(status="completed", deleted_in_cloud_at__isnull=True, finished_at__isnull=False),
                name="backup_good_by_finish",
            ),
            # The poller's and the outbox sweep's work lists.
            models.Index(fields=["status", "next_poll_at"], name="backup_poll_queue"),
            models.Index(fields=["status", "next_attempt_at"], name="backup_submit_queue"),
        ]

    def __str__(self):
        return f"{self.name} ({self.instance})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def already_text(self) -> str:
        """An active backup's status as the words in "a backup is already …": "queued", "running"."""
        return str(_ALREADY.get(self.status, self.get_status_display()))

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


# The statuses as they read after "a backup is already": in German not the status's label.
_ALREADY: dict[str, Promise] = {
    Backup.Status.QUEUED: pgettext_lazy("a backup is already …", "queued"),
    Backup.Status.SUBMITTING: pgettext_lazy("a backup is already …", "submitting"),
    Backup.Status.RUNNING: pgettext_lazy("a backup is already …", "running"),
}


class BackupEvent(models.Model):
    """One line of a backup's timeline."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SUBMITTED = "submitted", _("Submitted")
        RETRY = "retry", _("Will retry")
        PROGRESS = "progress", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Lost track")
        NOTE = "note", _("Note")

    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What happened, as a code of backups/timeline.py and its raw values: put in words when a
    # page is drawn, in the viewer's language. Empty in rows written before codes existed.
    code = models.CharField(max_length=32, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # The same in English, written with the row: for the admin, logs, notifications and the API.
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["backup", "at"], name="backup_event_timeline")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.message}"

    @property
    def text(self) -> str:
        """What the line says, in the active language and time zone."""
        from backups.timeline import event_text  # its formatting helpers import this module

        return event_text(self)
