"""The create-instance API's rules for a restore, in one place (creating_an_instance.rst,
Tables 3 and 5): the new instance's name and password, its nodes and storage (at least the
source's), and a point in time inside the restorable window
(querying_the_time_window_when_a_backup_can_be_restored.rst).

The form and the services both call these, so the messages a person sees are the ones the
server enforces.
"""

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups.validators import validate_backup_name

NAME_MIN_LENGTH = 4
NAME_MAX_LENGTH = 64
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 32
SPECIAL_CHARACTERS = "~!@#%^*-_=+?"
# "flavor.num": 3 to 200 nodes for a Cassandra cluster.
NODES_MIN = 3
NODES_MAX = 200
# Only a Cluster instance exists for GeminiDB Cassandra, and only it has points in time.
MODE = "Cluster"
REHEARSAL_DAYS_MIN = 1
REHEARSAL_DAYS_MAX = 365

# What a password lacks, as "The password must contain …" lists it.
_PASSWORD_CLASSES = (
    (re.compile(r"[A-Z]"), gettext_lazy("an upper-case letter")),
    (re.compile(r"[a-z]"), gettext_lazy("a lower-case letter")),
    (re.compile(r"[0-9]"), gettext_lazy("a digit")),
    (re.compile(f"[{re.escape(SPECIAL_CHARACTERS)}]"), gettext_lazy("one of %(specials)s")),
)
_PASSWORD_ALLOWED = re.compile(f"[A-Za-z0-9{re.escape(SPECIAL_CHARACTERS)}]")


def validate_instance_name(name: str) -> None:
    """4 to 64 characters, starting with a letter; letters, digits, hyphens and underscores
    (the same rule as a backup's name, said of an instance)."""
    if not name:
        raise ValidationError(_("Enter a name for the new instance."), code="required")
    try:
        validate_backup_name(name)
    except ValidationError as error:
        raise ValidationError(error.messages[0], code=error.error_list[0].code) from None


def validate_instance_password(password: str) -> None:
    """8 to 32 characters with upper- and lower-case letters, digits and one of ~!@#%^*-_=+?."""
    if not password:
        raise ValidationError(_("Enter a password for the new instance's database."), code="required")
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise ValidationError(
            _("The password must be %(min)d to %(max)d characters long."),
            code="length",
            params={"min": PASSWORD_MIN_LENGTH, "max": PASSWORD_MAX_LENGTH},
        )
    if any(not _PASSWORD_ALLOWED.fullmatch(character) for character in password):
        # Never echo the password (or part of it) back.
        raise ValidationError(
            _("The password may contain only letters, digits and %(specials)s."),
            code="characters",
            params={"specials": SPECIAL_CHARACTERS},
        )
    missing = [
        str(what) % {"specials": SPECIAL_CHARACTERS}
        for pattern, what in _PASSWORD_CLASSES
        if not pattern.search(password)
    ]
    if missing:
        raise ValidationError(
            _("The password must contain %(missing)s."), code="weak", params={"missing": ", ".join(missing)}
        )


def validate_node_count(node_count: int | None, source=None) -> None:
    """3 to 200 nodes, and at least as many as the source instance has (``source``: anything
    with ``node_count``, e.g. the cloud's Instance; None when it is not known)."""
    if node_count is None:
        raise ValidationError(_("Enter the number of nodes."), code="required")
    if not NODES_MIN <= node_count <= NODES_MAX:
        raise ValidationError(
            _("The new instance needs %(min)d to %(max)d nodes."),
            code="range",
            params={"min": NODES_MIN, "max": NODES_MAX},
        )
    least = getattr(source, "node_count", None)
    if least and node_count < least:
        raise ValidationError(
            _("The new instance needs at least %(least)d nodes, as many as the original has."),
            code="fewer_than_source",
            params={"least": least},
        )


def validate_volume_size(volume_size_gb: int | None, source=None) -> None:
    """A whole number of GB, at least the source instance's storage."""
    if volume_size_gb is None:
        raise ValidationError(_("Enter the storage in GB."), code="required")
    if volume_size_gb <= 0:
        raise ValidationError(_("The storage must be a positive number of GB."), code="range")
    least = getattr(source, "volume_size_gb", None)
    if least and volume_size_gb < least:
        raise ValidationError(
            _("The new instance needs at least %(least)d GB of storage, as much as the original has."),
            code="less_than_source",
            params={"least": least},
        )


# The create API's text fields a new instance needs, and what to say when one is missing (a
# whole sentence each: German gives each name its own article).
REQUIRED_TEXT = {
    "spec_code": gettext_lazy("Enter the specification code."),
    "storage_type": gettext_lazy("Enter the disk type."),
    "region": gettext_lazy("Enter the region."),
    "availability_zone": gettext_lazy("Enter the availability zone."),
    "vpc_id": gettext_lazy("Enter the VPC ID."),
    "subnet_id": gettext_lazy("Enter the subnet ID."),
    "security_group_id": gettext_lazy("Enter the security group ID."),
}


def validate_required(value: str, message: str | Promise) -> None:
    """``message`` (one of REQUIRED_TEXT's) when ``value`` is blank."""
    if not (value or "").strip():
        raise ValidationError(str(message), code="required")


def validate_restore_time(restore_time: datetime | None, periods: list[tuple[datetime, datetime]] | None) -> None:
    """A time inside one of the restorable periods; any time when the periods are not known
    (None: the cloud could not be asked, and refuses a time outside them itself)."""
    if restore_time is None:
        raise ValidationError(_("Choose the time to restore to."), code="required")
    if periods is None:
        return
    if not periods:
        raise ValidationError(
            _("The cloud reports no time this instance can be restored to yet: it needs a completed backup."),
            code="no_window",
        )
    if not any(start <= restore_time <= end for start, end in periods):
        raise ValidationError(_("Choose a time inside the restorable window shown above."), code="outside_window")


def validate_rehearsal_interval(every_days: int | None) -> None:
    if every_days is None:
        raise ValidationError(_("Enter how many days apart the rehearsals are."), code="required")
    if not REHEARSAL_DAYS_MIN <= every_days <= REHEARSAL_DAYS_MAX:
        raise ValidationError(
            _("Rehearse every %(min)d to %(max)d days."),
            code="range",
            params={"min": REHEARSAL_DAYS_MIN, "max": REHEARSAL_DAYS_MAX},
        )
