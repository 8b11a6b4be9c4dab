"""The email outbox with a real Celery worker (and beat) on the test database: an invitation's
email is written by the worker (file backend, a folder this test reads), its link works, a task
delivered twice sends once, and an unreachable mail server is retried, then reported on the
team page."""

import re
import socket
from email import message_from_string, policy
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from access.models import Membership
from notifications import publish
from notifications.models import OutgoingEmail
from tests.access.invitations import invite
from tests.factories import CloudProjectFactory, MembershipFactory, UserFactory
from tests.fixtures.worker import WORKER_ENV, Worker, purge_broker, wait_for

pytestmark = pytest.mark.integration
Status = OutgoingEmail.Status
MAIL_ENV = {"EMAIL_DISPATCH_SECONDS": "1", "EMAIL_RETRY_BASE_SECONDS": "0.3"}


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start a worker with extra environment; stopped, and the broker emptied, at the end."""
    workers = []

    def start(env: dict[str, str]) -> Worker:
        purge_broker()
        worker = Worker(tmp_path, env={**WORKER_ENV, **MAIL_ENV, **env})
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    purge_broker()


@pytest.fixture
def maildir(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def team(transactional_db):
    project = CloudProjectFactory(name="eu-de_alpha")
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    MembershipFactory(user=admin, project=project, role=Membership.Role.ADMIN)
    return project, admin


def invite_committed(team, email="nora@example.com"):
    project, admin = team
    with transaction.atomic():  # published after commit, as after a web request
        return invite(project, email, Membership.Role.OPERATOR, by=admin)


def sent(email_id: int):
    def check():
        email = OutgoingEmail.objects.get(pk=email_id)
        return email if email.status == Status.SENT else None

    check.__doc__ = f"email {email_id} to be sent"
    return check


def test_the_worker_sends_the_invitation_and_its_link_works(start_worker, maildir, team):
    worker = start_worker({"EMAIL_URL": f"filemail:///{maildir}"})
    invitation = invite_committed(team)
    email = wait_for(sent(invitation.email_message_id), worker=worker)
    files = list(maildir.iterdir())
    assert len(files) == 1
    message = message_from_string(files[0].read_text(), policy=policy.default)
    assert message["To"] == "nora@example.com"
    assert message["Message-ID"] == email.message_id
    assert message["Subject"].strip() == "Invitation to eu-de_alpha · GeminiDB Backup Console"
    path = re.search(r"http://testserver(/invitations/[\w-]+/)", message.get_content()).group(1)
    assert path == invitation.url
    assert (email.attempts, email.body, email.last_error) == (1, "", "")

    browser = Client()
    assert browser.get(path).status_code == 200
    signup = {"username": "nora", "password1": "a-Passphrase-of-my-own-42", "password2": "a-Passphrase-of-my-own-42"}
    assert browser.post(path, signup).status_code == 302
    assert Membership.objects.get(project=team[0], user__username="nora").role == Membership.Role.OPERATOR


def test_a_send_task_delivered_three_times_sends_one_email(start_worker, maildir, team):
    worker = start_worker({"EMAIL_URL": f"filemail:///{maildir}"})
    invitation = invite_committed(team)
    publish.publish(publish.SEND_EMAIL, invitation.email_message_id)
    publish.publish(publish.SEND_EMAIL, invitation.email_message_id)
    wait_for(sent(invitation.email_message_id), worker=worker)

    def all_three_done():
        log = worker.log_path.read_text(errors="replace")
        return len(re.findall(r"tasks\.send_email\[[^]]+\] succeeded", log)) >= 3

    all_three_done.__doc__ = "the three deliveries of the send task to finish"
    wait_for(all_three_done, worker=worker)
    assert len(list(maildir.iterdir())) == 1
    assert OutgoingEmail.objects.get(pk=invitation.email_message_id).attempts == 1


def test_an_unreachable_mail_server_is_retried_then_reported_on_the_team_page(start_worker, team):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = start_worker({"EMAIL_URL": f"smtp://127.0.0.1:{port}", "EMAIL_MAX_ATTEMPTS": "3"})
    invitation = invite_committed(team)

    def failed():
        email = OutgoingEmail.objects.get(pk=invitation.email_message_id)
        return email if email.status == Status.FAILED else None

    failed.__doc__ = "the email to be given up after its attempts"
    email = wait_for(failed, timeout=60, worker=worker)
    assert email.attempts == 3
    assert email.last_error == "The mail server could not be reached (ConnectionRefusedError)."
    assert email.body == ""
    # The retries came from the beat's sweep, after each backoff.
    assert "tasks.dispatch_emails" in worker.output()

    project, admin = team
    browser = Client()
    browser.force_login(admin)
    html = browser.get(reverse("access:team", args=[project.pk])).content.decode()
    row = html[html.index(f'id="invitation-{invitation.pk}"') :]
    assert "Not delivered" in row
    assert "could not be reached (ConnectionRefusedError)" in row
