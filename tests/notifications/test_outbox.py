"""The email outbox, in this process: recorded first and published after commit, claimed so a
task delivered twice sends once, retried with backoff on a transient failure, given up with a
reason in our words, and swept again when the broker or a worker lost it.

Tests send through Django's memory backend (tests/conftest.py selects it); a real worker,
writing files, is test_worker.py."""

import smtplib
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications.models import OutgoingEmail
from notifications.services.outbox import (
    SEND_LEASE,
    email_cancel,
    email_publish,
    email_queue,
    email_retry_delay,
    email_send,
    emails_dispatch_due,
)

pytestmark = pytest.mark.django_db
Status = OutgoingEmail.Status
LINK = "https://console.example/invitations/s3cret-token/"


def queue(to: str = "nora@example.com") -> OutgoingEmail:
    return email_queue(to=to, subject="Invitation to eu-de_alpha", body=f"Open {LINK}")


def make_due(email: OutgoingEmail) -> None:
    OutgoingEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())


def test_tests_send_email_to_memory():
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"


def test_an_email_is_recorded_and_handed_to_the_broker_after_commit(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email = queue()
        assert published == []  # not before the commit
    assert published == [email.pk]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.body) == (Status.PENDING, 0, f"Open {LINK}")
    assert email.enqueued_at is not None
    assert email.message_id.startswith("<")
    assert email.message_id.endswith("@localhost>")


def test_a_broker_outage_leaves_the_email_waiting_for_the_sweep(monkeypatch):
    email = queue()

    def down(*args):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr("notifications.publish.publish", down)
    assert email_publish(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.status, email.enqueued_at) == (Status.PENDING, None)


def test_an_email_is_sent_once_with_its_own_message_id_and_its_body_is_blanked():
    email = queue()
    assert email_send(email_id=email.pk) is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (message.to, message.subject, message.body) == (
        ["nora@example.com"],
        "Invitation to eu-de_alpha",
        f"Open {LINK}",
    )
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.message()["Message-ID"] == email.message_id
    assert message.message()["Auto-Submitted"] == "auto-generated"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.body, email.last_error) == (Status.SENT, 1, "", "")
    assert email.sent_at is not None
    # The task delivered again, or published by the sweep meanwhile: nothing more is sent.
    assert email_send(email_id=email.pk) is False
    assert len(mail.outbox) == 1


def test_a_transient_failure_is_retried_after_a_backoff(flaky_mail):
    flaky_mail.append(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    email = queue()
    assert email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.status, email.attempts, email.enqueued_at, email.claimed_at) == (Status.PENDING, 1, None, None)
    assert email.last_error == "The mail server broke off the conversation (SMTPServerDisconnected)."
    assert email.next_attempt_at > timezone.now()
    assert email.body == f"Open {LINK}"  # kept for the next attempt
    # Not before its time, whoever asks.
    assert email_send(email_id=email.pk) is False
    assert OutgoingEmail.objects.get(pk=email.pk).attempts == 1
    make_due(email)
    assert email_send(email_id=email.pk) is True
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error, email.body) == (Status.SENT, 2, "", "")
    assert len(mail.outbox) == 1


def test_the_backoff_doubles_with_jitter_and_is_capped(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 10
    for attempt, most in ((1, 10), (2, 20), (3, 40), (4, 80)):
        delays = {email_retry_delay(attempt).total_seconds() for _ in range(20)}
        assert all(most / 2 <= delay <= most for delay in delays), attempt
    assert email_retry_delay(20) <= timedelta(seconds=1800)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (
            ConnectionRefusedError(111, "Connection refused"),
            "The mail server could not be reached (ConnectionRefusedError).",
        ),
        (TimeoutError("timed out"), "The mail server could not be reached (TimeoutError)."),
        (smtplib.SMTPResponseException(451, b"4.3.0 Try again later"), "The mail server answered 451."),
    ],
)
def test_after_the_last_attempt_the_email_fails_with_the_reason(flaky_mail, settings, failure, reason):
    settings.EMAIL_MAX_ATTEMPTS = 3
    flaky_mail.extend([failure] * 3)
    email = queue()
    for attempt in (1, 2, 3):
        make_due(email)
        assert email_send(email_id=email.pk) is False
        assert OutgoingEmail.objects.get(pk=email.pk).attempts == attempt
    email.refresh_from_db()
    assert (email.status, email.last_error, email.body) == (Status.FAILED, reason, "")
    make_due(email)
    assert email_send(email_id=email.pk) is False
    assert emails_dispatch_due() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (
            smtplib.SMTPRecipientsRefused({"nora@example.com": (550, b"no such user")}),
            "refused the recipient's address",
        ),
        (smtplib.SMTPDataError(554, b"5.7.1 Message rejected"), "The mail server answered 554."),
    ],
)
def test_a_final_refusal_fails_at_once(flaky_mail, failure, reason):
    flaky_mail.append(failure)
    email = queue()
    assert email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.status, email.attempts, email.body) == (Status.FAILED, 1, "")
    assert reason in email.last_error


def test_the_recorded_reason_holds_nothing_the_server_said(flaky_mail):
    flaky_mail.append(smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials: mailer / hunter2"))
    email = queue()
    email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.last_error == "The mail server answered 535."
    assert email.status == Status.FAILED


def test_an_unexpected_error_counts_as_an_attempt(monkeypatch):
    def broken(email):
        raise ValueError("a bug")

    monkeypatch.setattr("notifications.transports.email.send", broken)
    email = queue()
    assert email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.PENDING, 1)
    assert email.last_error == "Sending stopped unexpectedly (ValueError)."


def test_a_cancelled_email_is_not_sent():
    email = queue()
    assert email_cancel(email_id=email.pk) is True
    assert email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.status, email.body) == (Status.CANCELLED, "")
    assert mail.outbox == []


def test_the_sweep_publishes_what_the_broker_or_a_worker_lost(published):
    now = timezone.now()

    def row(**fields) -> int:
        email = queue()
        OutgoingEmail.objects.filter(pk=email.pk).update(**fields)
        return email.pk

    never_published = row(enqueued_at=None)
    published_long_ago = row(enqueued_at=now - timedelta(minutes=5))
    row(enqueued_at=now)  # just handed over: the worker has it
    row(enqueued_at=None, next_attempt_at=now + timedelta(minutes=1))  # backing off
    dead_worker = row(status=Status.SENDING, claimed_at=now - SEND_LEASE - timedelta(seconds=1))
    row(status=Status.SENDING, claimed_at=now)  # a live worker is on it
    row(status=Status.SENT, sent_at=now)
    row(status=Status.FAILED)
    row(status=Status.CANCELLED)
    assert emails_dispatch_due() == 3
    assert sorted(published) == sorted([never_published, published_long_ago, dead_worker])
    assert OutgoingEmail.objects.get(pk=never_published).enqueued_at is not None


def test_an_email_a_dead_worker_was_sending_is_sent_after_its_lease():
    email = queue()
    OutgoingEmail.objects.filter(pk=email.pk).update(status=Status.SENDING, attempts=1, claimed_at=timezone.now())
    assert email_send(email_id=email.pk) is False  # the lease holds while its worker may live
    OutgoingEmail.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - SEND_LEASE - timedelta(seconds=1))
    assert email_send(email_id=email.pk) is True
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.SENT, 2)
    assert mail.outbox[0].message()["Message-ID"] == email.message_id  # the same message, if it went out before
