"""Deliveries over real local servers: a signed webhook the receiver checks (and a replay or a
stale signature it refuses), the chat services' payloads, an email channel through a real SMTP
server, and retries, give-ups and the words recorded for them."""

import json
import threading
import time

import pytest
from django.db import transaction

from notifications.events import EventKind, notify
from notifications.models import Delivery
from notifications.services.channels import channel_test
from notifications.services.deliveries import deliveries_dispatch_due, delivery_send
from notifications.transports.webhook import signature
from tests.factories import BackupFactory, InstanceFactory
from tests.notifications.helpers import add_channel, project_with_admin
from tests.notifications.receivers import verify

pytestmark = pytest.mark.django_db(transaction=True)
Status = Delivery.Status


@pytest.fixture
def alpha():
    return project_with_admin()


def failed_backup(project):
    return BackupFactory(
        instance=InstanceFactory(project=project, name="cassandra-prod"), failed=True, name="nightly-7"
    )


def notify_failed(project, backup) -> list[Delivery]:
    with transaction.atomic():
        notify(
            kind=EventKind.BACKUP_FAILED, key=f"backup:{backup.pk}:failed", project=project, backup=backup,
            reason="Another operation is being performed on the instance.",
        )  # fmt: skip
    return list(Delivery.objects.order_by("id"))


def test_a_webhook_is_signed_and_the_receiver_verifies_it(alpha, receiver, published_deliveries, settings):
    settings.CONSOLE_URL = "https://backups.example.com"
    project, admin = alpha
    _channel, secret = add_channel(project, admin, target=receiver.url)
    receiver.secret = secret
    backup = failed_backup(project)
    [delivery] = notify_failed(project, backup)

    assert delivery_send(delivery_id=delivery.pk) is True
    [got] = receiver.received
    assert got.path == "/hooks/console"
    assert got.headers["x-console-delivery"] == str(delivery.uuid)
    assert got.headers["x-console-event"] == "backup_failed"
    assert got.headers["content-type"] == "application/json"
    body = got.json
    assert body["delivery_id"] == str(delivery.uuid)
    assert body["event"] == "backup_failed"
    assert body["title"] == "Backup nightly-7 of cassandra-prod failed"
    assert body["text"] == "Another operation is being performed on the instance."
    assert body["project"] == {"id": project.pk, "name": project.name}
    assert body["instance"]["name"] == "cassandra-prod"
    assert body["instance"]["cloud_id"] == backup.instance.cloud_id
    assert body["backup"] == {"id": backup.pk, "name": "nightly-7", "status": "failed", "error": backup.error_message}
    assert body["url"] == f"https://backups.example.com/backups/{backup.pk}/"
    assert body["occurred_at"].startswith(str(delivery.event.created_at.date()))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.DELIVERED, 1, "")
    assert secret not in got.body.decode()
    assert secret not in json.dumps(dict(got.headers))


def test_the_receiver_refuses_a_replay_and_a_stale_or_wrong_signature(alpha, receiver, published_deliveries):
    import requests

    project, admin = alpha
    channel, secret = add_channel(project, admin, target=receiver.url)
    receiver.secret = secret
    channel_test(channel=channel, by=admin)
    assert delivery_send(delivery_id=Delivery.objects.get().pk) is True
    [got] = receiver.received
    headers = {"Content-Type": "application/json", "X-Console-Signature": got.headers["x-console-signature"]}
    assert requests.post(receiver.url, data=got.body, headers=headers, timeout=5).status_code == 409  # replayed
    stale = signature(secret, got.body, int(time.time()) - 301)
    assert (
        requests.post(receiver.url, data=got.body, headers={"X-Console-Signature": stale}, timeout=5).status_code == 401
    )
    forged = signature("whsec_not-the-secret", got.body, int(time.time()))
    assert (
        requests.post(receiver.url, data=got.body, headers={"X-Console-Signature": forged}, timeout=5).status_code
        == 401
    )
    tampered = got.body.replace(b"works", b"fails")
    headers["X-Console-Signature"] = signature(secret, got.body, int(time.time()))
    assert requests.post(receiver.url, data=tampered, headers=headers, timeout=5).status_code == 401
    assert receiver.refused == ["replay", "signature", "signature", "signature"]
    assert len(receiver.received) == 1


def test_the_verification_in_the_readme_refuses_old_timestamps():
    body, now = b'{"a":1}', 1_800_000_000
    assert verify("s", signature("s", body, now - 299), body, now=now)
    assert not verify("s", signature("s", body, now - 301), body, now=now)
    assert not verify("s", "t=abc,v1=00", body, now=now)


