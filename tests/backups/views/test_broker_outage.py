"""Backups requested from the web while the broker (a real Redis, this test's own) is down:
each request is answered as usual and its row waits, QUEUED, in the database; the log says so
once per outage, without a traceback, and once when the broker is back."""

import logging
import os
import socket
import subprocess
import time

import pytest
from django.db import transaction
from django.urls import reverse

from backups.models import Backup
from backups.services import dispatch
from notifications.services.outbox import email_queue
from tests.factories import BackupFactory, InstanceFactory
from webapp.celery import app

# Tests that share a process see each other's outages only through the broker's URL, and
# this one's Redis listens on a port of its own.
pytestmark = pytest.mark.django_db(transaction=True)  # the publish runs after the request's commit


class OwnRedis:
    """A redis-server on a free port that the test stops and starts again (never the shared one)."""

    def __init__(self, tmp_path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.tmp_path = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, cwd=self.tmp_path, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def own_broker(tmp_path):
    """Point this process's Celery app at a Redis of the test's own, as `unreachable_broker`
    (tests/backups/services/test_worker.py) does; put everything back afterwards."""
    redis = OwnRedis(tmp_path)
    redis.start()
    saved = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = redis.url  # Celery reads it before its own settings
    _use_broker(redis.url)
    yield redis
    redis.stop()
    url, environment = saved
    if environment is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = environment
    _use_broker(url)


def _use_broker(url):
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def request_backup(client, instance):
    return client.post(
        reverse("backups:backup_create", args=[instance.pk]), {"name": "before-upgrade", "description": "x"}
    )


def broker_lines(caplog, text):
    return [record for record in caplog.records if text in record.getMessage()]


def test_a_broker_outage_is_one_warning_without_traceback_and_requests_wait_queued(
    own_broker, operator_client, project, caplog
):
    instances = [InstanceFactory(project=project, name=f"orders-{n}") for n in range(6)]
    caplog.set_level(logging.INFO)
    # The broker is up: the request goes through and nothing is said about the broker.
    assert request_backup(operator_client, instances[0]).status_code == 302
    assert Backup.objects.get(instance=instances[0]).enqueued_at is not None

    own_broker.stop()
    caplog.clear()
    during = []
    for instance in instances[1:4]:
        response = request_backup(operator_client, instance)
        assert response.status_code == 302  # answered as usual: to the new backup's page
        backup = Backup.objects.get(instance=instance)
        assert response["Location"] == reverse("backups:backup_detail", args=[backup.pk])
        assert (backup.status, backup.enqueued_at) == (Backup.Status.QUEUED, None)  # waiting for the sweep
        during.append(backup.pk)
    # An email queued meanwhile meets the same outage: still the one warning.
    with transaction.atomic():
        email = email_queue(to="oscar@example.com", subject="Hello", body="Queued while the broker is down")
    email.refresh_from_db()
    assert email.enqueued_at is None
    # The sweep (run here rather than by beat) finds the broker down as well.
    assert dispatch.backups_dispatch_due() == 0

    warnings = broker_lines(caplog, "Broker unavailable")
    assert len(warnings) == 1, caplog.text
    assert warnings[0].levelno == logging.WARNING
    assert f"at {own_broker.url} (OperationalError)" in warnings[0].getMessage()
    assert "requests stay queued in the database" in warnings[0].getMessage()
    assert [record for record in caplog.records if record.exc_info] == []
    assert "Traceback" not in caplog.text
    assert "pop from empty list" not in caplog.text

    own_broker.start()
    caplog.clear()
    assert request_backup(operator_client, instances[4]).status_code == 302
    assert request_backup(operator_client, instances[5]).status_code == 302
    assert Backup.objects.filter(instance__in=instances[4:], enqueued_at__isnull=False).count() == 2
    back = broker_lines(caplog, "Broker available again")
    assert len(back) == 1, caplog.text
    assert back[0].levelno == logging.INFO
    assert broker_lines(caplog, "Broker unavailable") == []
    # What waited goes out with the next sweep.
    assert dispatch.backup_publish(backup_id=during[0])
    assert Backup.objects.get(pk=during[0]).enqueued_at is not None

    # A second outage is a second warning.
    own_broker.stop()
    caplog.clear()
    assert not dispatch.backup_publish(backup_id=during[1])
    assert not dispatch.backup_publish(backup_id=during[2])
    assert len(broker_lines(caplog, "Broker unavailable")) == 1
    assert "Traceback" not in caplog.text


def test_an_unexpected_publish_error_is_logged_with_its_traceback(instance, monkeypatch, caplog):
    """Only a broker that cannot be reached is expected; anything else may be a bug."""

    def broken(task_name, *args):
        raise TypeError("cannot serialise")

    monkeypatch.setattr("backups.publish.publish", broken)
    backup = BackupFactory(instance=instance, status=Backup.Status.QUEUED, progress=0, job_id="", backup_id="")
    assert not dispatch.backup_publish(backup_id=backup.pk)
    [record] = [record for record in caplog.records if record.exc_info]
    assert record.levelno == logging.ERROR
    assert f"backup {backup.pk}" in record.getMessage()
    assert "Broker unavailable" not in caplog.text
