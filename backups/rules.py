"""The rules a backup request must pass: one place, asked by the form, the htmx field check,
the pre-flight panel and the service, so a user is told exactly what the server would
enforce. (The life a backup may lead once requested is `lifecycle.py`.)
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Backup, Instance
from .validators import validate_backup_description, validate_backup_name

# Instance statuses from querying_instances_and_details.rst, as the console shows them.
INSTANCE_STATUS_LABELS = {
    "normal": _("Available"),
    "abnormal": _("Abnormal"),
    "creating": _("Creating"),
    "frozen": _("Frozen"),
    "data_disk_full": _("Storage full"),
    "createfail": _("Creation failed"),
    "enlargefail": _("Node addition failed"),
}


def instance_status_label(status: str) -> str:
    return str(INSTANCE_STATUS_LABELS.get(status, status.replace("_", " ").capitalize()))


def active_backup(instance: Instance) -> Backup | None:
    return (
        Backup.objects.filter(instance=instance, status__in=Backup.ACTIVE_STATUSES)
        .select_related("requested_by")
        .first()
    )


def instance_backup_blocker(instance: Instance, running: Backup | None) -> str | None:
    """Why the instance cannot be backed up right now, or None if it can.

    `running` is the instance's active backup, passed in so list pages can fetch all of
    them in one query.
    """
    if instance.gone_at:
        return gettext("This instance no longer exists in the cloud.")
    if instance.status != Instance.BACKUP_ALLOWED_STATUS:
        return gettext("The instance is %(status)s; only Available instances can be backed up.") % {
            "status": instance_status_label(instance.status)
        }
    if running is not None:
        who = running.requested_by.get_full_name() or running.requested_by.username if running.requested_by else None
        status = running.already_text
        if who:
            return gettext("A backup is already %(status)s on this instance (requested by %(person)s).") % {
                "status": status,
                "person": who,
            }
        return gettext("A backup is already %(status)s on this instance.") % {"status": status}
    return None


def validate_backup_request(*, instance: Instance, name: str, description: str) -> None:
    """Raise a ValidationError keyed by field for everything wrong with this request."""
    errors: dict[str, list[ValidationError]] = {}
    for field, validator, value in (
        ("name", validate_backup_name, name),
        ("description", validate_backup_description, description),
    ):
        try:
            validator(value)
        except ValidationError as error:
            errors[field] = [error]
    if "name" not in errors and name_taken(instance, name):
        errors["name"] = [
            ValidationError(
                _("This instance already has a backup named %(name)s from this console. Choose another name."),
                code="unique",
                params={"name": name},
            )
        ]
    blocker = instance_backup_blocker(instance, active_backup(instance))
    if blocker:
        errors[NON_FIELD_ERRORS] = [ValidationError(blocker, code="instance")]
    if errors:
        raise ValidationError(errors)


def name_taken(instance: Instance, name: str) -> bool:
    # Unique among this console's requests: reconciling an ambiguous create looks it up by name.
    return Backup.objects.filter(instance=instance, name=name, origin=Backup.Origin.DASHBOARD).exists()
