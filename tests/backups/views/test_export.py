"""The history's CSV export: every cell as the specification below says, whichever writer
(PostgreSQL's COPY, or Python's csv module on SQLite), scoped and filtered like the history,
streamed over real HTTP, and harmless to the connection when a download is cut short."""

import csv
import http.client
import io
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backups.models import Backup
from backups.selectors.export import copied_csv, history_csv, written_csv
from backups.selectors.history import HistoryFilters, history_for
from tests.factories import BackupFactory, InstanceFactory, MembershipFactory, UserFactory
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

EXPORT = reverse("backups:history_export")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
on_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="compares PostgreSQL's COPY with the Python writer: run with DATABASE_URL=postgres://…",
)

HEADER = (
    "project,instance,instance_id,name,status,progress_percent,origin,requested_by,"
    "requested_at_utc,started_at_utc,finished_at_utc,size_kb,job_id,backup_id,error_code\r\n"
)
# What each column holds, as the model names it.
FIELDS = (
    "instance__project__name",
    "instance__name",
    "instance__cloud_id",
    "name",
    "status",
    "progress",
    "origin",
    "requested_by__username",
    "requested_at",
    "started_at",
    "finished_at",
    "size_kb",
    "job_id",
    "backup_id",
    "error_code",
)


def spreadsheet_cell(value) -> str:
    """The specification of a cell: empty for nothing, times in UTC ISO 8601, and a leading
    apostrophe on a text a spreadsheet would otherwise run as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{value}"
    return str(value)


def specified_csv(backups) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in backups.values_list(*FIELDS):
        writer.writerow([spreadsheet_cell(value) for value in row])
    return HEADER.encode() + buffer.getvalue().encode()


def download(client, **params) -> bytes:
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content)


def rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode(), newline="")))


TRICKY_NAMES = [
    '=HYPERLINK("http://x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tTab first",
    "\rCR first",
    "comma, inside",
    'a "quoted" word',
    "line\nbreak",
    "lone\rcarriage return",
    "crlf\r\ninside",
    "ünïcødé ✓ 日本語 🎉",
    "'already apostrophed",
    " leading space",
    "\\.",
    "middle = + - @ are fine",
    "",
]


@pytest.fixture
def tricky_history(project, instance):
    """Every status and origin, formula characters in every text column, quotes, commas,
    newlines, unicode, NULLs, and times with and without microseconds."""
    hostile = UserFactory(username="@hostile")
    MembershipFactory(user=hostile, project=project)
    project.name = "+eu-de_prod"
    project.save()
    formula_instance = InstanceFactory(project=project, name="=cmd|' /C calc'!A0", cloud_id="-1+1in06")
    statuses, origins = list(Backup.Status), list(Backup.Origin)
    times = [
        T0,  # no microseconds: isoformat() leaves them out
        T0.replace(microsecond=120000),
        T0.replace(microsecond=1),
        datetime(2026, 3, 29, 3, 30, 15, 999999, tzinfo=ZoneInfo("Europe/Berlin")),  # not UTC
        datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),  # a four-digit year, zero-padded
    ]
    for n, name in enumerate(TRICKY_NAMES):
        status = statuses[n % len(statuses)]
        active = status in Backup.ACTIVE_STATUSES
        # At most one active backup per instance: each active one gets its own.
        where = InstanceFactory(project=project) if active else (formula_instance if n % 2 else instance)
        requested_at = times[n % len(times)] - timedelta(days=n)
        BackupFactory(
            instance=where,
            name=name,
            status=status,
            origin=origins[n % len(origins)],
            requested_by=None if n % 3 == 0 else hostile,
            requested_at=requested_at,
            started_at=None if n % 4 == 0 else requested_at + timedelta(seconds=n, microseconds=n * 37),
            finished_at=None if active else requested_at + timedelta(minutes=n),
            progress=None if n % 5 == 0 else n * 5 % 101,
            size_kb=None if n % 6 == 0 else 10**n,
            job_id=["", "=job", "+job", "job-1"][n % 4],
            backup_id=["", f"@backup-{n}", f"backup-{n}", f"-{n}"][n % 4],
            error_code=["", "=ERR", "DBS.201015", "\tE"][n % 4],
        )


def test_export_writes_every_cell_as_specified(operator_client, operator, tricky_history):
    content = download(operator_client)
    assert content.startswith(HEADER.encode())
    assert content == specified_csv(history_for(operator))
    rows = rows_of(content)
    assert len(rows) == len(TRICKY_NAMES)
    names = {row["name"] for row in rows}
    assert '\'=HYPERLINK("http://x")' in names
    assert "'\rCR first" in names
    assert "crlf\r\ninside" in names
    assert all(row["project"] == "'+eu-de_prod" for row in rows)
    assert {row["requested_by"] for row in rows} == {"", "'@hostile"}
    assert "2026-05-01T12:00:00+00:00" in {row["requested_at_utc"] for row in rows}
    assert "2026-04-30T12:00:00.120000+00:00" in {row["requested_at_utc"] for row in rows}


@on_postgresql
def test_copy_writes_the_same_bytes_as_the_python_writer(operator, tricky_history):
    backups = history_for(operator)
    copied = b"".join(copied_csv(backups))
    assert copied == b"".join(written_csv(backups))
    assert copied == specified_csv(backups)


def test_export_streams_the_filtered_rows(operator_client, project):
    orders, users = InstanceFactory(project=project, name="orders"), InstanceFactory(project=project, name="users")
    BackupFactory(instance=orders, name="wanted-1", requested_at=T0, size_kb=1234)
    BackupFactory(instance=orders, name="wanted-2", requested_at=T0 + timedelta(minutes=1), automated=True)
    BackupFactory(instance=users, name="unwanted")
    BackupFactory(instance=orders, name="=HYPERLINK(evil)", origin=Backup.Origin.CLOUD_MANUAL, requested_by=None)
    response = operator_client.get(EXPORT, {"instance": orders.pk})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="backup-history-')
    rows = rows_of(b"".join(response.streaming_content))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(evil)", "wanted-2", "wanted-1"]
    assert rows[2]["size_kb"] == "1234"
    assert rows[2]["requested_at_utc"] == "2026-05-01T12:00:00+00:00"
    assert rows[1]["origin"] == "cloud_auto"
    assert rows[1]["requested_by"] == ""


def test_export_applies_every_filter_of_the_history(operator_client, operator, project, instance):
    other = InstanceFactory(project=project, name="other")
    BackupFactory(instance=instance, name="sale 50%_off", requested_at=T0, failed=True, requested_by=operator)
    BackupFactory(instance=instance, name="sale 50x off", requested_at=T0, failed=True, requested_by=operator)
    BackupFactory(instance=instance, name="sale 50%_off too early", requested_at=T0 - timedelta(days=3), failed=True)
    BackupFactory(instance=instance, name="sale 50%_off completed", requested_at=T0)
    BackupFactory(instance=other, name="sale 50%_off elsewhere", requested_at=T0, failed=True)
    BackupFactory(instance=instance, name="sale 50%_off by the cloud", requested_at=T0, failed=True, automated=True)
    query = {"q": "50%_off", "status": "failed", "since": "2026-05-01", "until": "2026-05-01"}
    names = {row["name"] for row in rows_of(download(operator_client, **query))}
    assert names == {"sale 50%_off", "sale 50%_off elsewhere", "sale 50%_off by the cloud"}
    names = {row["name"] for row in rows_of(download(operator_client, **query, instance=instance.pk, person="auto"))}
    assert names == {"sale 50%_off by the cloud"}
    names = {row["name"] for row in rows_of(download(operator_client, **query, person=operator.pk))}
    assert names == {"sale 50%_off"}
    filtered = history_for(operator, HistoryFilters(search="50%_off", status="failed"))
    assert download(operator_client, q="50%_off", status="failed") == specified_csv(filtered)


def test_export_never_shows_another_projects_rows(operator_client, instance, other_project):
    BackupFactory(instance=instance, name="ours")
    elsewhere = InstanceFactory(project=other_project, name="their-instance")
    BackupFactory(instance=elsewhere, name="theirs")
    for query in ({}, {"project": other_project.pk}, {"instance": elsewhere.pk}, {"q": "theirs"}):
        content = download(operator_client, **query)
        assert b"theirs" not in content
        assert b"their-instance" not in content
        assert b"eu-de_elsewhere" not in content
    assert [row["name"] for row in rows_of(download(operator_client))] == ["ours"]


def test_export_for_someone_in_no_project_is_the_header_alone(instance):
    BackupFactory(instance=instance)
    assert download(signed_in(UserFactory())) == HEADER.encode()


def test_export_reads_nothing_until_the_download_starts_then_runs_one_query(operator_client, instance):
    for n in range(30):
        BackupFactory(instance=instance, requested_at=T0 - timedelta(minutes=n))
    with CaptureQueriesContext(connection) as queries:
        response = operator_client.get(EXPORT)
        before = [q["sql"] for q in queries.captured_queries if "backups_backup" in q["sql"]]
        content = b"".join(response.streaming_content)
        during = [q["sql"] for q in queries.captured_queries if "backups_backup" in q["sql"]][len(before) :]
    assert before == []
    assert len(content.splitlines()) == 31
    assert len(during) == 1
    if connection.vendor == "postgresql":
        assert during[0].startswith("COPY (SELECT ")


def many_backups(instance, count: int) -> None:
    Backup.objects.bulk_create(
        Backup(
            instance=instance,
            name=f"bulk-{n:06d}-{'x' * 40}",
            requested_at=T0 - timedelta(seconds=n),
            status=Backup.Status.COMPLETED,
            job_id=f"job-{n:032d}",
            backup_id=f"{n:032x}br06",
            size_kb=n,
        )
        for n in range(count)
    )


@pytest.mark.django_db(transaction=True)
def test_a_download_stopped_halfway_leaves_the_connection_usable(operator, instance):
    many_backups(instance, 20_000)  # a few MB: far more than the socket holds, so the query is mid-way
    chunks = history_csv(history_for(operator))
    assert next(chunks).startswith(b"project,")
    assert next(chunks).startswith(b"eu-de_prod,orders-prod,")
    chunks.close()  # what the WSGI server does when the client goes away
    assert Backup.objects.count() == 20_000  # the same connection answers the next query
    if connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        assert connection.connection.info.transaction_status == TransactionStatus.IDLE


def session_cookie(user) -> dict[str, str]:
    client = signed_in(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def test_export_arrives_whole_over_http_in_chunks(live_server, operator, instance):
    many_backups(instance, 5_000)
    expected = b"".join(history_csv(history_for(operator)))
    with requests.get(live_server.url + EXPORT, cookies=session_cookie(operator), stream=True, timeout=60) as answer:
        assert answer.status_code == 200
        assert "Content-Length" not in answer.headers  # streamed, not built in memory first
        received = b"".join(answer.iter_content(chunk_size=None))
    assert received == expected
    assert len(received.splitlines()) == 5_001


def test_an_abandoned_download_leaves_no_query_running(live_server, operator, instance):
    many_backups(instance, 20_000)
    url, cookies = live_server.url + EXPORT, session_cookie(operator)
    with requests.get(url, cookies=cookies, stream=True, timeout=60) as answer:
        assert next(answer.iter_content(chunk_size=1024)).startswith(b"project,")
    # Closed after one KB. The server notices at its next write and ends the query.
    if connection.vendor == "postgresql":
        deadline = time.monotonic() + 20
        while running_copies() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert running_copies() == []
    with requests.get(url, cookies=cookies, timeout=60) as answer:
        assert len(answer.content.splitlines()) == 20_001


def running_copies() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' "
            "AND datname = current_database() AND query LIKE 'COPY (%%'"
        )
        return [row[0] for row in cursor.fetchall()]


def database_url() -> str:
    """The test database, for a server started outside this process."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """gunicorn as production runs it (gunicorn.conf.py), on the test database, with its worker
    timeout cut to 2 s: a response that a timeout could cut is cut quickly here."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", "webapp.wsgi", "-c", "gunicorn.conf.py"]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}", "--timeout", "2", "--workers", "1"],
            cwd=settings.BASE_DIR,
            env={**os.environ, "DATABASE_URL": database_url()},
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    try:
        deadline = time.monotonic() + 60
        while not serving(port):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def serving(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
    except requests.RequestException:
        return False


def test_a_slow_download_outlasts_gunicorns_worker_timeout(gunicorn, operator, instance):
    port, server = gunicorn
    many_backups(instance, 50_000)  # about 10 MB: more than the sockets' buffers hold (Linux: 4 MB at most)
    name, value = next(iter(session_cookie(operator).items()))
    answer = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    # A small receive window, read slowly (about 1.3 MB/s): the server waits on this client
    # for several of its 2 s worker timeouts while its export is half sent.
    answer.sock = socket.socket()
    answer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    answer.sock.settimeout(60)
    answer.sock.connect(("127.0.0.1", port))
    started = time.monotonic()
    answer.request("GET", EXPORT, headers={"Cookie": f"{name}={value}"})
    response = answer.getresponse()
    assert response.status == 200
    received = bytearray()
    while chunk := response.read(64 * 1024):
        received += chunk
        time.sleep(0.05)
    answer.close()
    assert time.monotonic() - started > 4
    assert bytes(received) == b"".join(history_csv(history_for(operator)))
    assert len(received.splitlines()) == 50_001
    assert server.poll() is None
