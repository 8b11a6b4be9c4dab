"""What the services write into a backup's timeline."""

from django.utils import translation

from backups.models import BackupEvent


def written(event: BackupEvent) -> tuple[str, dict]:
    """An event's code and values, once its English message is checked to be their English words."""
    with translation.override("en"):
        assert event.text == event.message
    return event.code, event.params
