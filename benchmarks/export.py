"""The history's CSV export as a user meets it: production settings, over HTTP through gunicorn
started with gunicorn.conf.py, signed in with a session cookie, downloaded by a streaming client.

At about 10,000 and 100,000 rows and the whole history: rows per second, whether every row
arrived, and the serving worker's peak memory beside its memory before. The limit, measured in
the same run on the same database: a bare `COPY (SELECT the same columns FROM the same rows)
TO STDOUT` read by psycopg in this process, with no formatting, no HTTP and no Python per row.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from backups.models import Backup
from backups.selectors.history import HistoryFilters, history_for

from . import world
from .proc import children, status_kib

REPO = Path(__file__).resolve().parent.parent
TARGET_ROWS_PER_S = 50_000
# Issue 15's figure for the Python csv writer over HTTP, measured the same way (no tracemalloc).
BEFORE_ROWS_PER_S = 20_000
SIZES = (10_000, 100_000)
# The whole history and the bare COPY are each timed this many times; the best counts.
ROUNDS = 2
# What the CSV holds, as the model names it: the limit's COPY selects these, unformatted.
BARE_COLUMNS = (
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


def run(report) -> None:
    ids = world.seed(report)
    user = ids["user"]
    visible = history_for(user).count()
    cookies = _session_cookie(user)
    downloads = []
    with _gunicorn() as (base_url, worker):
        url = base_url + reverse("backups:history_export")
        requests.get(url, params={"q": "warm-up"}, cookies=cookies, timeout=60).raise_for_status()
        for wanted in SIZES:
            since = Backup.objects.order_by("-requested_at", "-id")[wanted].requested_at.date()
            expected = history_for(user, HistoryFilters(since=since)).count()
            download = _download(f"{url}?{urlencode({'since': since.isoformat()})}", cookies, worker)
            downloads.append((f"since {since} (about {wanted:,})", expected, download))
        whole = min((_download(url, cookies, worker) for _ in range(ROUNDS)), key=lambda d: d.seconds)
        downloads.append(("the whole history", visible, whole))
    copy_seconds = min(_bare_copy_seconds(user) for _ in range(ROUNDS))
    copy_rate = visible / copy_seconds
    whole_rate = whole.rows / whole.seconds

    report.section("CSV export over HTTP (streamed)")
    report.line(
        "gunicorn with gunicorn.conf.py (gthread; one worker process, `WEB_CONCURRENCY=1`) and the "
        "production settings on a free port; the bench user (sees all 3 projects) signed in with a "
        "session cookie; `requests` streams the download. Worker memory: the gunicorn worker's RSS "
        "before each download and its peak during it (`VmHWM`, reset before each download): flat "
        "means the same whatever the number of rows."
    )
    report.line()
    report.table(
        ["export", "rows", "all rows arrived", "MB", "time", "rows/s", "worker RSS before → peak"],
        [
            [
                label,
                f"{d.rows:,}",
                "yes" if d.rows == expected else f"**no**: {expected:,} expected",
                f"{d.bytes / 1e6:,.0f}",
                f"{d.seconds:.2f} s",
                f"{d.rows / d.seconds:,.0f}",
                f"{d.rss_before / 2**20:,.0f} → {d.rss_peak / 2**20:,.0f} MiB",
            ]
            for label, expected, d in downloads
        ],
    )
    report.table(
        [f"the whole history (best of {ROUNDS})", "rows/s", "share of the limit"],
        [
            ["this export, over HTTP", f"{whole_rate:,.0f}", f"{whole_rate / copy_rate:.2f}"],
            ["limit: bare `COPY … TO STDOUT` of the same rows, in-process", f"{copy_rate:,.0f}", "1.00"],
            ["target", f"≥ {TARGET_ROWS_PER_S:,}", ""],
            ["before (issue 15: Python csv writer over HTTP)", f"≈ {BEFORE_ROWS_PER_S:,}", ""],
        ],
    )
    report.metric("export_whole_rows_per_s", whole_rate)
    report.metric("export_copy_limit_rows_per_s", copy_rate)
    report.metric("export_ratio_to_copy", whole_rate / copy_rate)
    report.metric("export_whole_complete", float(whole.rows == visible))
    report.metric("export_whole_worker_rss_growth_mib", (whole.rss_peak - whole.rss_before) / 2**20)


@dataclass
class _Download:
    rows: int
    bytes: int
    seconds: float
    rss_before: int  # of the gunicorn worker, in bytes
    rss_peak: int


def _download(url: str, cookies: dict, worker: int) -> _Download:
    rss_before = status_kib(worker, "VmRSS") * 1024
    # "5" resets the peak RSS (VmHWM) to the current RSS: proc(5), /proc/pid/clear_refs.
    Path(f"/proc/{worker}/clear_refs").write_text("5")
    lines = size = 0
    started = time.perf_counter()
    with requests.get(url, cookies=cookies, stream=True, timeout=60) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_content(chunk_size=None):
            lines += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.perf_counter() - started
    # The world's names hold no newline: one line per row, after the header.
    return _Download(lines - 1, size, seconds, rss_before, status_kib(worker, "VmHWM") * 1024)


def _bare_copy_seconds(user) -> float:
    """psycopg reads the same rows' columns, unformatted, as COPY writes them: the limit."""
    rows = history_for(user).values_list(*BARE_COLUMNS)
    sql, params = rows.query.get_compiler(connection=connection).as_sql()
    statement = f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT WITH (FORMAT csv)"
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for _ in copy:
            pass
    return time.perf_counter() - started


def _session_cookie(user) -> dict[str, str]:
    """A real session in the database, as signing in makes one."""
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


@contextmanager
def _gunicorn():
    """gunicorn as production runs it (`gunicorn webapp.wsgi -c gunicorn.conf.py`), on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "webapp.wsgi", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
            cwd=REPO,
            # One worker process (threads as configured), so the worker measured is the one that served.
            env={**os.environ, "WEB_CONCURRENCY": "1"},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            _wait_until_up(base_url, server, log)
            (worker,) = children(server.pid)
            yield base_url, worker
        finally:
            server.terminate()
            server.wait(timeout=60)


def _wait_until_up(base_url: str, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read().decode()[-3000:]}")
        try:
            if requests.get(base_url + "/healthz", timeout=5).ok:
                return
        except requests.RequestException:  # not listening yet, or still importing the app
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")
