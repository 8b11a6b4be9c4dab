"""The backups pages speak German to a browser that asks for it, and English otherwise."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from backups import timeline
from backups.explanations import explain
from backups.models import Backup, BackupEvent, Instance
from backups.services.protection import instance_protection_update
from tests.factories import BackupEventFactory, BackupFactory

pytestmark = pytest.mark.django_db

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def page(client, url, **extra) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_overview_speaks_german(operator_client, instance):
    html = page(operator_client, reverse("backups:overview"), **GERMAN)
    assert "Übersicht" in html
    assert "Läuft gerade" in html
    assert "Erfordert Aufmerksamkeit" in html
    assert "Needs attention" not in html


def test_overview_stays_english_without_a_german_browser(operator_client, instance):
    html = page(operator_client, reverse("backups:overview"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Needs attention" in html
    assert "Erfordert Aufmerksamkeit" not in html


def test_instances_speak_german_with_plural_and_table_head(operator_client, instance):
    html = page(operator_client, reverse("backups:instances"), **GERMAN)
    assert "Aus der Cloud aktualisieren" in html
    assert "1 Instanz" in html
    assert '<th scope="col">Letzte Sicherung</th>' in html
    assert "Jeder Schutz" in html  # the filter's choices, built per request


def test_history_speaks_german(operator_client, instance, operator):
    BackupFactory.create_batch(2, instance=instance, requested_by=operator, status=Backup.Status.COMPLETED)
    html = page(operator_client, reverse("backups:history"), **GERMAN)
    assert "Sicherungsverlauf" in html
    assert "2 Sicherungen auf dieser Seite" in html
    assert "CSV exportieren" in html
    assert "Abgeschlossen" in html


def test_failed_backup_explains_itself_in_german(operator_client, instance, operator):
    backup = BackupFactory(
        instance=instance,
        requested_by=operator,
        status=Backup.Status.FAILED,
        requested_at=T0,
        finished_at=T0 + timedelta(minutes=1),
        error_code="DBS.201201",
        error_message="The backup already exists.",
    )
    html = page(operator_client, reverse("backups:backup_detail", args=[backup.pk]), **GERMAN)
    assert "Auf der Instanz gibt es bereits eine Sicherung mit diesem Namen." in html
    assert "Nächster Schritt:" in html
    assert "Wählen Sie einen anderen Namen." in html
    assert "Zeitachse" in html


def test_create_backup_form_errors_are_german(operator_client, instance):
    url = reverse("backups:backup_create", args=[instance.pk])
    response = operator_client.post(url, {"name": "1x", "description": ""}, **GERMAN)
    html = unescape(response.content.decode())
    assert "Der Name muss 4 bis 64 Zeichen lang sein (er hat 2)." in html
    assert "Geben Sie eine Beschreibung ein: Die Cloud verlangt eine." in html
    assert "Sicherung erstellen" in html


def test_explanations_are_plain_strings_in_the_active_language():
    with translation.override("de"):
        explanation = explain("LOST")
    assert explanation is not None
    assert type(explanation.summary) is str
    assert explanation.summary == "Die Cloud meldet nichts mehr zu dieser Sicherung."
    with translation.override("en"):
        assert explain("LOST").summary == "The cloud stopped reporting on this backup."


def test_protection_is_stored_in_english_and_shown_in_german(operator_client, instance, operator):
    Instance.objects.filter(pk=instance.pk).update(policy_keep_days=0)
    now = timezone.now()
    BackupFactory(
        instance=instance,
        requested_by=operator,
        status=Backup.Status.COMPLETED,
        started_at=now - timedelta(hours=2),
        finished_at=now - timedelta(hours=1),
    )
    with translation.override("de"):
        instance_protection_update(instance_id=instance.pk)
    instance.refresh_from_db()
    assert instance.protection_status == Instance.Protection.AT_RISK
    assert instance.protection_reason.startswith("The automated backup policy is off")

    html = page(operator_client, reverse("backups:instance_detail", args=[instance.pk]), **GERMAN)
    assert "Die automatische Sicherungsrichtlinie ist aus" in html
    assert "Ein Administrator kann die Richtlinie auf dieser Seite einschalten" in html
    english = page(operator_client, reverse("backups:instance_detail", args=[instance.pk]))
    assert instance.protection_reason in english


Kind = BackupEvent.Kind

# A timeline as the services write it (a code and raw values), one line of each kind a
# backup's life may show; the lost line was last seen at 12:00 UTC, 14:00 in Berlin in May.
LINES = [
    (Kind.REQUESTED, timeline.line(timeline.REQUESTED_THROUGH_API, who="Ada Admin", token="ci")),
    (Kind.SUBMITTED, timeline.line(timeline.SUBMITTED, job_id="job-1", backup_id="bk-1")),
    (Kind.RETRY, timeline.line(timeline.RETRY, attempt=2, error="DBS.200998: System busy (HTTP 503)", seconds=45)),
    (Kind.PROGRESS, timeline.line(timeline.PROGRESS, progress=50)),
    (Kind.COMPLETED, timeline.line(timeline.COMPLETED, size_kb=1536 * 1024, seconds=200)),
    (Kind.FAILED, timeline.line(timeline.FAILED, reason="Disk quota exceeded")),
    (Kind.UNKNOWN, timeline.line(timeline.LOST, last_seen=T0.isoformat())),
]
GERMAN_LINES = [
    "von Ada Admin über die API (Token ci)",
    "Cloud-Job job-1, Sicherung bk-1",
    "Versuch 2 ist gescheitert (DBS.200998: System busy (HTTP 503)); neuer Versuch in 45 s",
    "50 % erledigt",
    "1,5 GB in 3 min 20 s",
    "Disk quota exceeded",  # the cloud's own words, as it wrote them
    "Weder die Job-API noch die Sicherungsliste hat sie seit 01.05.2026, 14:00:00 CEST gezeigt",
]
ENGLISH_LINES = [
    "by Ada Admin through the API (token ci)",
    "Cloud job job-1, backup bk-1",
    "Attempt 2 did not go through (DBS.200998: System busy (HTTP 503)); trying again in 45 s",
    "50% done",
    "1.5 GB in 3 min 20 s",
    "Disk quota exceeded",
    "Neither the jobs API nor the backup list has shown it since 2026-05-01 12:00:00 UTC",
]


def timeline_of(client, backup, **extra) -> list[str]:
    """The lines of a backup's timeline as its page shows them."""
    html = page(client, reverse("backups:backup_detail", args=[backup.pk]), **extra)
    return re.findall(r'<span class="event-message">(.*?)</span>', html)


