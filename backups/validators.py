"""The API's rules for what the console sends, in one place: a backup's name and description
(creating_a_manual_backup.rst, Table 3) and an automated backup policy
(configuring_an_automated_backup_policy.rst, Table 4).

The form, the service and the htmx field check all call these, so the messages a user sees are
the ones the server enforces.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .cloud.types import BackupPolicy

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
        raise ValidationError(_("Enter a name for the backup."), code="required")
    if len(name) < NAME_MIN_LENGTH or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            _("The name must be %(min)d to %(max)d characters long (it has %(length)d)."),
            code="length",
            params={"min": NAME_MIN_LENGTH, "max": NAME_MAX_LENGTH, "length": len(name)},
        )
    if not _NAME_START.match(name):
        raise ValidationError(_("The name must start with a letter (A-Z or a-z)."), code="start")
    if not _NAME_CHARACTERS.fullmatch(name):
        bad = sorted({c for c in name if not _NAME_CHARACTERS.fullmatch(c)})
        raise ValidationError(
            _("The name may contain only letters, digits, hyphens (-) and underscores (_), not %(bad)s."),
            code="characters",
            params={"bad": " ".join(repr(c) for c in bad)},
        )


def validate_backup_description(description: str) -> None:
    """Mandatory, at most 256 characters, none of > ! < " & ' =."""
    if not description or not description.strip():
        raise ValidationError(_("Enter a description: the cloud requires one."), code="required")
    if "\x00" in description:
        # Django's own words and code (the form's CharField says the same); no database text holds NUL.
        raise ValidationError(_("Null characters are not allowed."), code="null_characters_not_allowed")
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            _("The description may be at most %(max)d characters long (it has %(length)d)."),
            code="length",
            params={"max": DESCRIPTION_MAX_LENGTH, "length": len(description)},
        )
    bad = sorted(set(description) & set(DESCRIPTION_FORBIDDEN_CHARACTERS))
    if bad:
        raise ValidationError(
            _("The description may not contain %(bad)s (the cloud forbids > ! < \" & ' =)."),
            code="characters",
            params={"bad": " ".join(bad)},
        )


# configuring_an_automated_backup_policy.rst (Table 4): keep_days 0..35, 0 turns the policy off;
# a one-hour window "hh:mm-HH:MM" in UTC starting at :00, :15, :30 or :45; the days of the week,
# 1 = Monday … 7 = Sunday, all seven when backups are kept fewer than 7 days.
KEEP_DAYS_MAX = 35
KEEP_DAYS_ANY_PERIOD = 7
ALL_DAYS = "1,2,3,4,5,6,7"
WINDOW_MINUTES = ("00", "15", "30", "45")
_WINDOW = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")
_PERIOD = re.compile(r"[1-7](,[1-7])*")


def validate_backup_policy(keep_days, start_time, period) -> BackupPolicy:
    """Check an automated backup policy by the API's rules and return it normalised (days sorted;
    keep_days 0 alone, since the cloud needs no window or days then).

    ``period`` is the API's "1,3,5" or the chosen days as numbers or digit strings. Raises
    ValidationError keyed by field (``keep_days``, ``start_time``, ``period``), every problem
    at once; it accepts exactly what the cloud accepts (tests/backups/test_validators.py
    checks it against the simulator).
    """
    errors: dict[str, ValidationError] = {}
    keep_days_error = _keep_days_error(keep_days)
    if keep_days_error:
        errors["keep_days"] = keep_days_error
    elif keep_days == 0:
        return BackupPolicy(keep_days=0, start_time=None, period=None)
    window_error = _window_error(start_time)
    if window_error:
        errors["start_time"] = window_error
    period, period_error = _normalised_period(period)
    if period_error is None and not keep_days_error and keep_days < KEEP_DAYS_ANY_PERIOD and period != ALL_DAYS:
        period_error = ValidationError(
            _(
                "Backups kept fewer than %(days)d days must be taken every day: choose all seven days, "
                "or keep them %(days)d days or more."
            ),
            code="every_day",
            params={"days": KEEP_DAYS_ANY_PERIOD},
        )
    if period_error:
        errors["period"] = period_error
    if errors:
        raise ValidationError(errors)
    return BackupPolicy(keep_days=keep_days, start_time=start_time, period=period)


def _keep_days_error(keep_days) -> ValidationError | None:
    if keep_days is None or keep_days == "":
        return ValidationError(_("Enter how many days to keep automated backups (0 turns them off)."), code="required")
    if isinstance(keep_days, bool) or not isinstance(keep_days, int) or not 0 <= keep_days <= KEEP_DAYS_MAX:
        return ValidationError(
            _("Automated backups are kept 0 to %(max)d days (0 turns them off)."),
            code="range",
            params={"max": KEEP_DAYS_MAX},
        )
    return None


def _window_error(start_time) -> ValidationError | None:
    if not start_time:
        return ValidationError(_("Choose the backup window: automated backups need one."), code="required")
    found = _WINDOW.fullmatch(start_time) if isinstance(start_time, str) else None
    if found is None or int(found[1]) > 23 or int(found[3]) > 23:
        return ValidationError(_("Enter the window as hh:mm-HH:MM in UTC, e.g. 01:00-02:00."), code="format")
    start_hour, start_minute, end_hour, end_minute = found.groups()
    if start_minute not in WINDOW_MINUTES or end_minute not in WINDOW_MINUTES:
        return ValidationError(_("The window must start on the hour or at :15, :30 or :45."), code="minutes")
    if int(end_hour) != (int(start_hour) + 1) % 24 or end_minute != start_minute:
        expected = f"{start_hour}:{start_minute}-{(int(start_hour) + 1) % 24:02}:{start_minute}"
        return ValidationError(
            _("The window must be exactly one hour long: %(expected)s."), code="length", params={"expected": expected}
        )
    return None


def _normalised_period(period) -> tuple[str, ValidationError | None]:
    """The days as the API spells them, sorted ("1,3,5"), and what is wrong with them."""
    if period is not None and not isinstance(period, str):
        try:
            period = ",".join(str(day) for day in period)
        except TypeError:
            period = None
    if not period:
        return "", ValidationError(_("Choose at least one day of the week."), code="required")
    if not _PERIOD.fullmatch(period):
        return "", ValidationError(
            _("Enter the days as digits from 1 (Monday) to 7 (Sunday), separated by commas, e.g. 1,3,5."),
            code="format",
        )
    days = period.split(",")
    if len(set(days)) != len(days):
        return "", ValidationError(_("Choose each day only once."), code="duplicate")
    return ",".join(sorted(days)), None
