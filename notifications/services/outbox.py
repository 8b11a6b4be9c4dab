"""The email outbox: every email is a row before it is anything else, is sent by a worker,
is retried with backoff, and is never sent twice for one delivery of its task.

1. `email_queue` records a PENDING row inside the caller's transaction (it is committed, or
   rolled back, with whatever made it necessary) and publishes the send task after commit. If
   the broker is down the row waits: `emails_dispatch_due` (the beat's sweep) publishes it.
2. `email_send` claims the row with a conditional UPDATE (PENDING -> SENDING, with a lease),
   so a task delivered twice finds nothing to do, and sends it outside any transaction.
3. Sent: SENT, and the body (it may hold a link that works once) is blanked. A transient
   failure puts it back to PENDING with a backoff; a permanent one, or the last attempt,
   makes it FAILED with the reason in our words.

The one way to a second copy: a worker dies after the mail server's "OK" and before step 3.
Its lease lapses, the sweep hands the row out again, and the copy carries the same
Message-ID, which mail clients show once.
"""

import logging
import random
from datetime import timedelta
from email.utils import make_msgid, parseaddr
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from notifications import publish
from notifications.messages import active_language
from notifications.models import OutgoingEmail
from notifications.transports import email as email_transport
from notifications.transports import send_attempt
from webapp import metrics

log = logging.getLogger(__name__)

Status = OutgoingEmail.Status

# A worker that claimed an email this long ago is dead: the send task's hard time limit
# (notifications/tasks.py) is shorter, so the lease never lapses under a live worker.
SEND_LEASE = timedelta(seconds=120)


def email_retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter, capped well below the broker's visibility timeout."""
    base = min(settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 1800)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


def _message_id() -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return make_msgid("console", domain=domain)


def email_queue(*, to: str, subject: str, body: str) -> OutgoingEmail:
    """Record one email to send, written in the active language. Call it inside the transaction
    of the change that makes it necessary: the worker gets it after that commits, and never if
    it rolls back."""
    email = OutgoingEmail.objects.create(
        recipient=to, subject=subject, body=body, message_id=_message_id(), next_attempt_at=timezone.now(),
        language=active_language(),
    )  # fmt: skip
    transaction.on_commit(partial(email_publish, email_id=email.pk))
    return email


def email_publish(*, email_id: int) -> bool:
    """Hand a pending email to the broker. A failure only delays it: the sweep retries."""
    pending = OutgoingEmail.objects.filter(pk=email_id, status=Status.PENDING)
    return publish.hand_over(publish.SEND_EMAIL, email_id, pending=pending, what=f"email {email_id}")


def emails_dispatch_due() -> int:
    """The sweep: publish pending emails that are due and not recently published (first tries
    the broker missed, and retries whose backoff is over), and those whose worker died."""
    now = timezone.now()
    due = OutgoingEmail.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now)
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - publish.REPUBLISH_AFTER))
        | Q(status=Status.SENDING, claimed_at__lt=now - SEND_LEASE)
    ).values_list("pk", flat=True)[:500]
    return sum(email_publish(email_id=pk) for pk in due)


def email_send(*, email_id: int) -> bool:
    """Send one email if it is still to be sent; True if this call sent it."""
    now = timezone.now()
    due = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_at__lt=now - SEND_LEASE)
    claimed = OutgoingEmail.objects.filter(due, pk=email_id).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False  # a duplicate delivery, another worker holds it, it is done or cancelled
    email = OutgoingEmail.objects.get(pk=email_id)
    # Why it did not go through, in the email's language: whoever sent it reads that.
    with translation.override(email.language):
        failure = send_attempt(lambda: email_transport.send(email), what=f"email {email_id}")
    if failure:
        _email_failed(email, failure.reason, permanent=failure.permanent)
        return False
    OutgoingEmail.objects.filter(pk=email_id, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), body="", last_error=""
    )
    metrics.email_attempt("sent")
    log.info("Email %s sent (attempt %s)", email_id, email.attempts)
    return True


def _email_failed(email: OutgoingEmail, reason: str, *, permanent: bool) -> None:
    mine = OutgoingEmail.objects.filter(pk=email.pk, status=Status.SENDING)
    if permanent or email.attempts >= settings.EMAIL_MAX_ATTEMPTS:
        mine.update(status=Status.FAILED, body="", last_error=reason, claimed_at=None)
        metrics.email_attempt("failed")
        log.warning("Email %s given up after %s attempts: %s", email.pk, email.attempts, reason)
        return
    delay = email_retry_delay(email.attempts)
    metrics.email_attempt("retry")
    mine.update(
        status=Status.PENDING,
        next_attempt_at=timezone.now() + delay,
        enqueued_at=None,
        claimed_at=None,
        last_error=reason,
    )
    log.info("Email %s attempt %s failed (%s); next in %.0f s", email.pk, email.attempts, reason, delay.total_seconds())


def email_cancel(*, email_id: int) -> bool:
    """Stop an email that has not left yet (its link was replaced or withdrawn)."""
    return bool(
        OutgoingEmail.objects.filter(pk=email_id, status=Status.PENDING).update(status=Status.CANCELLED, body="")
    )
