"""Celery tasks of the outbox: thin, they call `services/outbox.py`. Both are idempotent, so
late acknowledgement may deliver one twice without harm."""

from celery import shared_task

from notifications import publish
from notifications.services import outbox


# The hard limit stays below the send lease (outbox.SEND_LEASE): never two workers on one email.
@shared_task(name=publish.SEND_EMAIL, time_limit=60, soft_time_limit=45)
def send_email(email_id: int) -> bool:
    return outbox.email_send(email_id=email_id)


@shared_task
def dispatch_emails() -> int:
    """Beat: the outbox sweep for emails (first sends the broker missed, retries, dead workers)."""
    return outbox.emails_dispatch_due()
