"""The small presentation helpers every page uses."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from backups.models import Backup
from backups.templatetags import console
from tests.factories import BackupFactory, InstanceFactory


@pytest.mark.parametrize(
    ("kb", "expected"),
    [
        (0, "0 KB"),
        (1023, "1023 KB"),
        (1024, "1.0 MB"),
        (1536 * 1024, "1.5 GB"),
        (3 * 1024**3, "3.0 TB"),
        (5 * 1024**4, "5120.0 TB"),
    ],
)
def test_sizes_are_human(kb, expected):
    assert console.size_kb(kb) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, "0 s"), (59, "59 s"), (61, "1 min 01 s"), (3599, "59 min 59 s"), (3660, "1 h 01 min")]
)
def test_durations_are_short(seconds, expected):
    assert console.duration(timedelta(seconds=seconds)) == expected


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(seconds=3), "just now"),
        (timedelta(seconds=42), "42 s ago"),
        (timedelta(minutes=5), "5 min ago"),
        (timedelta(hours=3), "3 h ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=12), "12 days ago"),
    ],
)
def test_relative_times_carry_the_exact_utc_time(ago, expected):
    moment = timezone.now() - ago
    html = console.reltime(moment)
    assert f">{expected}</time>" in html
    assert f'title="{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"' in html


def test_old_times_show_the_date():
    assert ">2020-02-03</time>" in console.reltime(datetime(2020, 2, 3, 4, 5, tzinfo=UTC))


def test_missing_values_show_a_dash():
    for render in (console.reltime, console.exact_time, console.size_kb, console.duration):
        assert "—" in render(None)


@pytest.mark.parametrize(
    ("status", "tone"),
    [
        ("queued", "queued"),
        ("submitting", "running"),
        ("running", "running"),
        ("completed", "completed"),
        ("failed", "failed"),
        ("unknown", "unknown"),
    ],
)
def test_every_status_has_its_colour_and_its_word(status, tone):
    backup = Backup(status=status, progress=30)
    html = console.status_badge(backup)
    assert f'class="status status-{tone}">{backup.get_status_display()}</span>' in html
    assert ("<progress" in html) == (status == "running")


def test_requester_names_the_origin_when_nobody_here_asked():
    assert console.requester(Backup(origin=Backup.Origin.CLOUD_AUTO)) == "Automated"
    assert console.requester(Backup(origin=Backup.Origin.CLOUD_MANUAL)) == "Cloud console"
    assert console.requester(Backup(origin=Backup.Origin.DASHBOARD)) == "A former user"


def test_icons_come_from_the_local_sprite():
    html = Template('{% load console %}{% icon "refresh" %}').render(Context())
    assert 'href="/static/img/icons.svg#refresh"' in html
    assert 'aria-hidden="true"' in html


def test_every_icon_the_templates_use_is_in_the_sprite():
    root = Path(__file__).resolve().parents[3]
    sprite = (root / "static/img/icons.svg").read_text()
    used = set()
    for template in (root / "backups/templates").rglob("*.html"):
        used |= set(re.findall(r'{% icon "([a-z-]+)"', template.read_text()))
    assert used
    assert {name for name in used if f'<symbol id="{name}"' not in sprite} == set()


@pytest.mark.parametrize("view", ["backup_detail", "instance_detail", "backup_create"])
def test_list_row_urls_match_reverse(view):
    template = Template("{% load console %}{% pk_url view first %} {% pk_url view second %}")
    first, second = Backup(pk=7), Backup(pk=123456)
    html = template.render(Context({"view": view, "first": first, "second": second}))
    assert html == f"{reverse(f'backups:{view}', args=[7])} {reverse(f'backups:{view}', args=[123456])}"


def test_a_status_outside_the_known_ones_is_shown_as_is():
    assert console.status_badge(Backup(status="<new>")) == '<span class="status status-queued">&lt;new&gt;</span>'


def test_format_html_shortcut_escapes_like_django():
    value = "<a href=\"x\">'&'</a>"
    assert console.format_html_fast("<p>{v}</p>", v=value) == format_html("<p>{}</p>", value)
    assert console.format_html_fast("<p>{v}</p>", v=mark_safe("<b>ok</b>")) == "<p><b>ok</b></p>"


def test_instance_rows_escape_what_the_cloud_named(operator_client, project):
    instance = InstanceFactory(project=project, name="<i>orders</i>", mode="<b>", datastore_version="")
    BackupFactory(instance=instance, name="<script>x</script>")
    html = operator_client.get(reverse("backups:instances")).content.decode()
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert '<span class="strong">&lt;i&gt;orders&lt;/i&gt;</span>' in html
    assert '<td data-label="Mode">&lt;b&gt;</td>' in html
    assert '<td data-label="Version">—</td>' in html


def test_relative_times_speak_the_viewers_language():
    now = timezone.now()
    with translation.override("de"):
        assert ">vor 5 min</time>" in console.reltime(now - timedelta(minutes=5))
        assert ">vor 12 Tagen</time>" in console.reltime(now - timedelta(days=12))
        assert ">in 5 h</time>" in console.reltime(now + timedelta(hours=5, minutes=1))
    with translation.override("en"):
        assert ">in 5 h</time>" in console.reltime(now + timedelta(hours=5, minutes=1))
        assert ">in 2 days</time>" in console.reltime(now + timedelta(days=2, minutes=1))


def test_old_times_show_the_local_date_as_the_language_writes_it():
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        with translation.override("de"):
            assert ">04.02.2020</time>" in console.reltime(datetime(2020, 2, 3, 20, 5, tzinfo=UTC))
        with translation.override("en"):
            assert ">2020-02-04</time>" in console.reltime(datetime(2020, 2, 3, 20, 5, tzinfo=UTC))


def test_exact_times_are_local_with_utc_on_hover_focus_and_for_screen_readers():
    moment = datetime(2026, 7, 1, 10, 0, 0, tzinfo=UTC)
    with timezone.override(ZoneInfo("Europe/Berlin")), translation.override("en"):
        html = console.exact_time(moment)
    assert html == (
        '<time datetime="2026-07-01T10:00:00+00:00" title="2026-07-01 10:00:00 UTC" tabindex="0" '
        'data-utc="2026-07-01 10:00:00 UTC">2026-07-01 12:00:00 CEST</time>'
        '<span class="sr-only"> (2026-07-01 10:00:00 UTC)</span>'
    )
    # Read in UTC, the time needs no second copy.
    assert "sr-only" not in console.exact_time(moment)


def test_badges_and_cells_follow_the_language_of_each_request():
    backup = Backup(status="completed")
    with translation.override("en"):
        english = console.status_badge(backup)
    with translation.override("de"):
        german = console.status_badge(backup)
    assert ">Completed</span>" in english
    assert german != english


def test_sizes_use_the_languages_decimal_separator():
    with translation.override("de"):
        assert console.size_kb(1536 * 1024) == "1,5 GB"
        assert console.size_kb(1023) == "1023 KB"
