"""Reading the values of the API's answers: times, progress, numbers and strings.

The answers are not trusted to be well formed: a missing value becomes an empty one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """Parse an API time into an aware UTC datetime; ``""`` or ``None`` gives ``None``.

    The pages use several shapes: "2023-09-12T06:44:01+0000" (jobs, backups),
    "2019-01-17T07:05:52" without a zone (instances), "2015-11-09T01:42:57.527363Z" (IAM)
    and "2018-08-06 10:41:14". A time without a zone is UTC, like every other time they print.
    Anything else (a number, a list, "²", a year past 9999) raises ValueError, and only that.
    """
    if not value:
        return None
    if not isinstance(value, str):
        raise ValueError(f"a time must be a string, not {type(value).__name__}")
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "9999-12-31T23:59:59-01:00" is past datetime.max in UTC
        raise ValueError(f"{value!r} is out of range in UTC") from None


def format_time(value: datetime) -> str:
    """Format a query time as "yyyy-mm-ddThh:mm:ssZ" with Z an offset, as the pages' examples
    do ("2019-05-27T03:38:51+0000"). A naive datetime is taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_progress(value: str | int | None) -> int | None:
    """ "60%" → 60; "" → None (querying_tasks_and_details.rst: progress only while running)."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    return int(float(value.strip().rstrip("%")))


def int_or_none(value: Any) -> int | None:
    """A whole number from a number or its text; None for "" or None (ValueError for other text)."""
    if value is None or value == "":
        return None
    return round(float(value))


def whole_or_none(value: Any) -> int | None:
    """``int_or_none`` that never raises: None for anything that is not a number either, for
    figures an answer may leave out or spell oddly and the caller treats as unknown."""
    try:
        return int_or_none(value)
    except (TypeError, ValueError, OverflowError):
        return None


def text(value: Any) -> str:
    """The value as text; "" for None."""
    return "" if value is None else str(value)


def as_list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty one."""
    return value if isinstance(value, list) else []
