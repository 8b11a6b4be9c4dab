"""The one place that decides what to send when something happened (`events.notify`): the
event row, a delivery for each enabled channel of the project that hears about its kind, and
an email to whoever requested a backup and asked to hear how their backups end."""

import logging

from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from access.permissions import role_in
from notifications.events import EventKind
from notifications.messages import console_url, title_of
from notifications.models import Channel, Event, Subscription
from notifications.services import outbox
from notifications.services.deliveries import deliveries_record
from preferences.services import language_for

log = logging.getLogger(__name__)

BACKUP_OUTCOMES = frozenset({EventKind.BACKUP_COMPLETED, EventKind.BACKUP_FAILED})


def channels_for(project, kind: str):
    """The enabled channels of `project` that hear about `kind` (few per project: filtered here,
    since SQLite has no JSON containment)."""
    return [channel for channel in Channel.objects.filter(project=project, enabled=True) if kind in channel.events]


def event_record(*, kind: str, key: str, project, instance=None, backup=None, reason: str = "") -> Event | None:
    """Record the event and its deliveries in the caller's transaction; None when (kind, key)
    was recorded already, by this process or another (the unique constraint decides)."""
    if instance is None and backup is not None:
        instance = backup.instance
    with transaction.atomic():  # a savepoint: a lost race must not break the caller's transaction
        event, created = Event.objects.get_or_create(
            kind=kind,
            key=key[:200],
            defaults={"project": project, "instance": instance, "backup": backup, "reason": reason[:2000]},
        )
        if not created:
            return None
        deliveries_record(event=event, channels=channels_for(project, kind))
        if kind in BACKUP_OUTCOMES and backup is not None:
            _email_requester(event, backup)
    return event


def _email_requester(event: Event, backup) -> None:
    """The person who requested the backup, if they asked for it and still belong to the project."""
    person = backup.requested_by
    if person is None or not person.is_active or not person.email:
        return
    if not Subscription.objects.filter(user=person, backup_outcomes=True).exists():
        return
    if role_in(person, event.project_id) is None:
        return
    # Recorded by a worker (no request, no active language): in the person's own language.
    with translation.override(language_for(person)):
        title = title_of(event.kind, backup=backup.name, instance=backup.instance.name)
        link = console_url(reverse("backups:backup_detail", args=[backup.pk]))
        why = _(
            "You get this email because you asked to hear how the backups you request end. "
            "Change that under Notifications in the console's header."
        )
        body = f"{title}.\n\n{event.reason}\n\n{link}\n\n{why}"
        subject = _("%(title)s · GeminiDB Backup Console") % {"title": title}
    outbox.email_queue(to=person.email, subject=subject[:200], body=body)
