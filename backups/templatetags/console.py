"""The console's small pieces of presentation: status badges, times, sizes, durations,
icons and permission checks. The rows of the two long lists are `table_rows.py`.
Written as Python because a list page calls them 50 times or more: they must cost
microseconds."""

from datetime import datetime, timedelta
from html import escape as escape_html

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language, gettext, pgettext

from access.permissions import Action, user_can
from access.selectors.projects import RoleSummary
from access.selectors.projects import role_summary as _role_summary
from backups import rules
from backups.explanations import explain
from backups.models import Backup
from preferences.formatting import (
    decimal_separator,
    local_date,
    local_text,
    relative_text,
    time_html,
    utc_text,
    window_text,
)

register = template.Library()

# A dash for nothing, which screen readers read as a word ("none"), in each language (a
# label on a plain span is one axe-core refuses: the word is a visually hidden text).
_EMPTY: dict[str, SafeString] = {}


def _empty() -> SafeString:
    language = get_language()
    html = _EMPTY.get(language)
    if html is None:
        # Translators: read by screen readers for a dash in a table cell: no value.
        html = _EMPTY[language] = format_html(
            '<span class="muted"><span aria-hidden="true">—</span><span class="sr-only">{}</span></span>',
            gettext("none"),
        )
    return html


def format_html_fast(template: str, **values) -> SafeString:
    """`format_html` for values that are never lazy strings: each is escaped unless already
    safe, as there, without the lazy-string checks that cost Django's version ~2 µs a value."""
    escaped = {name: v if isinstance(v, SafeData) else escape_html(str(v)) for name, v in values.items()}
    return mark_safe(template.format_map(escaped))  # noqa: S308 - every value escaped above


# One meaning per colour: grey waiting, blue working, green done, red failed, amber unsure.
BACKUP_TONE: dict[str, str] = {
    Backup.Status.QUEUED: "queued",
    Backup.Status.SUBMITTING: "running",
    Backup.Status.RUNNING: "running",
    Backup.Status.COMPLETED: "completed",
    Backup.Status.FAILED: "failed",
    Backup.Status.UNKNOWN: "unknown",
}
INSTANCE_TONE = {
    "normal": "completed",
    "creating": "running",
    "frozen": "unknown",
    "data_disk_full": "unknown",
    "abnormal": "failed",
    "createfail": "failed",
    "enlargefail": "failed",
}


# The badge of each status, made once per language: most rows need nothing more.
_STATUS_BADGES: dict[str, dict[str, SafeString]] = {}


def _status_badges() -> dict[str, SafeString]:
    language = get_language()
    badges = _STATUS_BADGES.get(language)
    if badges is None:
        badges = _STATUS_BADGES[language] = {
            status: format_html('<span class="status status-{}">{}</span>', BACKUP_TONE[status], str(label))
            for status, label in Backup.Status.choices
        }
    return badges


@register.simple_tag
def status_badge(backup: Backup) -> SafeString:
    """The backup's status as a word in its colour; running ones add a progress bar."""
    html = _status_badges().get(backup.status)
    if html is None:
        html = format_html('<span class="status status-queued">{}</span>', backup.status)
    if backup.overdue and backup.is_active:
        html = format_html(
            '{} <span class="status status-unknown" title="{}">{}</span>',
            html,
            gettext("Running much longer than this instance usually needs"),
            gettext("Overdue"),
        )
    if backup.status == Backup.Status.RUNNING and backup.progress is None:
        # The cloud does not report this backup's progress: say so rather than show 0 %.
        html = format_html(
            '{}<span class="progress-line"><progress max="100" aria-label="{}"></progress>'
            '<span class="muted small">{}</span></span>',
            html,
            gettext("Progress unknown"),
            gettext("progress unknown"),
        )
    elif backup.status == Backup.Status.RUNNING:
        html = format_html(
            '{}<span class="progress-line"><progress max="100" value="{}" aria-label="{}">{}%</progress>'
            '<span class="num">{}%</span></span>',
            html,
            backup.progress,
            gettext("Progress"),
            backup.progress,
            backup.progress,
        )
    return html


# Protection in the status colours: protected green, at risk amber, unprotected red.
_PROTECTION_TONE = {"protected": "completed", "at_risk": "unknown", "unprotected": "failed"}


@register.simple_tag
def protection_badge(instance) -> SafeString:
    """The instance's protection status as a word in its colour, with its reason on hover."""
    if not instance.protection_status:
        return format_html('<span class="status status-queued">{}</span>', gettext("Not assessed"))
    return format_html(
        '<span class="status status-{}" title="{}">{}</span>',
        _PROTECTION_TONE[instance.protection_status],
        instance.protection_reason,
        instance.get_protection_status_display(),
    )


@register.filter
def progress_text(backup: Backup) -> str:
    """ "42%", or "progress unknown" when the cloud does not report it."""
    return gettext("progress unknown") if backup.progress is None else f"{backup.progress}%"


@register.simple_tag
def instance_status(status: str, gone: bool = False) -> SafeString:
    if gone:
        # Translators: an instance that no longer exists in the cloud.
        return format_html('<span class="status status-queued">{}</span>', pgettext("instance", "Gone"))
    return format_html(
        '<span class="status status-{}">{}</span>',
        INSTANCE_TONE.get(status, "unknown"),
        rules.instance_status_label(status),
    )


@register.filter
def reltime(value: datetime | None) -> SafeString:
    """'3 min ago' (or 'in 5 h'), with the exact time, local and UTC, on hover and focus (a month
    or more away: the local date)."""
    if not value:
        return _empty()
    seconds = int((timezone.now() - value).total_seconds())
    language = get_language()  # once: it costs a microsecond a call
    # A time to come (the next backup window) reads "in 5 h".
    future = seconds < -10
    text = relative_text(-seconds if future else seconds, future=future, language=language)
    utc_exact, local = utc_text(value), local_text(value, language)
    hover = utc_exact if local.endswith(" UTC") else f"{local} · {utc_exact}"
    return time_html(value, escape_html(text or local_date(value, language)), hover, utc_exact)


