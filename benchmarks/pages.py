"""Server-side time and SQL queries of the console's pages on a million backups.

Each page is requested in-process through Django's full stack (middleware, view, template)
with the test client: warm-up first, then many timed requests; p50 and p95 of the server
time, and the number of SQL queries of one request. The Django admin's change list over the
same table, with the same page size, is measured alongside for comparison.
"""

import statistics
import time
import tracemalloc
from urllib.parse import urlencode

from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backups.models import Backup
from backups.selectors.history import Cursor

from . import world

WARMUP = 5
REQUESTS = 60
PAGE_TARGET_MS = 50
QUERY_TARGET = 8
HISTORY_PAGE_SIZE = 50


def run(report) -> None:
    ids = world.seed(report)
    client = Client()
    client.force_login(ids["user"])
    history = reverse("backups:history")
    deep_cursor = _cursor_deep_in_the_past(client, history)
    pages = [
        ("overview", reverse("backups:overview")),
        ("instances", reverse("backups:instances")),
        ("history, first page", history),
        ("history, page deep in the past", f"{history}?{deep_cursor}"),
        ("history, by instance", f"{history}?{urlencode({'instance': ids['instance'].pk})}"),
        ("history, by status (failed)", f"{history}?status=failed"),
        ("history, by person", f"{history}?{urlencode({'person': _busy_requester().pk})}"),
        ("history, name search", f"{history}?q=backup-99999"),
        ("history live-refresh row (htmx)", reverse("backups:backup_row", args=[ids["running_backup"].pk])),
        ("backup detail", reverse("backups:backup_detail", args=[ids["old_backup"].pk])),
    ]
    api = {"HTTP_AUTHORIZATION": f"Bearer {_api_token(ids['user'])}"}
    deep_api_cursor = Cursor.decode(deep_cursor.partition("=")[2]).encode()
    pages += [
        ("API: backups, first page", "/api/v1/backups"),
        ("API: backups, page deep in the past", f"/api/v1/backups?{urlencode({'cursor': deep_api_cursor})}"),
        ("API: backups, by status (failed)", "/api/v1/backups?status=failed"),
        ("API: instances, first page", "/api/v1/instances"),
        ("API: one backup with its timeline", f"/api/v1/backups/{ids['old_backup'].pk}"),
    ]
    rows = []
    results = {}
    for label, url in pages:
        headers = {"HTTP_HX_REQUEST": "true"} if "htmx" in label else api if label.startswith("API") else {}
        p50, p95, queries = _measure(client, url, **headers)
        results[label] = (p50, p95, queries)
        ok = p95 <= PAGE_TARGET_MS and queries <= QUERY_TARGET
        rows.append([label, f"{p50:.1f}", f"{p95:.1f}", str(queries), "yes" if ok else "**no**"])

    admin = _admin_client()
    admin_url = reverse("admin:backups_backup_changelist")
    admin_p50, admin_p95, admin_queries = _measure(admin, admin_url, requests=20)
    deep_admin = f"{admin_url}?p={Backup.objects.count() // HISTORY_PAGE_SIZE - 1}"
    deep_p50, deep_p95, deep_queries = _measure(admin, deep_admin, requests=20)
    rows.append(
        ["Django admin change list, first page", f"{admin_p50:.1f}", f"{admin_p95:.1f}", str(admin_queries), ""]
    )
    rows.append(["Django admin change list, deep page", f"{deep_p50:.1f}", f"{deep_p95:.1f}", str(deep_queries), ""])
    report.metric("admin_first_p95", admin_p95)

    report.section("Pages: server time and SQL queries at a million backups")
    report.line(
        f"{REQUESTS} requests per page after {WARMUP} warm-up requests, in-process through the whole Django stack "
        f"(PostgreSQL on the same machine). Targets: p95 <= {PAGE_TARGET_MS} ms and <= {QUERY_TARGET} queries."
    )
    report.line()
    report.table(["page", "p50 ms", "p95 ms", "SQL queries", "meets target"], rows)
    first = results["history, first page"][1]
    deep = results["history, page deep in the past"][1]
    report.line(
        f"History vs the admin change list (same table, {HISTORY_PAGE_SIZE} rows a page in both): "
        f"first page {first / admin_p95:.2f}x, deep page {deep / deep_p95:.2f}x of the admin's p95 time."
    )
    report.line()
    _export(report, client, history)


def _measure(client: Client, url: str, *, requests: int = REQUESTS, **headers) -> tuple[float, float, int]:
    for _ in range(WARMUP):
        response = client.get(url, **headers)
        if response.status_code not in (200, 286):
            raise RuntimeError(f"{url} answered {response.status_code}")
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url, **headers)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url, **headers)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(queries)


def _cursor_deep_in_the_past(client: Client, history: str) -> str:
    """The query string of the history's 'older' link at a row about 2.5 years back."""
    older, target = Backup.objects.order_by("requested_at", "id")[149_999:150_001]
    query = urlencode({"after": Cursor.of(target).encode()})
    response = client.get(f"{history}?{query}")
    if response.status_code != 200 or older.name.encode() not in response.content:
        raise RuntimeError("the history did not page to the deep cursor")
    return query


def _api_token(user) -> str:
    """An operator token of the bench user for all their projects, with no rate limit: the
    benchmark sends hundreds of requests a minute, a pipeline does not."""
    from access.selectors.projects import visible_project_list
    from api import auth
    from api.services.tokens import token_create
    from webapp.throttle import Throttle

    auth.REQUESTS = Throttle("api-bench", limit=10**9, window=60)
    _, secret = token_create(user=user, name="bench", role="viewer", projects=visible_project_list(user))
    return secret


def _busy_requester():
    """Someone who did request backups: the world's `requester` (bench-user-07) never did, and
    measuring an empty page is not measuring the person filter."""
    newest = Backup.objects.filter(requested_by__isnull=False).order_by("-requested_at", "-id").first()
    return newest.requested_by


def _admin_client() -> Client:
    # The same page size as the history, for a like-for-like comparison.
    django_admin.site._registry[Backup].list_per_page = HISTORY_PAGE_SIZE
    admin, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(admin)
    return client


def _export(report, client: Client, history: str) -> None:
    """The CSV export: time, and peak Python memory while streaming, at two sizes."""
    rows = []
    for wanted in (1_000, 10_000, 100_000):
        since = Backup.objects.order_by("-requested_at", "-id")[wanted].requested_at.date()
        tracemalloc.start()
        started = time.perf_counter()
        response = client.get(reverse("backups:history_export"), {"since": since.isoformat()})
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append([f"{lines:,}", f"{elapsed:.2f} s", f"{peak / 1024 / 1024:.1f} MiB"])
        report.metric(f"export_{wanted}_peak_mib", peak / 1024 / 1024)
    report.section("CSV export (streamed)")
    report.line("Rows since a date; the date is chosen so the export holds about 1,000, 10,000 and 100,000 rows.")
    report.line()
    report.table(["rows", "time", "peak Python memory while streaming"], rows)
