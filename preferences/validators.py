from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from .zones import is_zone

BAD_ZONE = gettext_lazy("“%(value)s” is not a time zone we know. Choose one from the list.")


def validate_time_zone(value: str) -> None:
    """An IANA time zone name, or "" for the browser's."""
    if value and not is_zone(value):
        raise ValidationError(BAD_ZONE, code="invalid_choice", params={"value": value})
