"""The create-backup API's rules for a backup's name and description, in one place.

Source: creating_a_manual_backup.rst (Table 3). The form, the service and the htmx
field check all call these, so the messages a user sees are the ones the server enforces.
"""

import re

from django.core.exceptions import ValidationError

NAME_MIN_LENGTH = 4
NAME_MAX_LENGTH = 64
DESCRIPTION_MAX_LENGTH = 256
DESCRIPTION_FORBIDDEN_CHARACTERS = ">!<\"&'="

# ASCII only: the API's "letters" are a-z and A-Z (\w and str.isalpha would admit é or ß).
_NAME_START = re.compile(r"[A-Za-z]")
_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_-]*")


def validate_backup_name(name: str) -> None:
    """4 to 64 characters, starting with a letter; letters, digits, hyphens and underscores."""
    if not name:
        raise ValidationError("Enter a name for the backup.", code="required")
    if len(name) < NAME_MIN_LENGTH or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            "The name must be %(min)d to %(max)d characters long (it has %(length)d).",
            code="length",
            params={"min": NAME_MIN_LENGTH, "max": NAME_MAX_LENGTH, "length": len(name)},
        )
    if not _NAME_START.match(name):
        raise ValidationError("The name must start with a letter (A-Z or a-z).", code="start")
    if not _NAME_CHARACTERS.fullmatch(name):
        bad = sorted({c for c in name if not _NAME_CHARACTERS.fullmatch(c)})
        raise ValidationError(
            "The name may contain only letters, digits, hyphens (-) and underscores (_), not %(bad)s.",
            code="characters",
            params={"bad": " ".join(repr(c) for c in bad)},
        )


def validate_backup_description(description: str) -> None:
    """Mandatory, at most 256 characters, none of > ! < " & ' =."""
    if not description or not description.strip():
        raise ValidationError("Enter a description: the cloud requires one.", code="required")
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            "The description may be at most %(max)d characters long (it has %(length)d).",
            code="length",
            params={"max": DESCRIPTION_MAX_LENGTH, "length": len(description)},
        )
    bad = sorted(set(description) & set(DESCRIPTION_FORBIDDEN_CHARACTERS))
    if bad:
        raise ValidationError(
            "The description may not contain %(bad)s (the cloud forbids > ! < \" & ' =).",
            code="characters",
            params={"bad": " ".join(bad)},
        )
