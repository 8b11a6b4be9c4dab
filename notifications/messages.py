"""What a delivery says: the title, a line of plain words, the link, and the JSON body of a
generic webhook (README, "Notifications"). Every transport starts from `Message`."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from notifications.events import EventKind
from notifications.models import Delivery, Event

TITLES = {
    EventKind.BACKUP_FAILED: "Backup {backup} of {instance} failed",
    EventKind.BACKUP_LOST: "Backup {backup} of {instance} needs a look",
    EventKind.BACKUP_COMPLETED: "Backup {backup} of {instance} completed",
    EventKind.INSTANCE_AT_RISK: "{instance} is at risk",
    EventKind.INSTANCE_UNPROTECTED: "{instance} is unprotected",
    EventKind.INSTANCE_PROTECTED: "{instance} is protected again",
    EventKind.POLICY_CHANGED_OUTSIDE: "The backup policy of {instance} was changed outside the console",
    EventKind.RESTORE_COMPLETED: "A restore of {instance} completed",
    EventKind.RESTORE_FAILED: "A restore of {instance} failed",
    EventKind.REHEARSAL_PASSED: "The restore rehearsal of {instance} passed",
    EventKind.REHEARSAL_FAILED: "The restore rehearsal of {instance} failed",
    EventKind.REHEARSAL_CLEANUP_STUCK: "The rehearsal instance of {instance} is not deleted yet",
    Event.TEST: "Test message from the GeminiDB Backup Console",
}


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    url: str
    body: dict


def console_url(path: str) -> str:
    """An absolute link when CONSOLE_URL is set; the path alone otherwise (the worker knows no host)."""
    return settings.CONSOLE_URL.rstrip("/") + path


def _link(event: Event) -> str:
    if event.backup_id:
        return console_url(reverse("backups:backup_detail", args=[event.backup_id]))
    if event.instance_id:
        return console_url(reverse("backups:instances"))
    return console_url(reverse("notifications:channels", args=[event.project_id]))


def _instance(event: Event) -> dict | None:
    instance = event.instance
    if instance is None:
        return None
    data = {"id": instance.pk, "name": instance.name, "cloud_id": instance.cloud_id, "status": instance.status}
    if event.kind.startswith("instance_"):
        data["protection_reason"] = event.reason
    return data


def _backup(event: Event) -> dict | None:
    backup = event.backup
    if backup is None:
        return None
    return {"id": backup.pk, "name": backup.name, "status": backup.status, "error": backup.error_message}


def build(delivery: Delivery) -> Message:
    """The message of one delivery (its event, and whether it is a reminder)."""
    event = delivery.event
    names = {
        "instance": event.instance.name if event.instance else "an instance",
        "backup": event.backup.name if event.backup else "",
    }
    title = TITLES.get(event.kind, event.kind).format(**names)
    if delivery.reminder:
        title = f"Reminder: {title} (still, since {event.created_at:%Y-%m-%d %H:%M} UTC)"
    if event.kind == Event.TEST:
        text = f"Channel {delivery.channel.name} of {event.project.name} works."
    else:
        text = event.reason or title
    url = _link(event)
    body = {
        "delivery_id": str(delivery.uuid),
        "event": event.kind,
        "reminder": delivery.reminder,
        "title": title,
        "text": text,
        "project": {"id": event.project_id, "name": event.project.name},
        "instance": _instance(event),
        "backup": _backup(event),
        "occurred_at": event.created_at.isoformat(),
        "url": url,
    }
    return Message(title=title, text=text, url=url, body=body)
