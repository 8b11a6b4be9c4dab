"""Celery tasks of notifications: thin, they call the services. All are idempotent, so late
acknowledgement may deliver one twice without harm."""

from celery import shared_task

from notifications import publish
from notifications.services import deliveries, outbox, reminders


# The hard limit stays below the send lease (outbox.SEND_LEASE): never two workers on one email.
@shared_task(name=publish.SEND_EMAIL, time_limit=60, soft_time_limit=45)
def send_email(email_id: int) -> bool:
    return outbox.email_send(email_id=email_id)


@shared_task
def dispatch_emails() -> int:
    """Beat: the outbox sweep for emails (first sends the broker missed, retries, dead workers)."""
    return outbox.emails_dispatch_due()


# As for emails: the hard limit stays below DELIVERY_LEASE_SECONDS (deliveries.send_lease).
@shared_task(name=publish.SEND_DELIVERY, time_limit=60, soft_time_limit=45)
def send_delivery(delivery_id: int) -> bool:
    return deliveries.delivery_send(delivery_id=delivery_id)


@shared_task
def dispatch_deliveries() -> int:
    """Beat: the sweep for channel deliveries (missed by the broker, retries, dead workers)."""
    return deliveries.deliveries_dispatch_due()


@shared_task
def send_reminders() -> int:
    """Beat: reminders of problems that last, to channels that want them."""
    return reminders.reminders_send_due()