@register.filter
def exact_time(value: datetime | None) -> SafeString:
    """The exact time in the viewer's zone, for detail pages; UTC on hover and focus."""
    if not value:
        return _empty()
    utc_exact = utc_text(value)
    return time_html(value, local_text(value), utc_exact, utc_exact)


@register.filter
def daily_window(value: str) -> str:
    """A daily window the cloud keeps in UTC ("16:00-17:00") in the viewer's zone: "17:00 to 18:00 CET"."""
    return window_text(value)


@register.filter
def size_kb(value: int | None) -> str:
    """A size given in KB (as the cloud reports it) in human units: 1.5 GB, in German 1,5 GB."""
    if value is None:
        return _empty()
    size = float(value)
    for unit in ("KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            if unit == "KB":
                return f"{size:.0f} {unit}"
            return f"{size:.1f} {unit}".replace(".", decimal_separator())
        size /= 1024
    return _empty()  # pragma: no cover - the loop always returns


@register.filter
def duration(value: timedelta | None) -> str:
    """'45 s', '3 min 12 s', '2 h 05 min'."""
    if value is None:
        return _empty()
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return gettext("%(seconds)d s") % {"seconds": seconds}
    if seconds < 3600:
        return gettext("%(minutes)d min %(seconds)02d s") % {"minutes": seconds // 60, "seconds": seconds % 60}
    return gettext("%(hours)d h %(minutes)02d min") % {"hours": seconds // 3600, "minutes": seconds % 3600 // 60}


@register.filter
def backup_duration(backup: Backup) -> str:
    """How long it took, or for an active backup how long it has been running so far."""
    if backup.duration is not None:
        return duration(backup.duration)
    if backup.is_active and backup.started_at:
        # `data-elapsed`: static/js/console.js counts on from here between live refreshes.
        elapsed = max(0, int((timezone.now() - backup.started_at).total_seconds()))
        return format_html(
            '<span class="muted" data-elapsed="{}">{}</span>',
            elapsed,
            gettext("%(duration)s so far") % {"duration": duration(timedelta(seconds=elapsed))},
        )
    return _empty()


@register.filter
def explain_summary(error_code: str) -> str:
    explanation = explain(error_code)
    return str(explanation.summary) if explanation else ""


@register.filter
def requester(backup: Backup) -> str:
    """Who asked for the backup: a person, or where it came from."""
    if backup.requested_by_id and backup.requested_by:
        return backup.requested_by.get_full_name() or backup.requested_by.username
    if backup.origin == Backup.Origin.CLOUD_AUTO:
        # Translators: who asked for a backup: the cloud's automated backup policy.
        return gettext("Automated")
    if backup.origin == Backup.Origin.CLOUD_MANUAL:
        return gettext("Cloud console")
    return gettext("A former user")


_STAND_IN_PK = 987654321987654321


@register.simple_tag(takes_context=True)
def pk_url(context, view: str, obj) -> str:
    """`{% url "backups:<view>" obj.pk %}` at a fraction of the cost, for list rows: reverse()
    runs once per view and page render, for a stand-in pk that each row's pk replaces."""
    urls = context.render_context.get("console.pk_urls")
    if urls is None:
        urls = context.render_context["console.pk_urls"] = {}
    if view not in urls:
        urls[view] = reverse(f"backups:{view}", args=[_STAND_IN_PK]).partition(str(_STAND_IN_PK))
    before, _, after = urls[view]
    return f"{before}{obj.pk}{after}"


@register.simple_tag(takes_context=True)
def icon(context, name: str, label: str = "") -> SafeString:
    """An icon from the local sprite; decorative unless it has a label."""
    # The sprite's hashed URL once per page render: a row may carry an icon, 50 rows a page.
    sprite = context.render_context.get("console.sprite")
    if sprite is None:
        sprite = context.render_context["console.sprite"] = static("img/icons.svg")
    aria = format_html('role="img" aria-label="{}"', label) if label else mark_safe('aria-hidden="true"')
    return format_html('<svg class="icon" {} focusable="false"><use href="{}#{}"></use></svg>', aria, sprite, name)


@register.simple_tag(takes_context=True)
def can(context, action: str, project) -> bool:
    """`{% can "backup" project as allowed %}`: the one permission check, in templates."""
    return user_can(context["user"], Action(action), project)


@register.simple_tag
def role_summary(user) -> RoleSummary:
    return _role_summary(user)


# The shared template pieces of templates/inc/: a table's columns and a filter bar's fields.


@register.filter
def table_columns(spec: str) -> list[tuple[str, str, bool]]:
    """`"Instance,Size:num,Actions:col-action:sr-only"` as (label, class, sr_only) per column, for
    `inc/table_head.html`: a label, then optionally its class and `sr-only` for a label that only
    screen readers read. Labels hold no comma or colon."""
    columns = []
    for column in spec.split(","):
        label, _, rest = column.partition(":")
        css, _, flag = rest.partition(":")
        if flag not in ("", "sr-only"):
            raise template.TemplateSyntaxError(f"table_columns: {column!r} ends in neither a class nor :sr-only")
        columns.append((label, css, flag == "sr-only"))
    return columns


@register.filter
def fields_except(form, names: str) -> list:
    """The form's fields but those named, comma-separated: `form|fields_except:"q,page"`."""
    skip = names.split(",")
    return [field for field in form if field.name not in skip]
