"""What the console sends to people: one delivery row per message, recorded before anything
is sent (`services/outbox.py` says how it travels)."""

from django.db import models
from django.db.models import Q

from access.fields import EncryptedTextField


class OutgoingEmail(models.Model):
    """One email, from the moment a service decides to send it to its outcome.

    The body is encrypted at rest (an invitation's holds a link that works once) and blanked
    once the message is sent or given up on; recipient, subject and outcome stay.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not delivered"
        CANCELLED = "cancelled", "Cancelled"

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
