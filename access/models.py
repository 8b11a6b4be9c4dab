"""Who may use the console, and where: the connected cloud projects (with the credentials the
console calls them with), each person's role in them, the invitations that bring new people
in, the email addresses accounts have proven, and the append-only audit trail.

The tables keep the names they had when these models lived in `backups` (migration
access/0001 moved the models without touching a row).
"""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    # Someone asked for a sync ("Refresh from cloud") that has not started yet, and when it
    # was last handed to the broker: the outbox of that request (backups/services/sync.py).
    sync_requested_at = models.DateTimeField(null=True, blank=True)
    sync_enqueued_at = models.DateTimeField(null=True, blank=True)
    # A sync of this project is running since then (a lease: one that died is taken over).
    sync_started_at = models.DateTimeField(null=True, blank=True)
    # Recovery point objective: an instance is protected while it has a completed backup this
    # recent (instances may override it; backups/protection.py).
    rpo_hours = models.PositiveIntegerField("RPO (hours)", default=24)

    class Meta:
        db_table = "backups_cloudproject"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A person's role in one cloud project."""

    class Role(models.TextChoices):
        VIEWER = "viewer", _("Viewer")
        OPERATOR = "operator", _("Operator")
        ADMIN = "admin", _("Admin")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(CloudProject, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "backups_membership"
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="one_role_per_project")]

    def __str__(self):
        return f"{self.user} is {self.get_role_display()} of {self.project}"


class ProvenEmail(models.Model):
    """An email address an account has shown it receives: its owner opened an invitation sent
    there and accepted it. Only a proven address finds an account when someone is added to a
    project by email; `User.email` alone, which anyone who makes an account can type, never
    does. One account per address, one proven address per account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="proven_email"
    )
    email = models.EmailField(max_length=254, unique=True, help_text="Lower case.")
    proven_at = models.DateTimeField()

    def __str__(self):
        return f"{self.email} of {self.user}"


class Invitation(models.Model):
    """A project admin's invitation for someone to join the project with a role, by a link
    sent to their email address that works once, until it expires.

    Only the SHA-256 of the link's token is stored: neither the database nor the inviter can
    rebuild the link. Sending it again makes a new token (the old link stops working).
    """

    project = models.ForeignKey(CloudProject, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254, help_text="Lower case.")
    name = models.CharField(max_length=150, blank=True, help_text="How the inviter called them, if at all.")
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The latest email that carried the link, and so what the team page says about its delivery.
    email_message = models.ForeignKey(
        "notifications.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["project", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_pending",
            ),
        ]

    def __str__(self):
        return f"Invitation of {self.email} to {self.project}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def is_usable(self, now) -> bool:
        return self.is_pending and self.expires_at > now


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
        BACKUP_REQUESTED = "backup_requested", _("Backup requested")
        BACKUP_COMPLETED = "backup_completed", _("Backup completed")
        BACKUP_FAILED = "backup_failed", _("Backup failed")
        BACKUP_UNKNOWN = "backup_unknown", _("Backup lost track of")
        MEMBER_ADDED = "member_added", _("Member added")
        MEMBER_REMOVED = "member_removed", _("Member removed")
        ROLE_CHANGED = "role_changed", _("Role changed")
        ACCOUNT_CREATED = "account_created", _("Account created")
        INVITATION_SENT = "invitation_sent", _("Invitation sent")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        ACCOUNT_REACTIVATED = "account_reactivated", _("Account reactivated")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PROJECT_CONNECTED = "project_connected", _("Project connected")
        CREDENTIALS_CHANGED = "credentials_changed", _("Cloud credentials changed")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        CHANNEL_ADDED = "channel_added", _("Notification channel added")
        CHANNEL_CHANGED = "channel_changed", _("Notification channel changed")
        CHANNEL_REMOVED = "channel_removed", _("Notification channel removed")
        POLICY_CHANGED = "policy_changed", _("Backup policy changed")
        POLICY_CHANGED_OUTSIDE = "policy_changed_outside", _("Backup policy changed outside the console")
        RPO_CHANGED = "rpo_changed", _("RPO changed")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        RESTORE_REQUESTED = "restore_requested", _("Restore requested")
        RESTORE_COMPLETED = "restore_completed", _("Restore completed")
        RESTORE_FAILED = "restore_failed", _("Restore failed")
        RESTORE_UNKNOWN = "restore_unknown", _("Restore lost track of")
        REHEARSAL_REQUESTED = "rehearsal_requested", _("Restore rehearsal requested")
        REHEARSAL_COMPLETED = "rehearsal_completed", _("Restore rehearsal passed")
        REHEARSAL_FAILED = "rehearsal_failed", _("Restore rehearsal failed")
        REHEARSAL_INSTANCE_DELETED = "rehearsal_instance_deleted", _("Rehearsal instance deleted")
        REHEARSAL_SCHEDULE_CHANGED = "rehearsal_schedule_changed", _("Rehearsal schedule changed")

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
        db_table = "backups_auditevent"
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