@pytest.mark.parametrize("kind", ["slack", "mattermost"])
def test_slack_and_mattermost_get_a_short_text_with_the_link(kind, alpha, receiver, published_deliveries, settings):
    settings.CONSOLE_URL = "https://backups.example.com"
    project, admin = alpha
    add_channel(project, admin, kind=kind, target=receiver.url)
    backup = failed_backup(project)
    [delivery] = notify_failed(project, backup)
    assert delivery_send(delivery_id=delivery.pk) is True
    [got] = receiver.received
    assert "x-console-signature" not in got.headers
    assert got.headers["x-console-delivery"] == str(delivery.uuid)
    assert got.json == {
        "text": "*Backup nightly-7 of cassandra-prod failed*\nAnother operation is being performed on the instance."
        f" <https://backups.example.com/backups/{backup.pk}/|Open in the console>"
    }


def test_teams_gets_a_message_card(alpha, receiver, published_deliveries, settings):
    settings.CONSOLE_URL = "https://backups.example.com"
    project, admin = alpha
    add_channel(project, admin, kind="teams", target=receiver.url)
    backup = failed_backup(project)
    [delivery] = notify_failed(project, backup)
    assert delivery_send(delivery_id=delivery.pk) is True
    card = receiver.received[0].json
    assert card["@type"] == "MessageCard"
    assert card["@context"] == "https://schema.org/extensions"
    assert card["title"] == "Backup nightly-7 of cassandra-prod failed"
    assert card["summary"] == card["title"]
    assert card["text"] == "Another operation is being performed on the instance."
    assert card["potentialAction"][0]["targets"][0]["uri"] == f"https://backups.example.com/backups/{backup.pk}/"


def test_an_email_channel_reaches_a_real_smtp_server(alpha, smtp_server, published_deliveries):
    project, admin = alpha
    add_channel(project, admin, kind="email", target="oncall@example.com")
    backup = failed_backup(project)
    [delivery] = notify_failed(project, backup)
    assert delivery_send(delivery_id=delivery.pk) is True
    [message] = smtp_server
    assert message["To"] == "oncall@example.com"
    assert message["Subject"] == "Backup nightly-7 of cassandra-prod failed"
    assert message["Message-ID"] == f"<{delivery.uuid}@localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Another operation is being performed" in message.get_payload()


def test_a_failing_receiver_is_retried_then_given_up_in_our_words(alpha, receiver, published_deliveries, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    project, admin = alpha
    channel, _ = add_channel(project, admin, kind="slack", target=receiver.url)
    receiver.status = 503
    channel_test(channel=channel, by=admin)
    delivery = Delivery.objects.get()
    assert delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        Status.PENDING,
        1,
        "The receiver answered 503.",
    )
    assert delivery.next_attempt_at > delivery.created_at
    assert delivery_send(delivery_id=delivery.pk) is False  # its backoff is not over: not claimed
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    assert deliveries_dispatch_due() == 1
    assert delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 2)
    assert len(receiver.received) == 2


def test_a_removed_hook_fails_at_once_and_the_answer_is_never_recorded(alpha, receiver, published_deliveries):
    project, admin = alpha
    channel, _ = add_channel(project, admin, kind="teams", target=receiver.url)
    receiver.status = 404
    channel_test(channel=channel, by=admin)
    delivery = Delivery.objects.get()
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (Status.FAILED, "The receiver answered 404.")


def test_a_private_address_not_allowed_is_refused_when_called(alpha, receiver, published_deliveries, settings):
    project, admin = alpha
    channel, _ = add_channel(project, admin, target=receiver.url)
    settings.OUTBOUND_ALLOWED_HOSTS = []  # the allowance was withdrawn after the channel was added
    channel_test(channel=channel, by=admin)
    delivery = Delivery.objects.get()
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error.startswith("The console may not call this address")
    assert receiver.received == []


def test_a_second_task_for_a_delivery_in_progress_does_nothing(alpha, receiver, published_deliveries):
    project, admin = alpha
    channel, _ = add_channel(project, admin, kind="slack", target=receiver.url)
    channel_test(channel=channel, by=admin)
    delivery = Delivery.objects.get()
    receiver.hold = threading.Event()
    first = threading.Thread(target=delivery_send, kwargs={"delivery_id": delivery.pk})
    first.start()
    while not receiver.received:
        time.sleep(0.02)
    assert delivery_send(delivery_id=delivery.pk) is False  # claimed by the first, within its lease
    receiver.hold.set()
    first.join(10)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.received)) == (Status.DELIVERED, 1, 1)
