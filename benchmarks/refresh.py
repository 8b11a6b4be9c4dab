"""Live refresh: what one open history page costs while backups run.

Counted in headless Chromium over HTTP, against gunicorn serving the console as production
does (`gunicorn.conf.py`, DEBUG off): the requests one open history page sends in
WINDOW_SECONDS, with 1 and with 50 of its rows running, while the cloud moves a few of them
on. Then, in-process through Django's whole stack as in `pages.py`, the server time and SQL
queries of the poll's answers: unchanged (204), one row changed, every row changed, and the
other live parts (the overview's running panel, a running backup's page) when unchanged.

The "before" column is the previous protocol (each active row polled its own URL every
2 s). Its code is gone from this tree, so the figures recorded below (measured the same way
at commit 25d8279) are shown, unless REFRESH_BEFORE names a checkout of that commit
(`git worktree add /tmp/refresh-before 25d8279`): then it is served and counted in this run.
The bench builds its own projects beside the pages' world and removes them at the end.
"""

import html
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import CloudProject, Membership
from backups.models import Backup, Instance

REPO = Path(__file__).resolve().parent.parent
PAGE_SIZE = 50
RUNNING_COUNTS = (1, 50)
WINDOW_SECONDS = 30
INTERVAL_SECONDS = 2  # the history table's hx-trigger="every 2s"
UNCHANGED_TARGET_MS = 5
WARMUP, REQUESTS = 20, 200
# Requests per minute of one open history page under the previous protocol, measured on
# 2026-12-02 at commit 25d8279 with this file's browser count (REFRESH_BEFORE).
BEFORE_COMMIT = "25d8279"
BEFORE_PER_MINUTE = {1: 28.5, 50: 1436.3}
LIVE_INPUT = re.compile(r'<input type="hidden" name="live" value="([^"]+)">')
LIVE_POLL = re.compile(r'hx-get="([^"]+)" hx-trigger="every \ds"')
POLL_PASS = re.compile(r'<input type="hidden" id="poll-pass" name="poll" value="([^"]+)">')
PREFIX = "bench-refresh"


def run(report) -> None:
    report.section("Live refresh: one request per open page per interval")
    _remove()
    try:
        users = {running: _busy_project(running) for running in RUNNING_COUNTS}
        before = {running: {"per_minute": figure} for running, figure in BEFORE_PER_MINUTE.items()}
        before_source = f"recorded at {BEFORE_COMMIT}"
        if checkout := os.environ.get("REFRESH_BEFORE"):
            with Gunicorn(Path(checkout)) as server:
                before = count_in_chromium(server.url, users)
            before_source = f"measured in this run, {checkout}"
        with Gunicorn(REPO) as server:
            counts = count_in_chromium(server.url, users)
        costs = _answer_costs(users[max(RUNNING_COUNTS)])
    finally:
        _remove()
    _report(report, before, before_source, counts, costs)


def _busy_project(running: int):
    """A project with a page of backups, `running` of them running, and a viewer who sees
    only it."""
    project = CloudProject.objects.create(
        name=f"{PREFIX}-{running}",
        region="eu-de",
        project_id=f"{PREFIX}-{running}",
        iam_endpoint="https://iam.example.test",
        geminidb_endpoint="https://geminidb.example.test",
        iam_domain="bench",
        iam_user="bench",
        iam_password="bench",  # noqa: S106 - a project no call is made for
        instances_synced_at=timezone.now(),
    )
    now = timezone.now()
    instances = Instance.objects.bulk_create(
        Instance(project=project, cloud_id=f"{PREFIX}-{running}-{n}", name=f"cassandra-{n:02d}", status="normal",
                 synced_at=now)
        for n in range(PAGE_SIZE)
    )  # fmt: skip
    backups = []
    for n, instance in enumerate(instances):
        requested = now - timedelta(minutes=n + 1)
        active = n < running
        backups.append(
            Backup(
                instance=instance,
                name=f"{instance.name}-{requested:%Y%m%d-%H%M}",
                origin=Backup.Origin.CLOUD_AUTO,
                requested_at=requested,
                started_at=requested + timedelta(seconds=5),
                status=Backup.Status.RUNNING if active else Backup.Status.COMPLETED,
                progress=10 + n if active else 100,
                finished_at=None if active else requested + timedelta(seconds=50),
                size_kb=None if active else 7_340_032,
            )
        )
    Backup.objects.bulk_create(backups)
    user = get_user_model().objects.create_user(f"{PREFIX}-{running}")
    Membership.objects.create(user=user, project=project, role=Membership.Role.VIEWER)
    return user


