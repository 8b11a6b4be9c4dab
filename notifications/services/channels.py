"""A project's notification channels, changed by its admins: every change in the audit trail,
with the channel's name, kind and host but never its URL or secret."""

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction

from access.models import AuditEvent
from access.services.audit import record
from notifications.events import EventKind
from notifications.models import Channel, Event
from notifications.services.deliveries import deliveries_record
from notifications.validators import check_channel_target, target_display

REMINDER_HOURS_LIMIT = 24 * 7


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _check(*, kind: str, events: list[str], reminder_hours: int) -> None:
    if kind not in Channel.Kind.values:
        raise ValidationError("Choose a kind of channel.", code="kind")
    if not set(events) <= set(EventKind.values):
        raise ValidationError("Choose events from the list.", code="events")
    if not 0 <= reminder_hours <= REMINDER_HOURS_LIMIT:
        raise ValidationError(f"Remind every 0 to {REMINDER_HOURS_LIMIT} hours.", code="reminder")


def _details(channel: Channel) -> dict:
    return {
        "kind": channel.kind,
        "host": channel.display,
        "events": channel.events,
        "reminder_hours": channel.reminder_hours,
        "enabled": channel.enabled,
    }


def channel_add(
    *, project, by, kind: str, name: str, target: str, events: list[str], reminder_hours: int = 0
) -> tuple[Channel, str]:
    """Add a channel; answers it and, for a generic webhook, its new signing secret (shown once)."""
    _check(kind=kind, events=events, reminder_hours=reminder_hours)
    target = check_channel_target(kind, target)
    secret = new_secret() if kind == Channel.Kind.WEBHOOK else ""
    with transaction.atomic():
        channel = Channel.objects.create(
            project=project,
            kind=kind,
            name=name.strip()[:80],
            target=target,
            display=target_display(kind, target),
            secret=secret,
            events=sorted(events),
            reminder_hours=reminder_hours,
        )
        record(
            AuditEvent.Action.CHANNEL_ADDED, actor=by, project=project, target=channel.name, details=_details(channel)
        )
    return channel, secret


def channel_change(
    *, channel: Channel, by, name: str, target: str = "", events: list[str], reminder_hours: int, enabled: bool
) -> Channel:
    """Change a channel; an empty `target` keeps the address it has (it is never shown back)."""
    _check(kind=channel.kind, events=events, reminder_hours=reminder_hours)
    if target:
        channel.target = check_channel_target(channel.kind, target)
        channel.display = target_display(channel.kind, channel.target)
    channel.name = name.strip()[:80]
    channel.events = sorted(events)
    channel.reminder_hours = reminder_hours
    channel.enabled = enabled
    with transaction.atomic():
        channel.save()
        details = {**_details(channel), "address_changed": bool(target)}
        record(
            AuditEvent.Action.CHANNEL_CHANGED, actor=by, project=channel.project, target=channel.name, details=details
        )
    return channel


def channel_remove(*, channel: Channel, by) -> None:
    """Remove a channel with its deliveries (the audit trail keeps that it was there)."""
    with transaction.atomic():
        record(
            AuditEvent.Action.CHANNEL_REMOVED, actor=by, project=channel.project, target=channel.name,
            details=_details(channel),
        )  # fmt: skip
        channel.delete()


def channel_test(*, channel: Channel, by) -> None:
    """Queue a test message to this channel alone; the channels page shows how it went."""
    with transaction.atomic():
        event = Event.objects.create(
            kind=Event.TEST, key=f"test:{uuid.uuid4()}", project=channel.project,
            reason=f"Sent by {by.get_username()} from the channels page.",
        )  # fmt: skip
        deliveries_record(event=event, channels=[channel])
