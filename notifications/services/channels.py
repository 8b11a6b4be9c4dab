"""A project's notification channels, changed by its admins: every change in the audit trail,
with the channel's name, kind and host but never its URL or secret."""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access.models import AuditEvent
from access.services.audit import record
from notifications.events import EventKind
from notifications.models import Channel, Event
from notifications.services.deliveries import deliveries_record
from notifications.validators import check_channel_target, target_display

REMINDER_HOURS_LIMIT = 24 * 7


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _check(*, kind: str, events: list[str], reminder_hours: int, language: str) -> None:
    if kind not in Channel.Kind.values:
        raise ValidationError(_("Choose a kind of channel."), code="kind")
    if not set(events) <= set(EventKind.values):
        raise ValidationError(_("Choose events from the list."), code="events")
    if not 0 <= reminder_hours <= REMINDER_HOURS_LIMIT:
        raise ValidationError(
            _("Remind every 0 to %(limit)s hours.") % {"limit": REMINDER_HOURS_LIMIT}, code="reminder"
        )
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose a language from the list."), code="language")


def _details(channel: Channel) -> dict:
    return {
        "kind": channel.kind,
        "host": channel.display,
        "events": channel.events,
        "reminder_hours": channel.reminder_hours,
        "enabled": channel.enabled,
        "language": channel.language,
    }


def channel_add(
    *,
    project,
    by,
    kind: str,
    name: str,
    target: str,
    events: list[str],
    reminder_hours: int = 0,
    language: str = settings.LANGUAGE_CODE,
) -> tuple[Channel, str]:
    """Add a channel; answers it and, for a generic webhook, its new signing secret (shown once).
    Its messages are written in `language`, the team's."""
    _check(kind=kind, events=events, reminder_hours=reminder_hours, language=language)
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
            language=language,
        )
        record(
            AuditEvent.Action.CHANNEL_ADDED, actor=by, project=project, target=channel.name, details=_details(channel)
        )
    return channel, secret


def channel_change(
    *,
    channel: Channel,
    by,
    name: str,
    target: str = "",
    events: list[str],
    reminder_hours: int,
    enabled: bool,
    language: str | None = None,
) -> Channel:
    """Change a channel; an empty `target` keeps the address it has (it is never shown back),
    and no `language` the one it has."""
    language = language or channel.language
    _check(kind=channel.kind, events=events, reminder_hours=reminder_hours, language=language)
    if target:
        channel.target = check_channel_target(channel.kind, target)
        channel.display = target_display(channel.kind, channel.target)
    channel.name = name.strip()[:80]
    channel.events = sorted(events)
    channel.reminder_hours = reminder_hours
    channel.enabled = enabled
    channel.language = language
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
            reason=_("Sent by %(user)s from the channels page.") % {"user": by.get_username()},
        )  # fmt: skip
        deliveries_record(event=event, channels=[channel])
