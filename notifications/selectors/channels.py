"""Reads for the channels page, already scoped to the project the view checked."""

from django.shortcuts import get_object_or_404

from notifications.models import Channel, Delivery, Subscription

RECENT = 20


def project_channels(project) -> list[Channel]:
    return list(Channel.objects.filter(project=project))


def project_channel(project, pk: int) -> Channel:
    """A channel of this project; 404 for any other (one of another project does not exist here)."""
    return get_object_or_404(Channel.objects.select_related("project"), project=project, pk=pk)


def recent_deliveries(project) -> list[Delivery]:
    """The latest deliveries to the project's channels, newest first, in one query."""
    return list(
        Delivery.objects.filter(channel__project=project)
        .select_related("channel", "event", "event__instance", "event__backup")
        .order_by("-id")[:RECENT]
    )


def wants_backup_outcomes(user) -> bool:
    return Subscription.objects.filter(user=user, backup_outcomes=True).exists()
