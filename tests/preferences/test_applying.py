"""The preferences at work: sign-in, the browser's zone, the live polls, the formats."""

from datetime import UTC, date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from backups.models import Backup
from backups.templatetags import console
from preferences import formatting
from preferences.models import Preference
from preferences.services import language_for
from tests.factories import BackupFactory
from tests.helpers import HTMX, signed_in, text

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 3, 3, 12, 33, tzinfo=UTC)


def test_signing_in_applies_the_saved_language_and_zone(operator, instance):
    Preference.objects.create(user=operator, language="de", time_zone="Asia/Tokyo")
    backup = BackupFactory(instance=instance, requested_at=MOMENT, started_at=MOMENT)
    client = Client()
    response = client.post(reverse("login"), {"username": "oscar", "password": "pw-for-tests"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    html = text(client.get(reverse("backups:backup_detail", args=[backup.pk])))
    assert '<html lang="de"' in html
    assert "03.12.2026, 12:12:33 JST" in html  # Tokyo is UTC+9
    assert 'data-utc="2026-12-03 03:12:33 UTC"' in html


def test_the_browsers_zone_is_used_when_none_was_chosen(operator_client, instance):
    backup = BackupFactory(instance=instance, requested_at=MOMENT, started_at=MOMENT)
    operator_client.cookies["console_tz"] = "Europe/Berlin"
    html = text(operator_client.get(reverse("backups:backup_detail", args=[backup.pk])))
    assert ">2026-12-03 04:12:33 CET</time>" in html
    assert 'title="2026-12-03 03:12:33 UTC" tabindex="0"' in html
    assert '<span class="sr-only"> (2026-12-03 03:12:33 UTC)</span>' in html


@pytest.mark.parametrize("bogus", ["Mars/Base", "../../etc/passwd", "localtime", "x" * 300])
def test_a_bogus_browser_zone_is_ignored(operator_client, instance, bogus):
    backup = BackupFactory(instance=instance, requested_at=MOMENT, started_at=MOMENT)
    operator_client.cookies["console_tz"] = bogus
    html = text(operator_client.get(reverse("backups:backup_detail", args=[backup.pk])))
    assert ">2026-12-03 03:12:33 UTC</time>" in html


def test_a_chosen_zone_wins_over_the_browsers(operator, instance):
    Preference.objects.create(user=operator, time_zone="America/New_York")
    backup = BackupFactory(instance=instance, requested_at=MOMENT, started_at=MOMENT)
    client = signed_in(operator)
    client.cookies["console_tz"] = "Europe/Berlin"
    html = text(client.get(reverse("backups:backup_detail", args=[backup.pk])))
    assert ">2026-12-02 22:12:33 EST</time>" in html


def test_the_live_poll_speaks_the_cookies_language_without_loading_the_session(operator, instance):
    Preference.objects.create(user=operator, language="de")
    backup = BackupFactory(instance=instance, running=True)
    client = signed_in(operator)
    client.cookies["console_tz"] = "Asia/Tokyo"
    page = client.get(reverse("backups:history"))
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"  # set by the page's answer
    html = text(page)
    row = html.split('name="live" value="', 1)[1].split('"', 1)[0]
    poll_pass = html.split('id="poll-pass" name="poll" value="', 1)[1].split('"', 1)[0]
    Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.COMPLETED, progress=100, size_kb=1536 * 1024)
    with mock.patch.object(SessionStore, "load", side_effect=AssertionError("the poll loaded the session")):
        response = client.get(reverse("backups:history_live"), {"live": row, "poll": poll_pass}, **HTMX)
    assert response.headers["Content-Language"] == "de"
    answer = text(response)
    assert "1,5 GB" in answer  # German decimals
    assert "JST" in answer  # the browser's zone, from its cookie


def test_the_live_poll_shows_a_chosen_zone_over_the_browsers(operator, instance):
    Preference.objects.create(user=operator, time_zone="America/New_York")
    backup = BackupFactory(instance=instance, running=True)
    client = signed_in(operator)
    client.cookies["console_tz"] = "Asia/Tokyo"
    html = text(client.get(reverse("backups:history")))
    assert client.cookies["console_zone"].value == "America/New_York"  # mirrored for the polls
    row = html.split('name="live" value="', 1)[1].split('"', 1)[0]
    poll_pass = html.split('id="poll-pass" name="poll" value="', 1)[1].split('"', 1)[0]
    Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.COMPLETED, progress=100)
    with mock.patch.object(SessionStore, "load", side_effect=AssertionError("the poll loaded the session")):
        answer = text(client.get(reverse("backups:history_live"), {"live": row, "poll": poll_pass}, **HTMX))
    assert "EST" in answer
    assert "JST" not in answer
    # Back to the browser's: the mirror goes, and the page follows the browser again.
    client.post(reverse("preferences:edit"), {"language": "", "time_zone": "", "theme": "auto"})
    assert "console_zone" not in {name for name, cookie in client.cookies.items() if cookie.value}
    assert "JST" in text(client.get(reverse("backups:history")))


def test_times_show_in_the_viewers_zone_and_language():
    with timezone.override(ZoneInfo("Europe/Berlin")):
        with translation.override("en"):
            assert ">2026-12-03 04:12:33 CET</time>" in console.exact_time(MOMENT)
        with translation.override("de"):
            html = console.exact_time(MOMENT)
            assert ">03.12.2026, 04:12:33 CET</time>" in html
            assert 'data-utc="2026-12-03 03:12:33 UTC"' in html
            assert 'title="2026-12-03 03:12:33 UTC"' in html


def test_a_daily_window_kept_in_utc_shows_in_the_viewers_zone_summer_time_included():
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert formatting.window_text("16:00-17:00", on=date(2026, 12, 3)) == "17:00\N{EN DASH}18:00 CET"
        assert formatting.window_text("23:30-00:30", on=date(2026, 7, 1)) == "01:30\N{EN DASH}02:30 CEST"
        assert formatting.window_text("not a window") == "not a window"
    with timezone.override(ZoneInfo("UTC")):
        assert console.daily_window("16:00-17:00") == "16:00\N{EN DASH}17:00 UTC"


def test_relative_times_carry_the_local_and_the_utc_time():
    with timezone.override(ZoneInfo("Europe/Berlin")), translation.override("en"):
        html = console.reltime(timezone.now())
    assert ">just now</time>" in html
    assert " CET · " in html  # local · UTC
    assert html.count(" UTC") == 3  # on hover, for the focus tooltip, and in the hidden copy


def test_german_numbers_and_dates():
    with translation.override("de"):
        assert console.size_kb(1536 * 1024) == "1,5 GB"
        rendered = Template("{% load humanize %}{{ count|intcomma }} {{ when|date }}").render(
            Context({"count": 12345, "when": MOMENT})
        )
        assert rendered == "12.345 03.12.2026"
    with translation.override("en"):
        assert console.size_kb(1536 * 1024) == "1.5 GB"
        assert Template("{% load humanize %}{{ count|intcomma }}").render(Context({"count": 12345})) == "12,345"


def test_the_javascript_catalogue_is_served_per_language_and_cacheable():
    response = Client().get(reverse("preferences:javascript_catalog", args=["de"]))
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert "public" in response.headers["Cache-Control"]
    assert "Last-Modified" in response.headers
    assert Client().get("/jsi18n/xx.js").status_code == 404


def test_workers_write_in_the_users_language(operator):
    assert language_for(operator) == settings.LANGUAGE_CODE
    Preference.objects.create(user=operator, language="de")
    assert language_for(operator) == "de"
    assert language_for(None) == settings.LANGUAGE_CODE