def _remove() -> None:
    projects = CloudProject.objects.filter(name__startswith=PREFIX)
    Backup.objects.filter(instance__project__in=projects).delete()
    projects.delete()
    get_user_model().objects.filter(username__startswith=PREFIX).delete()


class Gunicorn:
    """The console in `root` served by gunicorn with its config, on a free local port."""

    def __init__(self, root: Path):
        self.root = root

    def __enter__(self):
        if self.root != REPO:  # production serves hashed static files from a manifest
            manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
            subprocess.run(manage, cwd=self.root, check=True)  # noqa: S603 - our own interpreter
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-refresh-gunicorn-", suffix=".log", delete=False)
        command = [sys.executable, "-m", "gunicorn", "webapp.wsgi", "-c", "gunicorn.conf.py"]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [*command, "--bind", f"127.0.0.1:{port}"], cwd=self.root, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2)  # noqa: S310 - our own server
                return self
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.__exit__()
                    raise RuntimeError(f"gunicorn did not start: see {self.log.name}") from None
                time.sleep(0.2)

    def __exit__(self, *exc_info):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def count_in_chromium(base_url: str, users: dict, seconds: int = WINDOW_SECONDS) -> dict:
    """Open one history page per user at once and count, for `seconds`, the requests each
    sends and the answers' statuses, while a few running backups move on."""
    from tests.browser.support import chromium

    sent: dict[int, list[tuple[float, str]]] = {running: [] for running in users}
    answers: dict[int, list[int]] = {running: [] for running in users}
    # Signed in before Playwright starts: its event loop makes Django refuse ORM calls here.
    sessions = {running: _session(user) for running, user in users.items()}
    with chromium() as browser:
        pages = {}
        for running in users:
            context = browser.new_context(base_url=base_url)
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": sessions[running], "url": base_url}])
            page = context.new_page()
            page.goto("/history/")
            _check(page.locator("tr.is-active").count() == running, "the page shows its running rows")
            page.on("request", lambda request, r=running: sent[r].append((time.monotonic(), request.url)))
            page.on("response", lambda response, r=running: answers[r].append(response.status))
            pages[running] = page
        stop = threading.Event()
        mover = threading.Thread(target=_move_on, args=(users, stop))
        mover.start()
        try:
            next(iter(pages.values())).wait_for_timeout(seconds * 1000)
        finally:
            stop.set()
            mover.join()
    return {
        running: {
            "per_minute": _per_minute([at for at, _ in sent[running]]),
            "live_only": all(urlsplit(url).path == "/history/live/" for _, url in sent[running]),
            "unchanged": answers[running].count(204),
            "changed": answers[running].count(200),
        }
        for running in users
    }


def _per_minute(times: list[float]) -> float:
    """The rate between the first and the last request: a count over a fixed window would
    gain or lose one request depending on where the window falls between two polls."""
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) * 60 / (times[-1] - times[0])


