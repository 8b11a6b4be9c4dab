"""The API's own data: personal access tokens, and the Idempotency-Keys of backup requests.

A token acts for its owner, never beyond: in the projects of its scope, at the lower of its
role and the owner's role there today (`access.permissions.narrow_to`). Only a hash of the
token is stored; the token itself is shown once, when it is made.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from access.models import CloudProject, Membership
from backups.models import Backup


class ApiToken(models.Model):
    class Role(models.TextChoices):
        # What the API does needs no more: it never manages a team or credentials.
        VIEWER = Membership.Role.VIEWER.value, Membership.Role.VIEWER.label
        OPERATOR = Membership.Role.OPERATOR.value, Membership.Role.OPERATOR.label

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. 'deploy pipeline'.")
    token_hash = models.CharField(max_length=64, unique=True)
    # The token's first characters, so its owner can tell which one a pipeline uses.
    prefix = models.CharField(max_length=16)
    role = models.CharField(max_length=16, choices=Role.choices)
    projects = models.ManyToManyField(CloudProject, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute (services/tokens.py), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_owner")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(token: str) -> str:
        # The token is 256 random bits: a fast hash is enough, and lookups stay one indexed query.
        return hashlib.sha256(token.encode()).hexdigest()

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired()


class IdempotentRequest(models.Model):
    """One Idempotency-Key of one token, and the backup its first request made.

    The row and the backup are created in one transaction, and (token, key) is unique: of two
    requests racing with the same key, one commits both, the other waits on the unique index
    and then answers with the first one's backup.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the request body: the same key with another body is a client's mistake.
    fingerprint = models.CharField(max_length=64)
    # Empty only inside the transaction that takes the key and then makes the backup.
    backup = models.ForeignKey(Backup, null=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="one_request_per_idempotency_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_age")]

    def __str__(self):
        return self.key
