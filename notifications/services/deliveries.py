"""Deliveries: one message of one event to one channel, with the discipline of the email
outbox (`outbox.py`) and of backup requests.

1. `deliveries_record` makes the PENDING rows inside the caller's transaction (the event's)
   and publishes them after commit; (channel, event, reminder) is unique, so the console
   never makes a second delivery of one message.
2. `delivery_send` claims a row by conditional UPDATE (PENDING -> SENDING with a lease), so a
   task delivered twice finds nothing to do, sends it outside any transaction, and records
   DELIVERED, or the reason in our words and a retry with backoff and jitter, up to
   DELIVERY_MAX_ATTEMPTS, then FAILED.
3. `deliveries_dispatch_due` (beat) publishes rows the broker never got, retries whose wait
   is over, and rows whose worker died (the lease lapsed).

The guarantee at the transport is at least once: a worker killed after the receiver took the
message and before step 2 recorded it sends it again when its lease lapses. Every attempt
carries the delivery's id (X-Console-Delivery, the email's Message-ID) for receivers to drop
the copy.
"""

import logging
import random
from datetime import timedelta
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications import messages, publish
from notifications.models import Channel, Delivery, Event
from notifications.transports import chat, send_attempt, webhook
from notifications.transports import email as email_transport
from webapp import metrics

log = logging.getLogger(__name__)
Status = Delivery.Status


def send_lease() -> timedelta:
    """A worker silent this long after claiming a delivery is dead. Longer than the send task's
    hard time limit (tasks.py), so that two live workers never hold one row."""
    return timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


def retry_delay(attempt: int) -> timedelta:
    base = min(settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 1800)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


def deliveries_record(*, event: Event, channels, reminder: int = 0) -> list[Delivery]:
    """Record one delivery of `event` per channel, in the caller's transaction; published on commit."""
    now = timezone.now()
    rows = [Delivery(channel=channel, event=event, reminder=reminder, next_attempt_at=now) for channel in channels]
    created = Delivery.objects.bulk_create(rows)
    for delivery in created:
        transaction.on_commit(partial(delivery_publish, delivery_id=delivery.pk))
    return created


def delivery_publish(*, delivery_id: int) -> bool:
    """Hand a pending delivery to the broker. A failure only delays it: the sweep retries."""
    pending = Delivery.objects.filter(pk=delivery_id, status=Status.PENDING)
    return publish.hand_over(publish.SEND_DELIVERY, delivery_id, pending=pending, what=f"delivery {delivery_id}")


def deliveries_dispatch_due() -> int:
    """The sweep: publish due deliveries the broker missed, retries, and those of dead workers."""
    now = timezone.now()
    due = Delivery.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now)
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - publish.REPUBLISH_AFTER))
        | Q(status=Status.SENDING, claimed_at__lt=now - send_lease())
    ).values_list("pk", flat=True)[:500]
    return sum(delivery_publish(delivery_id=pk) for pk in due)


def _transport_send(delivery: Delivery, message: messages.Message) -> None:
    channel = delivery.channel
    if channel.kind == Channel.Kind.EMAIL:
        signature = _("Channel %(channel)s of %(project)s.") % {
            "channel": channel.name,
            "project": message.body["project"]["name"],
        }
        body = f"{message.text}\n\n{message.url}\n\n-- \n{signature}"
        email_transport.send_message(
            to=channel.target, subject=message.title[:200], body=body, message_id=f"<{delivery.uuid}@{_mail_domain()}>"
        )
    elif channel.kind == Channel.Kind.WEBHOOK:
        webhook.post_json(
            channel.target,
            message.body,
            delivery_id=str(delivery.uuid),
            secret=channel.secret,
            event=delivery.event.kind,
        )
    else:
        chat.send(channel.kind, channel.target, message)


def _mail_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def delivery_send(*, delivery_id: int) -> bool:
    """Send one delivery if it is still to be sent; True if this call delivered it."""
    now = timezone.now()
    due = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=now - send_lease()
    )
    claimed = Delivery.objects.filter(due, pk=delivery_id).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False  # a duplicate task, another worker holds it, or it is done
    delivery = Delivery.objects.select_related(
        "channel", "event", "event__project", "event__instance", "event__backup"
    ).get(pk=delivery_id)
    channel = delivery.channel
    # The message, and the reason recorded when it does not go through, in the team's language.
    with translation.override(channel.language):
        if not channel.enabled and delivery.event.kind != Event.TEST:
            _failed(delivery, _("The channel was switched off before this message left."), permanent=True)
            return False
        failure = send_attempt(
            lambda: _transport_send(delivery, messages.build(delivery)), what=f"delivery {delivery_id}"
        )
    if failure:
        _failed(delivery, failure.reason, permanent=failure.permanent)
        return False
    Delivery.objects.filter(pk=delivery_id, status=Status.SENDING).update(
        status=Status.DELIVERED, delivered_at=timezone.now(), last_error=""
    )
    metrics.notification_delivery(channel.kind, "sent")
    log.info(
        "Delivery %s (%s, reminder %s) delivered to channel %s (%s, %s), attempt %s",
        delivery.uuid, delivery.event.kind, delivery.reminder, channel.pk, channel.kind, channel.display,
        delivery.attempts,
    )  # fmt: skip
    return True


def _failed(delivery: Delivery, reason: str, *, permanent: bool) -> None:
    mine = Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING)
    if permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        mine.update(status=Status.FAILED, last_error=reason[:300], claimed_at=None)
        metrics.notification_delivery(delivery.channel.kind, "failed")
        log.warning("Delivery %s given up after %s attempts: %s", delivery.uuid, delivery.attempts, reason)
        return
    delay = retry_delay(delivery.attempts)
    metrics.notification_delivery(delivery.channel.kind, "retry")
    mine.update(
        status=Status.PENDING,
        next_attempt_at=timezone.now() + delay,
        enqueued_at=None,
        claimed_at=None,
        last_error=reason[:300],
    )
    log.info(
        "Delivery %s attempt %s failed (%s); next in %.0f s",
        delivery.uuid,
        delivery.attempts,
        reason,
        delay.total_seconds(),
    )
