"""What a delivery says: the title, a line of plain words, the link, and the JSON body of a
generic webhook (README, "Notifications"). Every transport starts from `Message`."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.events import EventKind
from notifications.models import Delivery, Event

# Rendered in the channel's language when sent (deliveries.py), so lazy here.
TITLES = {
    EventKind.BACKUP_FAILED: gettext_lazy("Backup %(backup)s of %(instance)s failed"),
    EventKind.BACKUP_LOST: gettext_lazy("Backup %(backup)s of %(instance)s needs a look"),
    EventKind.BACKUP_COMPLETED: gettext_lazy("Backup %(backup)s of %(instance)s completed"),
    EventKind.INSTANCE_AT_RISK: gettext_lazy("%(instance)s is at risk"),
    EventKind.INSTANCE_UNPROTECTED: gettext_lazy("%(instance)s is unprotected"),
    EventKind.INSTANCE_PROTECTED: gettext_lazy("%(instance)s is protected again"),
    EventKind.POLICY_CHANGED_OUTSIDE: gettext_lazy("The backup policy of %(instance)s was changed outside the console"),
    EventKind.RESTORE_COMPLETED: gettext_lazy("A restore of %(instance)s completed"),
    EventKind.RESTORE_FAILED: gettext_lazy("A restore of %(instance)s failed"),
    EventKind.REHEARSAL_PASSED: gettext_lazy("The restore rehearsal of %(instance)s passed"),
    EventKind.REHEARSAL_FAILED: gettext_lazy("The restore rehearsal of %(instance)s failed"),
    EventKind.REHEARSAL_CLEANUP_STUCK: gettext_lazy("The rehearsal instance of %(instance)s is not deleted yet"),
    Event.TEST: gettext_lazy("Test message from the GeminiDB Backup Console"),
}


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    url: str
    body: dict


def active_language() -> str:
    """The active language as one of settings.LANGUAGES ("de" for "de-at"): the one a channel
    or an email is written in when a person sets it up."""
    try:
        return translation.get_supported_language_variant(translation.get_language() or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


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


def title_of(kind: str, *, instance: str, backup: str = "") -> str:
    """What happened, as a message's title, in the active language."""
    title = TITLES.get(kind)
    return str(title) % {"instance": instance, "backup": backup} if title else kind


def build(delivery: Delivery) -> Message:
    """The message of one delivery (its event, and whether it is a reminder), in the active
    language: the worker sends it inside `translation.override(channel.language)`."""
    event = delivery.event
    title = title_of(
        event.kind,
        instance=event.instance.name if event.instance else _("an instance"),
        backup=event.backup.name if event.backup else "",
    )
    if delivery.reminder:
        title = _("Reminder: %(title)s (still, since %(since)s UTC)") % {
            "title": title,
            "since": f"{event.created_at:%Y-%m-%d %H:%M}",
        }
    if event.kind == Event.TEST:
        text = _("Channel %(channel)s of %(project)s works.") % {
            "channel": delivery.channel.name,
            "project": event.project.name,
        }
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
