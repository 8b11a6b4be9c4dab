"""The console's data: connected cloud projects, who may do what in them, the Cassandra
instances found there, and every backup with its life story."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .fields import EncryptedTextField


class CloudProject(models.Model):
    """One cloud project (region scope) whose GeminiDB instances the team backs up."""

    name = models.CharField(max_length=100, help_text="The project's name in the cloud, e.g. eu-de_prod.")
    region = models.CharField(max_length=64)
    project_id = models.CharField("project ID", max_length=64, unique=True)
    iam_endpoint = models.URLField("IAM endpoint")
    geminidb_endpoint = models.URLField("GeminiDB endpoint")
    iam_domain = models.CharField("IAM domain (account) name", max_length=128)
    iam_user = models.CharField("IAM user name", max_length=128)
    iam_password = EncryptedTextField("IAM password")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    instances_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A person's role in one cloud project."""

    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        OPERATOR = "operator", "Operator"
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(CloudProject, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="one_role_per_project")]

    def __str__(self):
        return f"{self.user} is {self.get_role_display()} of {self.project}"


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

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "cloud_id"], name="unique_instance_per_project")]

    def __str__(self):
        return self.name


class Backup(models.Model):
    """One backup: requested here, or found in the cloud (automated or made in the console)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Submitting"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown"

    ACTIVE_STATUSES = (Status.QUEUED, Status.SUBMITTING, Status.RUNNING)

    class Origin(models.TextChoices):
        DASHBOARD = "dashboard", "This console"
        CLOUD_AUTO = "cloud_auto", "Automated (cloud policy)"
        CLOUD_MANUAL = "cloud_manual", "Manual, outside this console"

    instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="backups")
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=256, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.DASHBOARD)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(db_index=False)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    job_id = models.CharField("cloud job ID", max_length=64, blank=True)
    backup_id = models.CharField("cloud backup ID", max_length=64, blank=True)
    size_kb = models.BigIntegerField("size (KB)", null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)

    # Pipeline bookkeeping (services.py explains each step).
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    # Outbox: a queued backup is (re)published when due and not handed to the broker recently.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Lease of the worker submitting it; a lapsed lease means that worker died.
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
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class BackupEvent(models.Model):
    """One line of a backup's timeline."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SUBMITTED = "submitted", "Submitted"
        RETRY = "retry", "Will retry"
        PROGRESS = "progress", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Lost track"
        NOTE = "note", "Note"

    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["backup", "at"], name="backup_event_timeline")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.message}"


class InitialPassword(models.Model):
    """Marks an account whose password an admin chose: its owner must replace it at their
    first sign-in (`permissions.InitialPasswordMiddleware`). Deleted once they have."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="initial_password"
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Initial password of {self.user}"


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or delete a recorded audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")

    def delete(self):
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One line of the audit trail: who did what, when, in which project, from where.

    Append-only: the application can add rows and never change or delete them (`save` only
    inserts; `update` and `delete` raise). `details` never holds a secret.

    The person and the project are referenced without a database constraint and without any
    cascade, and their names are copied: deleting a user or a project leaves its trail intact.
    """

    class Action(models.TextChoices):
        BACKUP_REQUESTED = "backup_requested", "Backup requested"
        BACKUP_COMPLETED = "backup_completed", "Backup completed"
        BACKUP_FAILED = "backup_failed", "Backup failed"
        BACKUP_UNKNOWN = "backup_unknown", "Backup lost track of"
        MEMBER_ADDED = "member_added", "Member added"
        MEMBER_REMOVED = "member_removed", "Member removed"
        ROLE_CHANGED = "role_changed", "Role changed"
        ACCOUNT_CREATED = "account_created", "Account created"
        ACCOUNT_DEACTIVATED = "account_deactivated", "Account deactivated"
        ACCOUNT_REACTIVATED = "account_reactivated", "Account reactivated"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PROJECT_CONNECTED = "project_connected", "Project connected"
        CREDENTIALS_CHANGED = "credentials_changed", "Cloud credentials changed"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"

    at = models.DateTimeField()
    action = models.CharField(max_length=32, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="Who did it; empty for the system (the worker) and for failed sign-ins.",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    project = models.ForeignKey(
        CloudProject,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # audit_project below serves lookups by project
        related_name="+",
    )
    project_name = models.CharField(max_length=100, blank=True)
    # The person the event is about (added, removed, given a role, deactivated), if any.
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    target = models.CharField(max_length=200, blank=True, help_text="What it was about, in words.")
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["project", "-id"], name="audit_project"),
            models.Index(fields=["action", "-id"], name="audit_action"),
            models.Index(fields=["at"], name="audit_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_action_display()} {self.target}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed.")
        # An INSERT, always: a row built with an existing id fails instead of overwriting it.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")
