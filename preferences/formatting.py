"""Times and numbers as the viewer reads them: in their time zone (activated per request by
middleware.py) and as their language writes them. For the template helpers of every page
(backups/templatetags/console.py): each costs a few microseconds, as a list page calls them
50 times or more, so the formats are plain strftime patterns looked up per language."""

from datetime import UTC, date, datetime

from django.utils import timezone
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

# The relative texts made so far, by language, unit, number and direction: a few hundred at
# most (up to 59 s, 59 min, 23 h, 29 days), each made once instead of on every row.
_RELATIVE: dict[tuple[str, str, int, bool], str] = {}


def relative_text(seconds: int, *, future: bool = False, language: str | None = None) -> str:
    """'3 min ago', or with `future` 'in 3 min'; '' a month or more away."""
    if seconds < 10 and not future:
        unit, n = "now", 0
    elif seconds < 60:
        unit, n = "s", seconds
    elif seconds < 3600:
        unit, n = "min", seconds // 60
    elif seconds < 86400:
        unit, n = "h", seconds // 3600
    elif seconds < 30 * 86400:
        unit, n = "day", seconds // 86400
    else:
        return ""
    key = (language or get_language(), unit, n, future)
    text = _RELATIVE.get(key)
    if text is None:
        text = _RELATIVE[key] = _relative(unit, n, future)
    return text


def _relative(unit: str, n: int, future: bool) -> str:
    if unit == "now":
        return gettext("just now")
    if unit == "s":
        text = ngettext("in %(n)d s", "in %(n)d s", n) if future else ngettext("%(n)d s ago", "%(n)d s ago", n)
    elif unit == "min":
        text = ngettext("in %(n)d min", "in %(n)d min", n) if future else ngettext("%(n)d min ago", "%(n)d min ago", n)
    elif unit == "h":
        text = ngettext("in %(n)d h", "in %(n)d h", n) if future else ngettext("%(n)d h ago", "%(n)d h ago", n)
    elif future:
        text = ngettext("in %(n)d day", "in %(n)d days", n)
    else:
        text = ngettext("%(n)d day ago", "%(n)d days ago", n)
    return text % {"n": n}


# How each language writes an exact time and a date (as webapp/formats/ does for Django's
# `date` filter), with the zone's abbreviation as Python knows it (CET, EST, +03).
_EXACT_FORMAT = {"de": "%d.%m.%Y, %H:%M:%S %Z"}
_DATE_FORMAT = {"de": "%d.%m.%Y"}
_ISO_EXACT, _ISO_DATE = "%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d"


def utc_text(value: datetime) -> str:
    """The exact time in UTC, the same in every language and zone: what hover and focus show."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def local_text(value: datetime, language: str | None = None) -> str:
    """The exact time in the viewer's zone (preferences/middleware.py activates it), as their
    language (by default the active one) writes it: 2026-12-03 04:12:33 CET, 03.12.2026, 04:12:33 CET."""
    local = value.astimezone(timezone.get_current_timezone())
    return local.strftime(_EXACT_FORMAT.get(language or get_language(), _ISO_EXACT))


def local_date(value: datetime, language: str | None = None) -> str:
    """The date in the viewer's zone, as their language writes it: 2026-12-03, 03.12.2026."""
    local = value.astimezone(timezone.get_current_timezone())
    return local.strftime(_DATE_FORMAT.get(language or get_language(), _ISO_DATE))


def time_html(value: datetime, text: str, hover: str, utc_exact: str) -> SafeString:
    """A time a person reads, its exact time on hover and on keyboard focus (the tooltip of
    static/css/console.css, from `title`); screen readers read it from the hidden text after."""
    extra = "" if hover == text else f'<span class="sr-only"> ({hover})</span>'
    # Digits, letters and punctuation of our own making (the text escaped by the caller):
    # format_html's escaping would be most of the cost, and a history page calls this 50 times.
    return mark_safe(  # noqa: S308
        f'<time datetime="{value.isoformat()}" title="{hover}" tabindex="0" data-utc="{utc_exact}">{text}</time>{extra}'
    )


# Each language's decimal separator, looked up once (Django's lookup costs a few µs a call).
_DECIMAL: dict[str, str] = {}


def decimal_separator() -> str:
    language = get_language()
    separator = _DECIMAL.get(language)
    if separator is None:
        separator = _DECIMAL[language] = get_format("DECIMAL_SEPARATOR", language)
    return separator


def window_text(window: str, on: date | None = None) -> str:
    """A daily window as the cloud keeps it ("16:00-17:00", in UTC) in the viewer's zone, on
    today's date (so summer time counts): "17:00-18:00 CET" (an en dash between); "16:00-17:00 UTC" for a viewer in
    UTC. A value that is not such a window comes back as it is."""
    try:
        start, end = (datetime.strptime(part, "%H:%M").time() for part in window.split("-"))
    except ValueError:
        return window
    today = on or timezone.now().astimezone(UTC).date()
    zone = timezone.get_current_timezone()
    local_start = datetime.combine(today, start, tzinfo=UTC).astimezone(zone)
    local_end = datetime.combine(today, end, tzinfo=UTC).astimezone(zone)
    return f"{local_start:%H:%M}\N{EN DASH}{local_end:%H:%M} {local_start:%Z}"
