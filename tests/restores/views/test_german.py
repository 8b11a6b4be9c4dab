"""The restore pages, the sign-in page and the error pages speak German to a browser that asks
for it, and English otherwise: text, attributes, form errors and plain-language failures."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backups import timeline as backup_timeline
from backups.lifecycle import backup_event_record
from backups.models import BackupEvent
from restores import timeline
from restores.lifecycle import restore_transition
from restores.models import Restore, RestoreEvent
from tests.helpers import HTMX

from .conftest import GOOD_PASSWORD, a_restore

pytestmark = pytest.mark.django_db

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def page(client, url, status=200, **extra) -> str:
    response = client.get(url, **extra)
    assert response.status_code == status
    return unescape(response.content.decode())


def test_a_failed_restore_explains_itself_in_german(clients, backup):
    restore = a_restore(backup, status=Restore.Status.FAILED, error_code="DBS.280266", error_message="too small")
    html = page(clients["viewer"], reverse("restores:restore_detail", args=[restore.pk]), **GERMAN)
    assert f"Wiederherstellung auf {restore.target_name}" in html
    assert "Fehlgeschlagen" in html
    assert "Die Cloud hat den Speicher abgelehnt" in html
    assert "Nächster Schritt:" in html
    assert "Zeitachse" in html
    assert "Angefordert" in html  # the timeline event's kind
    assert "5 Knoten \u00d7" in html
    assert 'aria-label="Breadcrumb"' not in html
    assert "What to do next" not in html


def test_a_proven_rehearsal_speaks_german(clients, backup):
    rehearsal = a_restore(
        backup, kind=Restore.Kind.REHEARSAL, status=Restore.Status.COMPLETED, cleanup_status=Restore.Cleanup.DELETED
    )
    rehearsal.finished_at = rehearsal.submitted_at + timedelta(minutes=4, seconds=12)
    rehearsal.save()
    html = page(clients["viewer"], reverse("restores:restore_detail", args=[rehearsal.pk]), **GERMAN)
    assert "Wiederherstellungsprobe von orders-prod" in html
    assert "Erprobt: orders-nightly in 4 min 12 s wiederhergestellt." in html
    assert f"Die temporäre Instanz {rehearsal.target_name} wurde gelöscht." in html


def test_the_restore_form_and_its_errors_speak_german(admin_client, backup):
    url = reverse("restores:restore_create", args=[backup.pk])
    html = page(admin_client, url, **GERMAN)
    assert "orders-nightly auf eine neue Instanz wiederherstellen" in html
    assert "Name der neuen Instanz" in html
    assert "Mindestens 5, so viele wie orders-prod hat; höchstens 200." in html
    assert "Dies erstellt eine neue, kostenpflichtige Instanz." in html
    assert 'aria-label="Wird angefordert"' in html

    answer = admin_client.post(
        url,
        {"target_name": "orders-restored", "password": GOOD_PASSWORD, "password_again": "x", "node_count": "4"},
        **GERMAN,
    )
    html = unescape(answer.content.decode())
    assert "Die beiden Passwörter stimmen nicht überein." in html
    assert "Die neue Instanz braucht mindestens 5 Knoten, so viele wie das Original hat." in html
    assert "Geben Sie die VPC-ID ein." in html
    assert "Geben Sie genau orders-restored ein" in html
    assert not Restore.objects.exists()


def test_the_point_in_time_window_speaks_german(admin_client, source):
    window = reverse("restores:restore_window", args=[source.pk])
    html = page(admin_client, window, **HTMX, **GERMAN)
    assert "Die Cloud meldet keinen Zeitpunkt, auf den orders-prod wiederhergestellt werden kann." in html


def test_the_instance_page_restore_card_speaks_german(admin_client, source, backup):
    html = page(admin_client, reverse("backups:instance_detail", args=[source.pk]), **GERMAN)
    assert "Wiederherstellungen und Proben" in html
    assert "Nie erprobt" in html
    assert "Jetzt proben" in html


def test_the_restore_pages_stay_english_for_an_english_browser(clients, admin_client, backup):
    restore = a_restore(backup, status=Restore.Status.FAILED, error_code="DBS.280266")
    html = page(clients["viewer"], reverse("restores:restore_detail", args=[restore.pk]), **ENGLISH)
    assert "What to do next:" in html
    assert "The cloud refused the storage" in html
    assert "Nächster Schritt" not in html
    html = page(admin_client, reverse("restores:restore_create", args=[backup.pk]), **ENGLISH)
    assert "This creates a new, billable instance." in html


def test_sign_in_and_error_pages_speak_german(clients):
    html = page(Client(), reverse("login"), **GERMAN)
    assert '<h1 id="signin-title">Anmelden</h1>' in html
    assert "Benutzername" in html
    assert "Sichern Sie Ihre GeminiDB-Cassandra-Instanzen" in html
    html = page(clients["viewer"], "/no-such-page/", status=404, **GERMAN)
    assert "Nicht gefunden" in html
    assert "Zurück zur Übersicht" in html


Kind = RestoreEvent.Kind
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)  # 14:00 in Berlin in May

# A restore's timeline as the services write it (a code and raw values), after the row
# a_restore writes with no code.
LINES = [
    (
        Kind.REQUESTED,
        timeline.line(
            timeline.REQUESTED_TO_A_TIME,
            instance="orders-prod",
            time=T0.isoformat(),
            target="orders-restored",
            who=None,
        ),
    ),
    (Kind.SUBMITTED, timeline.line(timeline.SUBMITTED, instance_id="in-1", job_id="job-1")),
    (Kind.RETRY, timeline.line(timeline.RETRY, attempt=2, error="DBS.200998: System busy (HTTP 503)", seconds=90)),
    (Kind.PROGRESS, timeline.line(timeline.PROGRESS, progress=50)),
    (Kind.UNKNOWN, timeline.line(timeline.LOST, last_seen=T0.isoformat())),
    (Kind.FAILED, timeline.line(timeline.SUBMIT_FAILED, error_code="DBS.280266", reason="Insufficient quota")),
    (Kind.CLEANUP, timeline.line(timeline.DELETE_BUSY, reason="instance is being created", seconds=45)),
]
GERMAN_LINES = [
    "by Ada Admin",  # written before codes: its message, as written
    "orders-prod zum Stand 01.05.2026, 14:00:00 CEST auf orders-restored, von dem Probenzeitplan",
    "Von der Cloud angenommen: Instanz in-1, Job job-1",
    "Versuch 2 ist gescheitert (DBS.200998: System busy (HTTP 503)); neuer Versuch in 1 min 30 s",
    "50 % erledigt",
    "Weder die Instanzliste noch die Job-API hat sie seit 01.05.2026, 14:00:00 CEST gezeigt",
    "DBS.280266: Insufficient quota",  # the cloud's own words, as it wrote them
    "Noch nicht gelöscht: Die Cloud kann sie noch nicht löschen (instance is being created); neuer Versuch in 45 s",
]
ENGLISH_LINES = [
    "by Ada Admin",
    "orders-prod at 2026-05-01 12:00:00 UTC to orders-restored, by the rehearsal schedule",
    "Accepted by the cloud: instance in-1, job job-1",
    "Attempt 2 did not go through (DBS.200998: System busy (HTTP 503)); trying again in 1 min 30 s",
    "50% done",
    "Neither the instance list nor the jobs API has shown it since 2026-05-01 12:00:00 UTC",
    "DBS.280266: Insufficient quota",
    "Not deleted yet: the cloud cannot delete it yet (instance is being created); trying again in 45 s",
]


def timeline_of(client, url, **extra) -> list[str]:
    """The lines of a timeline as its page shows them."""
    return re.findall(r'<span class="event-message">(.*?)</span>', page(client, url, **extra))


def restore_with_timeline(backup) -> Restore:
    restore = a_restore(backup, status=Restore.Status.FAILED, error_code="DBS.280266")
    for offset, (kind, line) in enumerate(LINES, start=1):
        RestoreEvent.objects.create(
            restore=restore,
            kind=kind,
            at=restore.requested_at + timedelta(seconds=offset),
            code=line.code,
            params=line.params,
            message=line.message,
        )
    return restore


def test_a_restores_timeline_reads_in_german_with_times_in_the_viewers_zone(clients, backup):
    restore = restore_with_timeline(backup)
    clients["viewer"].cookies["console_tz"] = "Europe/Berlin"
    url = reverse("restores:restore_detail", args=[restore.pk])
    assert timeline_of(clients["viewer"], url, **GERMAN) == GERMAN_LINES


def test_a_restores_timeline_reads_in_english_as_it_is_stored(clients, backup):
    restore = restore_with_timeline(backup)
    url = reverse("restores:restore_detail", args=[restore.pk])
    assert timeline_of(clients["viewer"], url, **ENGLISH) == ENGLISH_LINES
    assert list(restore.events.values_list("message", flat=True)) == ENGLISH_LINES


def test_restore_lines_of_an_unknown_code_or_shape_show_their_message(clients, backup):
    restore = a_restore(backup, status=Restore.Status.FAILED)
    later = restore.requested_at + timedelta(seconds=1)
    RestoreEvent.objects.create(
        restore=restore, kind=Kind.NOTE, at=later, code="written_by_a_later_version", message="A note from the future"
    )
    RestoreEvent.objects.create(
        restore=restore, kind=Kind.RETRY, at=later, code=timeline.RETRY, params={"attempt": 2}, message="Attempt 2 …"
    )
    url = reverse("restores:restore_detail", args=[restore.pk])
    assert timeline_of(clients["viewer"], url, **GERMAN) == ["by Ada Admin", "A note from the future", "Attempt 2 …"]


def restores_ended_on(backup) -> None:
    """Restores of `backup` requested, and ended through the lifecycle as the worker ends them."""
    backup_event_record(
        backup.pk,
        BackupEvent.Kind.NOTE,
        backup_timeline.line(backup_timeline.RESTORE_REQUESTED, target="orders-restored-1", who="Ada Admin"),
    )
    backup_event_record(
        backup.pk, BackupEvent.Kind.NOTE, backup_timeline.line(backup_timeline.REHEARSAL_REQUESTED, who=None)
    )
    Status = Restore.Status
    completed = a_restore(backup, status=Status.RESTORING, target_name="orders-restored-1")
    restore_transition(
        completed.pk,
        Status.COMPLETED,
        event=Kind.COMPLETED,
        message=timeline.line(timeline.AVAILABLE, target=completed.target_name),
        finished_at=completed.submitted_at + timedelta(minutes=4, seconds=12),
    )
    failed = a_restore(backup, status=Status.RESTORING, target_name="orders-restored-2")
    restore_transition(
        failed.pk,
        Status.FAILED,
        event=Kind.FAILED,
        message=timeline.line(timeline.FAILED, reason="Disk quota exceeded"),
        error_code="CREATE_FAILED",
        error_message="Disk quota exceeded",
        finished_at=timezone.now(),
    )
    lost = a_restore(backup, status=Status.RESTORING, target_name="orders-restored-3")
    restore_transition(
        lost.pk, Status.UNKNOWN, event=Kind.UNKNOWN, message=timeline.line(timeline.LOST, last_seen=T0.isoformat())
    )


def test_restores_lines_on_a_backups_timeline_read_in_german(clients, backup):
    restores_ended_on(backup)
    url = reverse("backups:backup_detail", args=[backup.pk])
    assert timeline_of(clients["viewer"], url, **GERMAN) == [
        "Wiederherstellung auf orders-restored-1, angefordert von Ada Admin",
        "Probe, angefordert von dem Probenzeitplan",
        "Wiederherstellung auf orders-restored-1: nach 4 min 12 s verfügbar",
        "Wiederherstellung auf orders-restored-2 fehlgeschlagen: Disk quota exceeded",
        "Wiederherstellung auf orders-restored-3: Die Cloud meldet nichts mehr dazu",
    ]


def test_restores_lines_on_a_backups_timeline_read_in_english_as_stored(clients, backup):
    restores_ended_on(backup)
    english = [
        "Restore to orders-restored-1 requested by Ada Admin",
        "Rehearsal requested by the rehearsal schedule",
        "Restore to orders-restored-1: available after 4 min 12 s",
        "Restore to orders-restored-2 failed: Disk quota exceeded",
        "Restore to orders-restored-3: the cloud stopped reporting on it",
    ]
    url = reverse("backups:backup_detail", args=[backup.pk])
    assert timeline_of(clients["viewer"], url, **ENGLISH) == english
    assert list(backup.events.values_list("message", flat=True)) == english
