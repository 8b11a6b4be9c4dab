"""/metrics: who may read it, what it says, and that it counts what a real worker did.

The end-to-end tests run a real Celery worker (with beat) against the simulator, the worker and
this process sharing one PROMETHEUS_MULTIPROC_DIR as gunicorn and Celery do in production: the
counts come from the worker's files, the gauges from the database at scrape time.
"""

import time
from types import SimpleNamespace

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from prometheus_client.parser import text_string_to_metric_families

from access.models import CloudProject
from backups.cloud import AmbiguousRequest, CloudUnavailable, InvalidRequest, ServerBusy, Throttled
from backups.cloud.answers import EndpointRefused
from backups.models import Backup, Instance
from backups.services import submission
from backups.services.sync import instances_sync
from tests.fixtures.worker import WORKER_ENV, Worker, purge_broker, wait_for
from webapp import metrics
from webapp.health import BEAT_HEARTBEAT_KEY

TOKEN = "metrics-test-token-0123456789abcdef0123456789"


def scrape(client, token=TOKEN, **extra):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def samples(response) -> dict[tuple, float]:
    """Every sample of a scrape by (name, labels as sorted pairs)."""
    assert response.status_code == 200, response.status_code
    text = response.content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


# The endpoint


@pytest.mark.django_db
def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_a_wrong_or_missing_token_gets_404(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert scrape(client, token=TOKEN[:-1] + "x").status_code == 404
    assert scrape(client, token="").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 404
    assert client.get("/metrics").status_code == 404
    assert client.post("/metrics").status_code == 404


@pytest.mark.django_db
def test_the_token_holder_gets_the_text_format(client, settings):
    settings.METRICS_TOKEN = TOKEN
    response = scrape(client)
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    found = samples(response)
    assert found[("console_backups", (("state", "queued"),))] == 0
    assert found[("console_instances", (("protection", "protected"),))] == 0
    assert found[("console_metrics_database_up", ())] == 1
    assert found[("console_backup_outcomes_total", (("outcome", "failed"),))] >= 0
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


@pytest.mark.django_db
def test_beat_heartbeat_age_is_reported_only_once_there_is_one(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert not any(name == "console_beat_heartbeat_age_seconds" for name, _ in samples(scrape(client)))
    cache.set(BEAT_HEARTBEAT_KEY, time.time() - 30, timeout=300)
    age = samples(scrape(client))[("console_beat_heartbeat_age_seconds", ())]
    assert 29 <= age < 60


def test_a_failing_metric_never_breaks_its_caller(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the metrics directory is gone")

    monkeypatch.setattr(metrics.EMAILS, "labels", broken)
    metrics.email_attempt("sent")  # no exception
    assert "recording metric email_attempt failed" in caplog.text


@pytest.mark.parametrize(
    ("method", "url", "params", "operation"),
    [
        ("POST", "https://iam.example.com/v3/auth/tokens", {"nocatalog": "true"}, "token"),
        ("POST", "https://db.example.com/v3/p1/instances/i-1/backups", None, "create_backup"),
        ("GET", "https://db.example.com/v3.1/p1/backups", {"offset": "0"}, "list_backups"),
        ("GET", "https://db.example.com/v3/p1/jobs", {"offset": "0", "limit": "50"}, "list_jobs"),
        ("GET", "https://db.example.com/v3/p1/jobs", {"id": "job-1"}, "get_job"),
        ("GET", "https://db.example.com/v3/p1/instances", {"offset": "0"}, "list_instances"),
        ("PUT", "https://db.example.com/v3/p1/instances/i-1/backups/policy", None, "set_backup_policy"),
        ("GET", "https://db.example.com/v3.1/p1/instances/i-1/backups/policy", None, "get_backup_policy"),
        ("DELETE", "https://db.example.com/v3/p1/anything/secret-id", None, "other"),
    ],
)
def test_cloud_calls_are_labelled_by_operation_never_by_id(method, url, params, operation):
    assert metrics.cloud_operation(method, url, params) == operation


def unavailable(cause: Exception) -> CloudUnavailable:
    try:
        raise CloudUnavailable("GET /jobs: no answer") from cause
    except CloudUnavailable as error:
        return error


@pytest.mark.parametrize(
    ("outcome", "result"),
    [
        (SimpleNamespace(status_code=200), "2xx"),
        (SimpleNamespace(status_code=202), "2xx"),
        (InvalidRequest("bad name", status=400), "4xx"),
        (Throttled("slow down", status=429, retry_after=2), "429"),
        (ServerBusy("busy", status=503), "5xx"),
        (Throttled("call budget spent", retry_after=3), "budget"),
        (AmbiguousRequest("POST /backups: no answer"), "ambiguous"),
        (unavailable(requests.ReadTimeout()), "timeout"),
        (unavailable(requests.ConnectionError()), "connection"),
        (EndpointRefused("not public", path="/v3/p/jobs"), "refused"),
    ],
)
def test_cloud_call_results_are_classes_not_messages(outcome, result):
    assert metrics.cloud_result(outcome) == result


# End to end, with a real worker


@pytest.fixture
def metrics_dir(tmp_path, monkeypatch):
    """One directory for the worker's processes and this one (which reads it at scrape time)."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    return directory


@pytest.fixture
def worker(transactional_db, tmp_path, metrics_dir):
    purge_broker()
    worker = Worker(tmp_path, {**WORKER_ENV, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    worker.start()
    yield worker
    worker.stop()
    purge_broker()


@pytest.fixture
def instance(transactional_db, simulator) -> Instance:
    project = CloudProject.objects.create(name="eu-de_test", **simulator.project_fields())
    cloud = simulator.add_instance("orders-prod")
    instances_sync(project=project)
    return Instance.objects.get(cloud_id=cloud["id"])


def request_backup(instance, name):
    user, _ = get_user_model().objects.get_or_create(username="oscar")
    with transaction.atomic():  # on_commit publishing runs as it would after a web request
        return submission.backup_request(instance=instance, user=user, name=name, description="metrics test")


def outcome(found, name: str) -> float:
    return found.get(("console_backup_outcomes_total", (("outcome", name),)), 0)


def calls(found, operation: str, result: str = "2xx") -> float:
    return found.get(("console_cloud_calls_total", (("operation", operation), ("result", result))), 0)


def scrape_when(client, worker, ready, what):
    """Scrape until `ready(samples)`: the worker counts just after it commits."""

    def check():
        found = samples(scrape(client))
        return found if ready(found) else None

    check.__doc__ = what
    return wait_for(check, timeout=30, worker=worker)


@pytest.mark.integration
def test_a_scrape_counts_a_completed_then_a_failed_backup(client, settings, simulator, instance, worker):
    settings.METRICS_TOKEN = TOKEN

    simulator.configure(job_seconds=1)
    first = request_backup(instance, "metrics-0001")
    found = scrape_when(client, worker, lambda f: outcome(f, "completed") == 1, "one completed backup counted")
    assert Backup.objects.get(pk=first.pk).status == Backup.Status.COMPLETED
    assert outcome(found, "failed") == 0
    assert calls(found, "create_backup") == 1
    assert calls(found, "list_jobs") + calls(found, "list_backups") >= 1
    assert found[("console_backup_completion_lag_seconds_count", ())] == 1
    assert found[("console_backups", (("state", "queued"),))] == 0
    assert found[("console_backups", (("state", "running"),))] == 0
    assert found[("console_instances", (("protection", Instance.objects.get().protection_status),))] == 1
    assert sum(v for (name, _), v in found.items() if name == "console_instances") == 1

    simulator.configure(job_seconds=1, failure_rate=1.0)
    second = request_backup(instance, "metrics-0002")
    found = scrape_when(client, worker, lambda f: outcome(f, "failed") == 1, "one failed backup counted")
    assert Backup.objects.get(pk=second.pk).status == Backup.Status.FAILED
    assert outcome(found, "completed") == 1
    assert outcome(found, "unknown") == 0
    assert calls(found, "create_backup") == 2
    assert found[("console_backup_completion_lag_seconds_count", ())] == 2
    assert found[("console_backups", (("state", "queued"),))] == 0
    assert found[("console_backup_oldest_age_seconds", (("state", "queued"),))] == 0
    assert found[("console_backup_ambiguous_creates_total", ())] == 0
