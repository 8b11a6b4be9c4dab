"""The restore pages, the sign-in page and the error pages speak German to a browser that asks
for it, and English otherwise: text, attributes, form errors and plain-language failures."""

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from restores.models import Restore
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
