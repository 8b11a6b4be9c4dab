"""The console's small pieces of presentation: status badges, times, sizes, durations,
icons and permission checks. The rows of the two long lists are `table_rows.py`.
Written as Python because a list page calls them 50 times or more: they must cost
microseconds."""

from datetime import UTC, datetime, timedelta
from html import escape as escape_html

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeData, SafeString, mark_safe

from access.permissions import Action, user_can
from access.selectors.projects import RoleSummary
from access.selectors.projects import role_summary as _role_summary
from backups import rules
from backups.explanations import explain
from backups.models import Backup

register = template.Library()

EMPTY = mark_safe('<span class="muted" aria-label="none">—</span>')


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


# The badge of each status, made once: most rows need nothing more.
_STATUS_BADGE = {
    status: format_html('<span class="status status-{}">{}</span>', BACKUP_TONE[status], label)
    for status, label in Backup.Status.choices
}


@register.simple_tag
def status_badge(backup: Backup) -> SafeString:
    """The backup's status as a word in its colour; running ones add a progress bar."""
    html = _STATUS_BADGE.get(backup.status)
    if html is None:
        html = format_html('<span class="status status-queued">{}</span>', backup.status)
    if backup.overdue and backup.is_active:
        html = format_html(
            '{} <span class="status status-unknown" title="Running much longer than this instance usually needs">'
            "Overdue</span>",
            html,
        )
    if backup.status == Backup.Status.RUNNING and backup.progress is None:
        # The cloud does not report this backup's progress: say so rather than show 0 %.
        html = format_html(
            '{}<span class="progress-line"><progress max="100" aria-label="Progress unknown"></progress>'
            '<span class="muted small">progress unknown</span></span>',
            html,
        )
    elif backup.status == Backup.Status.RUNNING:
        html = format_html(
            '{}<span class="progress-line"><progress max="100" value="{}" aria-label="Progress">{}%</progress>'
            '<span class="num">{}%</span></span>',
            html,
            backup.progress,
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
        return format_html('<span class="status status-queued">{}</span>', "Not assessed")
    return format_html(
        '<span class="status status-{}" title="{}">{}</span>',
        _PROTECTION_TONE[instance.protection_status],
        instance.protection_reason,
        instance.get_protection_status_display(),
    )


@register.filter
def progress_text(backup: Backup) -> str:
    """ "42%", or "progress unknown" when the cloud does not report it."""
    return "progress unknown" if backup.progress is None else f"{backup.progress}%"


@register.simple_tag
def instance_status(status: str, gone: bool = False) -> SafeString:
    if gone:
        return format_html('<span class="status status-queued">{}</span>', "Gone")
    return format_html(
        '<span class="status status-{}">{}</span>',
        INSTANCE_TONE.get(status, "unknown"),
        rules.instance_status_label(status),
    )


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    if seconds < 30 * 86400:
        days = seconds // 86400
        return f"{days} day{'s' if days > 1 else ''} ago"
    return ""


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def reltime(value: datetime | None) -> SafeString:
    """'3 min ago' (or 'in 5 h'), with the exact UTC time on hover (a month or more away: the date)."""
    if not value:
        return EMPTY
    delta = timezone.now() - value
    if delta < timedelta(seconds=-10):  # a time to come (the next backup window): "in 5 h"
        text = _ago(-delta).replace(" ago", "")
        text = f"in {text}" if text else ""
    else:
        text = _ago(delta)
    text = text or value.astimezone(UTC).strftime("%Y-%m-%d")
    # Digits, letters and punctuation of our own making: nothing to escape (format_html's
    # escaping is most of this filter's cost, and a history page calls it 50 times).
    return mark_safe(f'<time datetime="{value.isoformat()}" title="{utc_text(value)}">{text}</time>')  # noqa: S308


@register.filter
def utc(value: datetime | None) -> SafeString:
    """The exact time in UTC, for detail pages."""
    if not value:
        return EMPTY
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), utc_text(value))


@register.filter
def size_kb(value: int | None) -> str:
    """A size given in KB (as the cloud reports it) in human units."""
    if value is None:
        return EMPTY
    size = float(value)
    for unit in ("KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "KB" else f"{size:.1f} {unit}"
        size /= 1024
    return EMPTY  # pragma: no cover - the loop always returns


@register.filter
def duration(value: timedelta | None) -> str:
    """'45 s', '3 min 12 s', '2 h 05 min'."""
    if value is None:
        return EMPTY
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@register.filter
def backup_duration(backup: Backup) -> str:
    """How long it took, or for an active backup how long it has been running so far."""
    if backup.duration is not None:
        return duration(backup.duration)
    if backup.is_active and backup.started_at:
        # `data-elapsed`: static/js/console.js counts on from here between live refreshes.
        elapsed = max(0, int((timezone.now() - backup.started_at).total_seconds()))
        return format_html(
            '<span class="muted" data-elapsed="{}">{} so far</span>', elapsed, duration(timedelta(seconds=elapsed))
        )
    return EMPTY


@register.filter
def explain_summary(error_code: str) -> str:
    explanation = explain(error_code)
    return explanation.summary if explanation else ""


@register.filter
def requester(backup: Backup) -> str:
    """Who asked for the backup: a person, or where it came from."""
    if backup.requested_by_id and backup.requested_by:
        return backup.requested_by.get_full_name() or backup.requested_by.username
    if backup.origin == Backup.Origin.CLOUD_AUTO:
        return "Automated"
    if backup.origin == Backup.Origin.CLOUD_MANUAL:
        return "Cloud console"
    return "A former user"


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
