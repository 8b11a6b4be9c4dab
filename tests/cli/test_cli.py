"""gdbc end to end: the CLI runs as a subprocess against the live console, a real Celery worker
and the GeminiDB simulator, with a personal access token, as a deploy pipeline would run it."""

import json
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.utils import timezone

from access.models import CloudProject, Membership
from api.services.tokens import token_create
from backups.models import Backup
from backups.services.sync import instances_sync
from tests.factories import BackupEventFactory, BackupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.integration

CLI_TIMEOUT = 120


@dataclass
class World:
    project: CloudProject
    operator: object
    token: str


@pytest.fixture
def world(simulator, transactional_db) -> World:
    """A project connected to the simulator with two instances, and an operator's token."""
    project = CloudProject.objects.create(name="eu-de_demo", **simulator.project_fields())
    simulator.add_instance("orders-prod")
    simulator.add_instance("sessions-cache")
    instances_sync(project=project)
    operator = UserFactory(username="oscar", first_name="Oscar", last_name="Operator")
    MembershipFactory(user=operator, project=project, role=Membership.Role.OPERATOR)
    _, secret = token_create(user=operator, name="deploy pipeline", role="operator", projects=[project])
    return World(project=project, operator=operator, token=secret)


def gdbc(url: str, token: str | None, *args: str) -> subprocess.CompletedProcess:
    """Run `python -m gdbc ARGS` as a user would, configured through the environment only."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GDBC_")}
    env["GDBC_URL"] = url
    if token is not None:
        env["GDBC_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "gdbc", *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT
    )


def test_create_and_wait_ends_completed_with_the_token_owner_as_requester(live_server, world, celery_worker, simulator):
    simulator.configure(job_seconds=1)

    result = gdbc(
        live_server.url, world.token,
        "backup", "create", "--project", "eu-de_demo", "--instance", "orders-prod", "--name", "pre-deploy-1234",
        "--description", "before release 42", "--wait", "--timeout", "90",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    backup = Backup.objects.get(name="pre-deploy-1234")
    assert backup.status == Backup.Status.COMPLETED
    assert backup.requested_by == world.operator
    assert backup.description == "before release 42"
    assert backup.instance.name == "orders-prod"
    assert f"Backup {backup.pk} (pre-deploy-1234) of orders-prod requested: queued" in result.stdout
    assert f"{live_server.url}/backups/{backup.pk}/" in result.stdout
    assert f"Backup {backup.pk} (pre-deploy-1234) completed" in result.stdout
    assert world.token not in result.stdout + result.stderr
    assert len([b for b in simulator.backups(backup.instance.cloud_id) if b["name"] == "pre-deploy-1234"]) == 1


def test_instance_may_be_named_by_cloud_id_and_project_by_cloud_project_id(live_server, world):
    instance = world.project.instances.get(name="sessions-cache")

    result = gdbc(
        live_server.url, world.token,
        "backup", "create", "--project", world.project.project_id, "--instance", instance.cloud_id,
        "--name", "by-cloud-ids", "--json",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    backup = Backup.objects.get(pk=answer["id"])
    assert backup.instance == instance
    assert answer["status"] == "queued"


def test_a_failed_cloud_job_exits_1_with_the_clouds_reason(live_server, world, celery_worker, simulator):
    simulator.configure(job_seconds=1, failure_rate=1.0)

    result = gdbc(
        live_server.url, world.token,
        "backup", "create", "--project", str(world.project.pk), "--instance", "orders-prod", "--name", "doomed-1",
        "--wait", "--timeout", "90",
    )  # fmt: skip

    assert result.returncode == 1, result.stdout + result.stderr
    backup = Backup.objects.get(name="doomed-1")
    assert backup.status == Backup.Status.FAILED
    assert backup.error_message
    assert f"Backup {backup.pk} failed: {backup.error_code}: {backup.error_message}" in result.stderr


def test_wait_gives_up_after_the_timeout_with_exit_3_and_the_backup_goes_on(
    live_server, world, celery_worker, simulator
):
    simulator.configure(job_seconds=3600)

    result = gdbc(
        live_server.url, world.token,
        "backup", "create", "--project", "eu-de_demo", "--instance", "orders-prod", "--name", "slow-one",
        "--wait", "--timeout", "1",
    )  # fmt: skip

    assert result.returncode == 3, result.stdout + result.stderr
    backup = Backup.objects.get(name="slow-one")
    assert "after 1 s; it goes on in the console" in result.stderr
    assert f"{live_server.url}/backups/{backup.pk}/" in result.stderr
    assert backup.status not in (Backup.Status.FAILED, Backup.Status.UNKNOWN)


def test_list_and_show_print_the_backup(live_server, world):
    instance = world.project.instances.get(name="orders-prod")
    requested = timezone.now() - timedelta(hours=2)
    older = BackupFactory(instance=instance, name="nightly-0001", requested_by=world.operator, requested_at=requested)
    failed = BackupFactory(
        instance=instance, name="nightly-0002", requested_by=world.operator,
        requested_at=requested + timedelta(hours=1), failed=True,
    )  # fmt: skip
    BackupEventFactory(backup=failed, at=failed.requested_at, message="by Oscar Operator")

    listed = gdbc(live_server.url, world.token, "backup", "list", "--project", "eu-de_demo")
    assert listed.returncode == 0, listed.stderr
    head, *rows = listed.stdout.splitlines()
    assert head.split() == ["ID", "PROJECT", "INSTANCE", "NAME", "STATUS", "REQUESTED", "BY", "REQUESTED", "AT"]
    assert rows[0].split()[:6] == [str(failed.pk), "eu-de_demo", "orders-prod", "nightly-0002", "failed", "oscar"]
    assert rows[1].split()[:6] == [str(older.pk), "eu-de_demo", "orders-prod", "nightly-0001", "completed", "oscar"]

    only_failed = gdbc(
        live_server.url, world.token, "backup", "list", "--instance", "orders-prod", "--status", "failed"
    )
    assert only_failed.returncode == 0, only_failed.stderr
    assert "nightly-0002" in only_failed.stdout
    assert "nightly-0001" not in only_failed.stdout

    one = gdbc(live_server.url, world.token, "backup", "list", "--limit", "1", "--json")
    assert [row["id"] for row in json.loads(one.stdout)["items"]] == [failed.pk]

    shown = gdbc(live_server.url, world.token, "backup", "show", str(failed.pk))
    assert shown.returncode == 0, shown.stderr
    assert f"{failed.pk} (nightly-0002)" in shown.stdout
    assert f"{failed.error_code}: {failed.error_message}" in shown.stdout
    assert "by Oscar Operator" in shown.stdout
    assert f"{live_server.url}/backups/{failed.pk}/" in shown.stdout

    as_json = gdbc(live_server.url, world.token, "backup", "show", str(failed.pk), "--json")
    detail = json.loads(as_json.stdout)
    assert detail["id"] == failed.pk
    assert detail["events"]


def test_a_bad_token_exits_4_with_the_apis_message(live_server, world):
    result = gdbc(live_server.url, "gdbc_not-a-real-token", "backup", "list")

    assert result.returncode == 4
    assert "The token is not valid" in result.stderr
    assert "gdbc_not-a-real-token" not in result.stderr


def test_a_viewer_token_may_not_create_and_exits_4(live_server, world):
    _, viewer_token = token_create(user=world.operator, name="dashboards", role="viewer", projects=[world.project])

    result = gdbc(
        live_server.url, viewer_token,
        "backup", "create", "--project", "eu-de_demo", "--instance", "orders-prod", "--name", "not-allowed",
    )  # fmt: skip

    assert result.returncode == 4
    assert "(403 permission_denied)" in result.stderr
    assert not Backup.objects.exists()


def test_an_invalid_name_exits_4_with_each_field_error(live_server, world):
    result = gdbc(
        live_server.url, world.token,
        "backup", "create", "--project", "eu-de_demo", "--instance", "orders-prod", "--name", "1-bad-name",
    )  # fmt: skip

    assert result.returncode == 4
    assert "\n  name: The name must start with a letter" in result.stderr
    assert not Backup.objects.exists()


def test_an_unknown_or_gone_instance_is_a_clear_error(live_server, world, simulator):
    unknown = gdbc(
        live_server.url, world.token,
        "backup", "create", "--project", "eu-de_demo", "--instance", "no-such-db", "--name", "never-made",
    )  # fmt: skip
    assert unknown.returncode == 2
    assert (
        unknown.stderr.strip()
        == "gdbc: no instance 'no-such-db' in project eu-de_demo (name, cloud instance id or console id)"
    )

    simulator.delete_instance(world.project.instances.get(name="sessions-cache").cloud_id)
    instances_sync(project=world.project)
    gone = gdbc(
        live_server.url, world.token,
        "backup", "create", "--project", "eu-de_demo", "--instance", "sessions-cache", "--name", "never-made",
    )  # fmt: skip
    assert gone.returncode == 2
    assert "no instance 'sessions-cache'" in gone.stderr
    assert not Backup.objects.exists()


def test_missing_token_is_a_usage_error(live_server):
    result = gdbc(live_server.url, None, "backup", "list")

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "gdbc: no API token: set GDBC_TOKEN or pass --token (make one on the console's API tokens page)"
    )


class FlakyProxy:
    """Forwards to the console, but answers the first POST with 502 after the console took it,
    and the first GET with 429: the CLI must retry, with the same Idempotency-Key."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.keys: list[str] = []
        self.failed = {"GET": False, "POST": False}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.forward(self, "GET")

            def do_POST(self):
                proxy.forward(self, "POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)) or None
        headers = {
            k: v
            for k, v in handler.headers.items()
            if k.lower() in ("authorization", "content-type", "idempotency-key")
        }
        if method == "GET" and not self.failed["GET"]:
            self.failed["GET"] = True
            return self.answer(
                handler, 429, b'{"code": "throttled", "message": "Slow down.", "fields": null}', {"Retry-After": "1"}
            )
        if method == "POST":
            self.keys.append(handler.headers["Idempotency-Key"])
        response = requests.request(method, self.upstream + handler.path, data=body, headers=headers, timeout=30)
        if method == "POST" and not self.failed["POST"]:
            self.failed["POST"] = True  # the backup is made; its answer is lost on the way back
            return self.answer(handler, 502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
        self.answer(
            handler,
            response.status_code,
            response.content,
            {
                k: v
                for k, v in response.headers.items()
                if k.lower() in ("content-type", "location", "retry-after", "idempotent-replayed")
            },
        )

    @staticmethod
    def answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        handler.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky_proxy(live_server):
    proxy = FlakyProxy(live_server.url)
    yield proxy
    proxy.close()


def test_a_retried_create_never_makes_a_second_backup(flaky_proxy, world):
    result = gdbc(
        flaky_proxy.url, world.token,
        "backup", "create", "--project", "eu-de_demo", "--instance", "orders-prod", "--name", "retried-once",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "429" in result.stderr
    assert "502" in result.stderr
    assert len(flaky_proxy.keys) == 2
    assert flaky_proxy.keys[0] == flaky_proxy.keys[1]
    backup = Backup.objects.get(name="retried-once")
    assert f"Backup {backup.pk} (retried-once) of orders-prod requested" in result.stdout


def test_version_and_exit_codes_in_help():
    version = subprocess.run([sys.executable, "-m", "gdbc", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == "gdbc 1.0.0"
    helped = subprocess.run([sys.executable, "-m", "gdbc", "--help"], capture_output=True, text=True, check=True)
    assert "exit codes:" in helped.stdout
    assert "5  the console could not be reached" in helped.stdout


def test_an_unreachable_console_exits_5_after_the_retries():
    with socket.socket() as unused:  # a port nothing listens on once closed
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    result = gdbc(f"http://127.0.0.1:{port}", "gdbc_any-token", "backup", "show", "1")

    assert result.returncode == 5
    assert result.stderr.count("trying again in") == 4
    assert "gave up after 5 tries" in result.stderr
