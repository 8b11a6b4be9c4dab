"""How services hand an email to the worker: by task name, so that services never import
`tasks.py`, which imports them (as `backups/publish.py` does for backups).

Publishing is never the durable step: the `OutgoingEmail` (or `Delivery`) row is, and the beat's sweep
(`tasks.dispatch_emails`) publishes again what the broker did not get.
"""

from datetime import timedelta

from celery import current_app
from django.db.models import QuerySet
from django.utils import timezone

from webapp import broker

SEND_EMAIL = "notifications.tasks.send_email"
SEND_DELIVERY = "notifications.tasks.send_delivery"

TASK_NAMES = (SEND_EMAIL, SEND_DELIVERY)

# An email (or a delivery) handed to the broker this long ago and still not started is published again.
REPUBLISH_AFTER = timedelta(seconds=90)


def publish(task_name: str, *args) -> None:
    """Send one task message. Raises whatever the broker connection raises."""
    current_app.send_task(task_name, args=args)


def hand_over(task_name: str, pk: int, *, pending: QuerySet, what: str) -> bool:
    """Publish the task for row `pk` and note on `pending` (the row, if still pending) when the
    broker took it. A failure only delays it: the row is the durable copy, and the sweep retries."""
    if not broker.published(lambda: publish(task_name, pk), what=what):  # an outage is logged once
        return False
    pending.update(enqueued_at=timezone.now())
    return True
