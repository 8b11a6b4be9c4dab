"""The backups pages speak German to a browser that asks for it, and English otherwise."""

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from backups.explanations import explain
from backups.models import Backup, Instance
from backups.services.protection import instance_protection_update
from tests.factories import BackupFactory

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
