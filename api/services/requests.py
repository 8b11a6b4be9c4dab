"""Backup requests through the API, with the Idempotency-Key a pipeline sends so that a retry
(a dropped connection, a timeout, a re-run job) never makes a second backup.

The key is taken first: its row is inserted in the transaction that then creates the backup,
and (token, key) is unique. A second request with the same key waits on that unique index
until the first commits (PostgreSQL; SQLite takes the write lock at BEGIN, settings.py), then
finds the key taken and answers with the first one's backup. If the first request fails
its validation, its transaction rolls back the key too, and a retry is judged afresh.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import ApiToken, IdempotentRequest
from backups.models import Backup, Instance
from backups.services import submission

KEY_MAX_LENGTH = 255


class KeyRefused(Exception):
    """The Idempotency-Key cannot be used: `code` says why (malformed, or sent before with
    another request)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Requested:
    backup: Backup
    replayed: bool  # True: an earlier request with the same key made it


def validate_key(key: str) -> None:
    if not key or len(key) > KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise KeyRefused(
            "invalid_idempotency_key",
            f"An Idempotency-Key is 1 to {KEY_MAX_LENGTH} printable ASCII characters, e.g. a UUID.",
        )


def fingerprint(*, instance: Instance, name: str, description: str) -> str:
    body = json.dumps({"instance": instance.pk, "name": name, "description": description}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def backup_request_once(
    *, token: ApiToken, key: str | None, instance: Instance, name: str, description: str
) -> Requested:
    """Request a backup for the token's owner; with a key, at most once per (token, key)."""
    user = token.user
    if key is None:
        return Requested(
            submission.backup_request(
                instance=instance, user=user, name=name, description=description, api_token=token.name
            ),
            False,
        )
    validate_key(key)
    digest = fingerprint(instance=instance, name=name, description=description)
    if earlier := _earlier(token, key, digest):
        return earlier
    try:
        with transaction.atomic():
            taken = IdempotentRequest.objects.create(
                token=token, key=key, fingerprint=digest, created_at=timezone.now()
            )
            backup = submission.backup_request(
                instance=instance, user=user, name=name, description=description, api_token=token.name
            )
            taken.backup = backup
            taken.save(update_fields=["backup"])
    except IntegrityError:
        # Another request with this key committed first (or, if not, the backup lost a race
        # the service could not put in words: let that through as the error it is).
        if earlier := _earlier(token, key, digest):
            return earlier
        raise
    return Requested(backup, False)


def _earlier(token: ApiToken, key: str, digest: str) -> Requested | None:
    taken = IdempotentRequest.objects.select_related("backup").filter(token=token, key=key).first()
    if taken is None:
        return None
    if taken.fingerprint != digest:
        raise KeyRefused(
            "idempotency_key_reused",
            "This Idempotency-Key was sent before with a different request. Use a new key for a new backup.",
        )
    # Committed with its backup in one transaction (IdempotentRequest): never empty once seen here.
    return Requested(taken.backup, True)  # type: ignore[arg-type]


def idempotency_keys_forget() -> int:
    """Forget keys older than API_IDEMPOTENCY_KEY_HOURS (beat); answers how many."""
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
