"""What the console sends to people: one delivery row per message, recorded before anything
is sent (`services/outbox.py` says how it travels)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from access.fields import EncryptedTextField
from notifications.events import EventKind


class OutgoingEmail(models.Model):
    """One email, from the moment a service decides to send it to its outcome.

    The body is encrypted at rest (an invitation's holds a link that works once) and blanked
    once the message is sent or given up on; recipient, subject and outcome stay.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not delivered")
        CANCELLED = "cancelled", _("Cancelled")

    IN_FLIGHT = (Status.PENDING, Status.SENDING)

    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    body = EncryptedTextField(blank=True)
    # Fixed when the row is recorded: a rare second copy, after a worker died between the mail
    # server's "OK" and our note of it, carries the same id and mail clients show it once.
    message_id = models.CharField("Message-ID", max_length=255, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Last handed to the broker; the sweep publishes again a message the broker lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # A worker is sending it since then (a lease: one that died is taken over).
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why the last attempt did not go through, in our words: never a secret, never the body.
    last_error = models.CharField(max_length=300, blank=True)
    # The language the email is written in; the worker records why it did not go through in it too.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status__in=["pending", "sending"]), name="email_in_flight"
            ),
        ]

    def __str__(self):
        return f"{self.subject} to {self.recipient} ({self.get_status_display()})"

    @property
    def in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT


class Channel(models.Model):
    """A way a project's team hears about its backups: an email address or a webhook.

    The address (an email address or a URL, whose path is often the credential itself, as in
    Slack's) and a generic webhook's signing secret are encrypted at rest and never shown
    again: pages show `display`, the address's host (or the email address).
    """

    class Kind(models.TextChoices):
        EMAIL = "email", pgettext_lazy("channel kind", "Email")
        WEBHOOK = "webhook", _("Webhook (signed JSON)")
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"
        MATTERMOST = "mattermost", "Mattermost"

    project = models.ForeignKey("access.CloudProject", on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=80)
    target = EncryptedTextField()
    display = models.CharField(max_length=254, help_text="What pages show of the target: its host, or the address.")
    secret = EncryptedTextField(blank=True)
    events = models.JSONField(default=list, help_text="The event kinds this channel hears about.")
    reminder_hours = models.PositiveSmallIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    # The team's language: a worker sends the channel's messages in it, with no request to ask.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"


class Event(models.Model):
    """Something worth a message happened (`notifications.events.notify`). One row per change:
    (kind, key) is unique, so the same change reported twice is recorded once."""

    TEST = "channel_test"

    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=200)
    project = models.ForeignKey("access.CloudProject", on_delete=models.CASCADE, related_name="+")
    instance = models.ForeignKey("backups.Instance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    backup = models.ForeignKey("backups.Backup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="event_once_per_key")]
        indexes = [models.Index(fields=["instance", "created_at"], name="event_instance_time")]

    def __str__(self):
        return f"{self.kind} {self.key}"

    @property
    def label(self) -> str:
        """What happened, in words ("Instance at risk")."""
        if self.kind == self.TEST:
            return gettext("Test message")
        return str(EventKind(self.kind).label) if self.kind in EventKind.values else self.kind


class Delivery(models.Model):
    """One message of one event to one channel: recorded with the event, sent by a worker.

    (channel, event, reminder) is unique, so the console never makes two deliveries of one
    message; `uuid` travels with each attempt (`X-Console-Delivery`, the email's Message-ID) so
    a receiver can drop the rare second copy after a worker died mid-send.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Not delivered")

    IN_FLIGHT = (Status.PENDING, Status.SENDING)

    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    reminder = models.PositiveSmallIntegerField(default=0, help_text="0: the event itself; n: its n-th reminder.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # In our words: never a secret, never what the other side answered.
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "event", "reminder"], name="delivery_once_per_channel"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status__in=["pending", "sending"]), name="delivery_in_flight"
            ),
        ]

    def __str__(self):
        return f"{self.event} to {self.channel_id} ({self.get_status_display()})"

    @property
    def in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT


class Subscription(models.Model):
    """A person's own choice: an email when a backup they requested completes or fails."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    backup_outcomes = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user} ({'on' if self.backup_outcomes else 'off'})"