def _move_on(users: dict, stop: threading.Event) -> None:
    """The cloud at work: every few seconds a tenth of each page's running backups progress."""
    try:
        while not stop.wait(3):
            for user in users.values():
                running = list(
                    Backup.objects.filter(instance__project__memberships__user=user, status=Backup.Status.RUNNING)
                    .order_by("?")
                    .values_list("pk", flat=True)
                )
                moved = running[: max(1, len(running) // 10)]
                Backup.objects.filter(pk__in=moved, progress__lt=99).update(progress=F("progress") + 1)
    finally:
        connections.close_all()


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _answer_costs(user) -> dict:
    """Server time (p50, p95 in ms) and SQL queries of each live answer, for the page with
    every row running."""
    client = Client()
    client.force_login(user)
    history = client.get(reverse("backups:history")).content.decode()
    rows = LIVE_INPUT.findall(history)
    poll_pass = POLL_PASS.search(history).group(1)
    _check(len(rows) == PAGE_SIZE, "every row of the page runs")
    live = reverse("backups:history_live")
    one_changed = [f"{rows[0].partition('.')[0]}.stale", *rows[1:]]
    all_changed = [f"{row.partition('.')[0]}.stale" for row in rows]
    overview_poll = html.unescape(LIVE_POLL.search(client.get(reverse("backups:overview")).content.decode()).group(1))
    running = Backup.objects.filter(instance__project__memberships__user=user, status=Backup.Status.RUNNING).first()
    detail_poll = LIVE_POLL.search(client.get(reverse("backups:backup_detail", args=[running.pk])).content.decode())
    htmx = {"HTTP_HX_REQUEST": "true"}

    def poll(live_rows, with_pass=True):
        return f"{live}?{urlencode({'live': live_rows, **({'poll': poll_pass} if with_pass else {})}, doseq=True)}"

    cases = {
        # The floor under every answer: reading the poll's pass (access.pollpass), nothing of the page's.
        "history poll naming no rows (its pass only)": (poll([]), 286),
        # What a poll without a valid pass costs (once a minute, when the pass is renewed).
        "history poll naming no rows, no pass (signs in)": (poll([], with_pass=False), 286),
        "history poll, 50 running rows, none changed": (poll(rows), 204),
        "history poll, 50 running rows, none changed, no pass (signs in, renews the pass)": (
            poll(rows, with_pass=False),
            200,
        ),
        "history poll, 50 running rows, 1 changed": (poll(one_changed), 200),
        "history poll, 50 running rows, all changed": (poll(all_changed), 200),
        "overview running panel, unchanged": (overview_poll, 204),
        "running backup's page, unchanged": (html.unescape(detail_poll.group(1)), 204),
    }
    costs = {}
    for label, (url, status) in cases.items():
        for _ in range(WARMUP):
            _check(client.get(url, **htmx).status_code == status, f"{label} answers {status}")
        times = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get(url, **htmx)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, **htmx)
        cut = statistics.quantiles(times, n=20)
        costs[label] = (statistics.median(times), cut[18], len(queries.captured_queries), status)
    return costs


def _report(report, before: dict, before_source: str, counts: dict, costs: dict) -> None:
    report.line(
        f"One history page open in headless Chromium for {WINDOW_SECONDS} s over HTTP (gunicorn, DEBUG off), "
        f"a tenth of its running backups progressing every 3 s. Target: one request per "
        f"{INTERVAL_SECONDS} s interval ({60 // INTERVAL_SECONDS}/min) whatever the number of running rows."
    )
    report.line()
    rows = []
    for running, count in counts.items():
        rows.append(
            [
                f"{running} running",
                f"{before[running]['per_minute']:,.1f}",
                f"{count['per_minute']:.1f}",
                f"{60 / INTERVAL_SECONDS:.0f}",
                f"{count['unchanged']} unchanged (204), {count['changed']} with changed rows (200)",
            ]
        )
        report.metric(f"refresh_requests_per_minute_{running}_running", count["per_minute"])
        _check(count["live_only"], "the page sends nothing but its poll")
    report.table(
        ["history page", f"before (req/min; {before_source})", "now (req/min)", "limit (req/min)", "answers"], rows
    )
    report.line(
        f"Server time of each answer, in-process through the whole stack (as for the pages), "
        f"{REQUESTS} requests after {WARMUP} warm-up; an unchanged answer is an empty 204 "
        f"(target ≤ {UNCHANGED_TARGET_MS} ms)."
    )
    report.line()
    rows = []
    for label, (p50, p95, queries, status) in costs.items():
        target = {204: f"≤ {UNCHANGED_TARGET_MS} ms", 286: "the floor"}.get(status, "—")
        rows.append([label, str(status), f"{p50:.2f} ms", f"{p95:.2f} ms", target, str(queries)])
    report.table(["answer", "status", "p50", "p95", "target", "SQL queries"], rows)
    unchanged = costs["history poll, 50 running rows, none changed"]
    report.metric("refresh_unchanged_p95_ms", unchanged[1])


def _check(condition: bool, what: str) -> None:
    """A premise of the measurement; a bench that measured something else must say so."""
    if not condition:
        raise RuntimeError(f"refresh bench: expected that {what}")