def backup_with_timeline(instance, operator, lines) -> Backup:
    backup = BackupFactory(instance=instance, requested_by=operator, requested_at=T0)
    for offset, (kind, line) in enumerate(lines):
        BackupEventFactory(
            backup=backup,
            kind=kind,
            at=T0 + timedelta(seconds=offset),
            code=line.code,
            params=line.params,
            message=line.message,
        )
    return backup


def test_a_backups_timeline_reads_in_german_with_times_in_the_viewers_zone(operator_client, instance, operator):
    backup = backup_with_timeline(instance, operator, LINES)
    operator_client.cookies["console_tz"] = "Europe/Berlin"
    assert timeline_of(operator_client, backup, **GERMAN) == GERMAN_LINES


def test_a_backups_timeline_reads_in_english_as_it_is_stored(operator_client, instance, operator):
    backup = backup_with_timeline(instance, operator, LINES)
    assert timeline_of(operator_client, backup, HTTP_ACCEPT_LANGUAGE="en") == ENGLISH_LINES
    assert [line.message for _, line in LINES] == ENGLISH_LINES


def test_timeline_lines_stored_before_codes_or_of_an_unknown_code_show_their_message(
    operator_client, instance, operator
):
    backup = BackupFactory(instance=instance, requested_by=operator, requested_at=T0)
    BackupEventFactory(backup=backup, kind=Kind.REQUESTED, at=T0, message="by Oscar Operator")
    BackupEventFactory(backup=backup, kind=Kind.PROGRESS, at=T0 + timedelta(seconds=1), message="50%")
    BackupEventFactory(
        backup=backup,
        kind=Kind.NOTE,
        at=T0 + timedelta(seconds=2),
        code="written_by_a_later_version",
        params={"what": 1},
        message="A note from the future",
    )
    BackupEventFactory(
        backup=backup,
        kind=Kind.COMPLETED,
        at=T0 + timedelta(seconds=3),
        code=timeline.COMPLETED,
        params={"size": "1.5 GB"},  # values of another shape
        message="1.50 GB in 3 min 20 s",
    )
    expected = ["by Oscar Operator", "50% erledigt", "A note from the future", "1.50 GB in 3 min 20 s"]
    assert timeline_of(operator_client, backup, **GERMAN) == expected
