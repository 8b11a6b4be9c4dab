"""Reminders while a problem lasts, and nothing more: an instance whose latest protection event
is At risk or Unprotected (no INSTANCE_PROTECTED after it) is reminded of to each channel with
`reminder_hours`, at most once per that many hours. A reminder is its own delivery, numbered
per channel and event, so the unique (channel, event, reminder) makes each one once, whatever
the number of beats or workers. The INSTANCE_PROTECTED event itself is the all-clear."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from notifications.events import EventKind
from notifications.models import Channel, Delivery, Event
from notifications.services.deliveries import deliveries_record

PROBLEMS = (EventKind.INSTANCE_AT_RISK, EventKind.INSTANCE_UNPROTECTED)
STATES = (*PROBLEMS, EventKind.INSTANCE_PROTECTED)


def open_problems():
    """The events of problems that last: per instance, its latest protection event, if a problem."""
    latest = Event.objects.filter(instance=OuterRef("instance"), kind__in=STATES).order_by("-created_at", "-id")
    return Event.objects.filter(kind__in=PROBLEMS, instance__isnull=False, pk=Subquery(latest.values("pk")[:1]))


def reminders_send_due() -> int:
    """One round (beat): record the reminders that are due; answers how many."""
    problems = list(open_problems().select_related("project"))
    if not problems:
        return 0
    channels = Channel.objects.filter(
        project__in={event.project_id for event in problems}, enabled=True, reminder_hours__gt=0
    )
    by_project: dict[int, list[Channel]] = {}
    for channel in channels:
        by_project.setdefault(channel.project_id, []).append(channel)
    last = {
        (row["channel_id"], row["event_id"]): (row["number"], row["at"])
        for row in Delivery.objects.filter(event__in=problems)
        .values("channel_id", "event_id")
        .annotate(number=Max("reminder"), at=Max("created_at"))
    }
    now, made = timezone.now(), 0
    for event in problems:
        for channel in by_project.get(event.project_id, []):
            if event.kind not in channel.events:
                continue
            number, at = last.get((channel.pk, event.pk), (0, event.created_at))
            if now - at < timedelta(hours=channel.reminder_hours):
                continue
            try:
                with transaction.atomic():
                    deliveries_record(event=event, channels=[channel], reminder=number + 1)
            except IntegrityError:
                continue  # another round made this reminder already
            made += 1
    return made
