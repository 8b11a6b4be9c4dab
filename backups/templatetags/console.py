"""The console's small pieces of presentation: status badges, times, sizes, durations,
icons and permission checks. Written as Python (not included templates) because a
history page renders them 50 times; they must cost microseconds."""

from datetime import UTC, datetime, timedelta

from django import template
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from backups import rules, selectors
from backups.explanations import explain
from backups.models import Backup
from backups.permissions import Action, user_can

register = template.Library()

EMPTY = mark_safe('<span class="muted" aria-label="none">—</span>')

# One meaning per colour: grey waiting, blue working, green done, red failed, amber unsure.
BACKUP_TONE = {
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


@register.simple_tag
def status_badge(backup: Backup) -> SafeString:
    """The backup's status as a word in its colour; running ones add a progress bar."""
    tone = BACKUP_TONE.get(backup.status, "queued")
    html = format_html('<span class="status status-{}">{}</span>', tone, backup.get_status_display())
    if backup.overdue and backup.is_active:
        html = format_html(
            '{} <span class="status status-unknown" title="Running much longer than this instance usually needs">'
            "Overdue</span>",
            html,
        )
    if backup.status == Backup.Status.RUNNING:
        html = format_html(
            '{}<span class="progress-line"><progress max="100" value="{}" aria-label="Progress">{}%</progress>'
            '<span class="num">{}%</span></span>',
            html,
            backup.progress,
            backup.progress,
            backup.progress,
        )
    return html


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
    """'3 min ago', with the exact UTC time on hover (older than a month: the date)."""
    if not value:
        return EMPTY
    text = _ago(timezone.now() - value) or value.astimezone(UTC).strftime("%Y-%m-%d")
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), utc_text(value), text)


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
        return format_html('<span class="muted">{} so far</span>', duration(timezone.now() - backup.started_at))
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


@register.simple_tag
def icon(name: str, label: str = "") -> SafeString:
    """An icon from the local sprite; decorative unless it has a label."""
    aria = format_html('role="img" aria-label="{}"', label) if label else mark_safe('aria-hidden="true"')
    return format_html(
        '<svg class="icon" {} focusable="false"><use href="{}#{}"></use></svg>', aria, static("img/icons.svg"), name
    )


@register.simple_tag(takes_context=True)
def can(context, action: str, project) -> bool:
    """`{% can "backup" project as allowed %}`: the one permission check, in templates."""
    return user_can(context["user"], Action(action), project)


@register.simple_tag
def role_summary(user) -> selectors.RoleSummary:
    return selectors.role_summary(user)
