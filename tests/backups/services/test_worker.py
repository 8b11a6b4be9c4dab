"""The whole path with a real Celery worker (and beat) against the simulator and a real database.

Each test checks the simulator's own state: whatever fails in between, one request makes
exactly one cloud backup.
"""

import os
import re

import pytest
from django.db import transaction

from backups.models import Backup, Instance
from backups.services import submission, sync
from tests.fixtures.worker import wait_for
from webapp.celery import app

pytestmark = pytest.mark.integration


def request(instance, user, name="nightly-0001"):
    with transaction.atomic():  # on_commit publishing runs as it would after a web request
        return submission.backup_request(instance=instance, user=user, name=name, description="integration test")


def ended(backup_id):
    def check():
        backup = Backup.objects.get(pk=backup_id)
        return backup if backup.status in (Backup.Status.COMPLETED, Backup.Status.FAILED) else None

    check.__doc__ = f"backup {backup_id} to end"
    return check


def cloud_copies(simulator, backup):
    return [b for b in simulator.backups(instance_id=backup.instance.cloud_id) if b["name"] == backup.name]


def test_request_goes_to_completed(celery_worker, simulator, instance, requester):
    simulator.configure(job_seconds=2)
    backup = wait_for(ended(request(instance, requester).pk), worker=celery_worker)
    assert backup.status == Backup.Status.COMPLETED, backup.error_message
    assert backup.size_kb > 0
    assert len(cloud_copies(simulator, backup)) == 1
    kinds = list(backup.events.values_list("kind", flat=True))
    assert kinds[0] == "requested"
    assert "submitted" in kinds
    assert kinds[-1] == "completed"


def test_request_goes_to_failed_with_the_clouds_reason(celery_worker, simulator, instance, requester):
    simulator.configure(job_seconds=1, failure_rate=1.0)
    backup = wait_for(ended(request(instance, requester).pk), worker=celery_worker)
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "JOB_FAILED"
    assert backup.error_message


def test_faults_never_make_a_second_cloud_backup(celery_worker, simulator, instance, requester):
    simulator.configure(
        job_seconds=1, error_rate=0.3, throttle_rate=0.2, drop_connection_after_create=1, drop_connection_rate=0.1
    )
    # About 35 s on an idle machine (retries with backoff through every fault); the limit is
    # for a hung pipeline, not a slow one: CI runs two suites and browsers side by side.
    backup = wait_for(ended(request(instance, requester).pk), timeout=240, worker=celery_worker)
    assert backup.status == Backup.Status.COMPLETED, backup.error_message
    assert len(cloud_copies(simulator, backup)) == 1


def test_token_expiry_midway_is_survived(celery_worker, simulator, instance, requester):
    simulator.configure(job_seconds=3)
    backup_id = request(instance, requester).pk
    wait_for(lambda: Backup.objects.get(pk=backup_id).status == Backup.Status.RUNNING, worker=celery_worker)
    simulator.configure(expire_tokens=True)
    backup = wait_for(ended(backup_id), worker=celery_worker)
    assert backup.status == Backup.Status.COMPLETED
    assert len(cloud_copies(simulator, backup)) == 1


def test_broker_down_at_request_time_delivers_later(celery_worker, simulator, instance, requester, caplog):
    simulator.configure(job_seconds=1)
    with unreachable_broker():
        backup_id = request(instance, requester).pk
    # Nothing reached the broker at request time. (The row's enqueued_at says nothing here: the
    # worker's own sweep, every second, may already have handed it over by the next line.)
    assert "Broker unavailable at redis://127.0.0.1:9/0" in caplog.text
    backup = wait_for(ended(backup_id), timeout=60, worker=celery_worker)
    assert backup.status == Backup.Status.COMPLETED
    assert len(cloud_copies(simulator, backup)) == 1


def test_refresh_asked_for_while_the_broker_is_down_happens_when_it_is_back(simulator, instance, celery_worker):
    """'Refresh from cloud' is recorded first and published after commit, like a backup
    request: the beat's sweep hands it to the worker once the broker answers again."""
    project = instance.project  # made before the worker starts, so its start-up sync includes it

    def startup_sync_done():
        # The fan-out task may log its success before its sync_project is even received: wait
        # for a sync_project to have run, and for none to be still on its way.
        log = celery_worker.log_path.read_text(errors="replace")
        received = len(re.findall(r"tasks\.sync_project\[[^]]+\] received", log))
        finished = len(re.findall(r"tasks\.sync_project\[[^]]+\] succeeded", log))
        return re.search(r"tasks\.sync_projects\[[^]]+\] succeeded", log) and received == finished >= 1

    startup_sync_done.__doc__ = "the sync every worker makes when it starts"
    wait_for(startup_sync_done, timeout=30, worker=celery_worker)  # so only the refresh can find the new one
    new = simulator.add_instance("orders-dr")
    with unreachable_broker(), transaction.atomic():
        sync.projects_sync_request(projects=[project])
    project.refresh_from_db()
    assert project.sync_requested_at is not None
    assert project.sync_enqueued_at is None  # nothing reached the broker

    def synced():
        return Instance.objects.filter(project=project, cloud_id=new["id"]).first()

    synced.__doc__ = "the requested sync to bring the new instance in"
    wait_for(synced, timeout=60, worker=celery_worker)
    project.refresh_from_db()
    assert project.sync_requested_at is None

    # It was the sweep that handed the request over: dispatch_outbox answers how many it sent
    # (its line may come after the sync's own, which another worker process ran meanwhile).
    def swept():
        log = celery_worker.log_path.read_text(errors="replace")
        return re.search(r"tasks\.dispatch_outbox\[[^]]+\] succeeded in [0-9.]+s: 1", log)

    swept.__doc__ = "the outbox sweep to report the request it handed over"
    wait_for(swept, timeout=10, worker=celery_worker)


class unreachable_broker:
    """Point this process's Celery app at a port where no broker listens."""

    URL = "redis://127.0.0.1:9/0"

    def __enter__(self):
        # Celery reads CELERY_BROKER_URL from the environment before its own settings.
        self.saved = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
        os.environ["CELERY_BROKER_URL"] = self.URL
        self._reset(self.URL)

    def __exit__(self, *exc):
        url, environment = self.saved
        if environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = environment
        self._reset(url)

    @staticmethod
    def _reset(url):
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None
