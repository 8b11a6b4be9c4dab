"""A channel speaks its team's language: the worker, which has no request to ask, writes each
message in the channel's language, through the same real receivers and mail server as the other
delivery tests. The channel form starts from the language of the person who sets it up."""

import smtplib

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from notifications.events import EventKind, notify
from notifications.models import Channel, Delivery, OutgoingEmail
from notifications.services.channels import channel_add
from notifications.services.deliveries import delivery_send
from notifications.services.outbox import email_queue, email_send
from notifications.services.subscriptions import subscription_set
from preferences.services import preference_update
from tests.factories import BackupFactory, InstanceFactory, MembershipFactory
from tests.notifications.helpers import ALL_EVENTS, project_with_admin

pytestmark = pytest.mark.django_db(transaction=True)
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}


@pytest.fixture
def alpha():
    return project_with_admin()


def german_channel(project, admin, *, kind: str, target: str) -> Channel:
    channel, _secret = channel_add(
        project=project, by=admin, kind=kind, name="Bereitschaft", target=target, events=ALL_EVENTS, language="de"
    )
    return channel


def failed_backup_delivery(project) -> Delivery:
    backup = BackupFactory(
        instance=InstanceFactory(project=project, name="cassandra-prod"), failed=True, name="nightly-7"
    )
    with transaction.atomic():
        notify(
            kind=EventKind.BACKUP_FAILED, key=f"backup:{backup.pk}:failed", project=project, backup=backup,
            reason="Another operation is being performed on the instance.",
        )  # fmt: skip
    return Delivery.objects.get()


def test_a_german_webhook_channel_gets_a_german_title(alpha, receiver, published_deliveries):
    project, admin = alpha
    german_channel(project, admin, kind="webhook", target=receiver.url)
    delivery = failed_backup_delivery(project)
    with translation.override("en"):  # what the worker has active changes nothing
        assert delivery_send(delivery_id=delivery.pk) is True
    body = receiver.received[0].json
    assert body["title"] == "Sicherung nightly-7 von cassandra-prod ist fehlgeschlagen"
    assert body["event"] == "backup_failed"  # the machine's words stay as they are


def test_a_german_slack_channel_gets_german_words(alpha, receiver, published_deliveries, settings):
    settings.CONSOLE_URL = "https://backups.example.com"
    project, admin = alpha
    german_channel(project, admin, kind="slack", target=receiver.url)
    delivery = failed_backup_delivery(project)
    assert delivery_send(delivery_id=delivery.pk) is True
    text = receiver.received[0].json["text"]
    assert text.startswith("*Sicherung nightly-7 von cassandra-prod ist fehlgeschlagen*\n")
    assert text.endswith("|In der Konsole öffnen>")


def test_a_german_teams_channel_gets_a_german_card(alpha, receiver, published_deliveries, settings):
    settings.CONSOLE_URL = "https://backups.example.com"
    project, admin = alpha
    german_channel(project, admin, kind="teams", target=receiver.url)
    delivery = failed_backup_delivery(project)
    assert delivery_send(delivery_id=delivery.pk) is True
    card = receiver.received[0].json
    assert card["title"] == "Sicherung nightly-7 von cassandra-prod ist fehlgeschlagen"
    assert card["potentialAction"][0]["name"] == "In der Konsole öffnen"


def test_a_german_email_channel_gets_a_german_email(alpha, smtp_server, published_deliveries):
    project, admin = alpha
    german_channel(project, admin, kind="email", target="oncall@example.com")
    delivery = failed_backup_delivery(project)
    assert delivery_send(delivery_id=delivery.pk) is True
    [message] = smtp_server
    assert message["Subject"] == "Sicherung nightly-7 von cassandra-prod ist fehlgeschlagen"
    assert "Kanal Bereitschaft von eu-de_alpha." in message.get_payload(decode=True).decode()


def test_why_a_german_channel_was_not_reached_is_recorded_in_german(alpha, receiver, published_deliveries):
    project, admin = alpha
    channel = german_channel(project, admin, kind="slack", target=receiver.url)
    receiver.status = 410
    delivery = failed_backup_delivery(project)
    assert delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_error == "Der Empfänger hat mit 410 geantwortet."
    assert channel.language == "de"


def test_the_channel_form_starts_in_the_language_of_whoever_adds_it(alpha, client):
    project, admin = alpha
    client.force_login(admin)
    url = reverse("notifications:channels", args=[project.pk])
    page = client.get(url, **GERMAN).content.decode()
    assert "Kanal hinzufügen" in page
    assert '<option value="de" selected>Deutsch</option>' in page
    response = client.post(
        url, {"kind": "email", "name": "Bereitschaft", "target": "oncall@example.com", "reminder_hours": 0}, **GERMAN
    )
    assert response.status_code == 302
    assert Channel.objects.get().language == "de"  # left out of the post: the person's language


def test_an_english_page_makes_an_english_channel(alpha, client):
    project, admin = alpha
    client.force_login(admin)
    url = reverse("notifications:channels", args=[project.pk])
    client.post(url, {"kind": "email", "name": "On-call", "target": "oncall@example.com", "reminder_hours": 0})
    assert Channel.objects.get().language == "en"


def test_the_requester_who_chose_german_gets_the_outcome_in_german(alpha, monkeypatch):
    monkeypatch.setattr("notifications.publish.publish", lambda *args: None)
    project, _ = alpha
    olga = MembershipFactory(project=project, user__username="olga", user__email="olga@example.com").user
    subscription_set(user=olga, backup_outcomes=True)
    preference_update(user=olga, language="de")
    backup = BackupFactory(
        instance=InstanceFactory(project=project, name="cassandra-prod"), requested_by=olga, name="nightly-1"
    )
    with translation.override("en"), transaction.atomic():  # a worker's poll, in no one's language
        notify(kind=EventKind.BACKUP_COMPLETED, key=f"b:{backup.pk}", project=project, backup=backup)
    email = OutgoingEmail.objects.get()
    assert email_send(email_id=email.pk) is True
    [message] = mail.outbox
    assert message.subject == "Sicherung nightly-1 von cassandra-prod ist abgeschlossen · GeminiDB Backup Console"
    assert "Sie erhalten diese E-Mail, weil Sie erfahren möchten" in message.body


def test_why_an_email_written_in_german_did_not_go_out_is_recorded_in_german(flaky_mail):
    flaky_mail.append(smtplib.SMTPDataError(554, b"5.7.1 Message rejected"))
    with translation.override("de"), transaction.atomic():  # the request of a German-speaking admin
        email = email_queue(to="nora@example.com", subject="Einladung", body="Hallo")
    assert email.language == "de"
    assert email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert email.last_error == "Der Mailserver hat mit 554 geantwortet."
