"""Correlated logs: one backup followed from the click through the worker to the cloud and back."""

import json
import logging

import pytest
from django.urls import reverse

from access.models import CloudProject, Membership
from backups.models import Backup, Instance
from backups.services.sync import instances_sync
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.worker import WORKER_ENV, Worker, purge_broker, wait_for
from tests.helpers import signed_in
from webapp import logcontext

REQUEST_ID = "click-4f2a-9c1d"


def record(message: str = "hello") -> logging.LogRecord:
    return logging.LogRecord("backups.cloud", logging.INFO, __file__, 1, message, (), None)


def formatted(formatter: logging.Formatter, **context) -> str:
    rec = record()
    with logcontext.log_context(**context):
        logcontext.ContextFilter().filter(rec)
    return formatter.format(rec)


def test_json_lines_parse_and_carry_every_known_field():
    line = formatted(
        logcontext.json_formatter(),
        request_id="r1",
        user="oscar",
        task_id="t1",
        backup_id=7,
        restore_id=5,
        cloud_request_id="c1",
    )
    entry = json.loads(line)
    assert entry["message"] == "hello"
    assert (entry["levelname"], entry["name"]) == ("INFO", "backups.cloud")
    assert {key: entry[key] for key in logcontext.FIELDS} == {
        "request_id": "r1",
        "user": "oscar",
        "task_id": "t1",
        "backup_id": 7,
        "restore_id": 5,
        "cloud_request_id": "c1",
    }


def test_json_lines_leave_out_what_is_not_known():
    entry = json.loads(formatted(logcontext.json_formatter(), backup_id=3))
    assert entry["backup_id"] == 3
    assert not set(logcontext.FIELDS) - {"backup_id"} & entry.keys()


def test_plain_lines_show_the_context_compactly():
    formatter = logcontext.PlainFormatter("%(levelname)s %(name)s%(context)s: %(message)s")
    assert formatted(formatter, request_id="r1", backup_id=7) == "INFO backups.cloud [req=r1 backup=7]: hello"
    assert formatted(formatter) == "INFO backups.cloud: hello"


def test_the_context_ends_with_its_block():
    with logcontext.log_context(backup_id=1):
        with logcontext.log_context(backup_id=2):
            assert logcontext.current("backup_id") == 2
        assert logcontext.current("backup_id") == 1
    assert logcontext.current("backup_id") is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "kept"),
    [(REQUEST_ID, True), ("x" * 65, False), ("evil\nINFO forged line", False), ("<script>", False), ("", False)],
)
def test_a_safe_incoming_request_id_is_kept_and_echoed_else_a_new_one(client, sent, kept):
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"]
    if kept:
        assert answered == sent
    else:
        assert answered != sent
        assert len(answered) == 32
        assert answered.isalnum()


@pytest.fixture
def json_worker(transactional_db, tmp_path):
    """A real worker (with beat) logging JSON lines to its log file."""
    purge_broker()
    worker = Worker(tmp_path, env={**WORKER_ENV, "LOG_FORMAT": "json"})
    worker.start()
    yield worker
    worker.stop()
    purge_broker()


def log_entries(worker: Worker) -> list[dict]:
    entries = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


@pytest.mark.integration
def test_a_backup_is_followed_from_the_click_to_the_cloud_and_back(json_worker, simulator, simulator_process):
    project = CloudProject.objects.create(name="eu-de_test", **simulator.project_fields())
    simulator.add_instance("orders-prod")
    simulator.configure(job_seconds=1)
    instances_sync(project=project)
    instance = Instance.objects.get()
    operator = UserFactory(username="oscar")
    MembershipFactory(user=operator, project=project, role=Membership.Role.OPERATOR)

    response = signed_in(operator).post(
        reverse("backups:backup_create", args=[instance.pk]),
        {"name": "orders-nightly", "description": "correlated"},
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    assert response["X-Request-ID"] == REQUEST_ID
    backup = Backup.objects.get()

    def completed():
        return Backup.objects.get(pk=backup.pk).status == Backup.Status.COMPLETED

    wait_for(completed, worker=json_worker)

    def logged_completion():
        return [e for e in log_entries(json_worker) if e.get("backup_id") == backup.pk and "completed" in e["message"]]

    wait_for(logged_completion, timeout=5, worker=json_worker)
    ours = [e for e in log_entries(json_worker) if e.get("backup_id") == backup.pk]
    submit = [e for e in ours if e.get("request_id") == REQUEST_ID]
    assert submit, json_worker.output()
    assert all(e.get("task_id") for e in submit)
    create = [e for e in submit if e.get("operation", "").startswith("POST ") and e["operation"].endswith("/backups")]
    assert len(create) == 1, submit
    assert 200 <= create[0]["status"] < 300
    # The id the cloud gave that call, as the cloud logged it.
    cloud_id = create[0]["cloud_request_id"]
    assert f"request_id={cloud_id}" in simulator_process.log_path.read_text()
    assert all(e.get("cloud_request_id") for e in ours if e.get("operation"))
    # Back: the poll that saw it finish names the backup too (its own task, started by beat).
    assert any(e.get("task_id") and "is now completed" in e["message"] for e in ours)
