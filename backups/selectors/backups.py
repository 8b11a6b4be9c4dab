"""One backup, for the people who may see it."""

from django.shortcuts import get_object_or_404

from access.selectors.projects import PAGE_DEFERRED, visible_projects
from backups.models import Backup, BackupEvent


def backup_for(user, pk: int) -> Backup:
    """A backup of one of the user's projects; 404 for anyone else."""
    visible = (
        Backup.objects.select_related("instance__project", "requested_by")
        .defer(*(f"instance__project__{field}" for field in PAGE_DEFERRED))
        .filter(instance__project__in=visible_projects(user))
    )
    return get_object_or_404(visible, pk=pk)


def backup_timeline(backup: Backup) -> list[BackupEvent]:
    return list(backup.events.order_by("at", "id"))
