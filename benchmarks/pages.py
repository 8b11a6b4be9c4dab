"""Server-side time and SQL queries of the console's pages and API lists on a million backups.

Each page is requested in-process through Django's full stack (middleware, view, template)
with the test client: warm-up first, then many timed requests; p50 and p95 of the server
time, and the number of SQL queries of one request. The Django admin's change list over the
same table, with the same page size, is measured in the same run: the history must take at
most a quarter of its time.
"""

import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import CloudProject
from backups.models import Backup
from backups.selectors.history import Cursor

from . import world

WARMUP = 5
REQUESTS = 60
ADMIN_REQUESTS = 20
PAGE_TARGET_MS = 50
QUERY_TARGET = 8
ADMIN_RATIO_LIMIT = 0.25
HISTORY_PAGE_SIZE = 50


def run(report) -> None:
    ids = world.seed(report)
    client = Client()
    client.force_login(ids["user"])
    history = reverse("backups:history")
    deep_cursor = _cursor_deep_in_the_past(client, history)
    a_year_ago = (timezone.now() - timedelta(days=365)).date()
    searches = _search_terms(a_year_ago)
    project = CloudProject.objects.order_by("name")[1]
    pages = [
        ("overview", reverse("backups:overview")),
        ("instances", reverse("backups:instances")),
        ("instance detail (protection)", reverse("backups:instance_detail", args=[ids["instance"].pk])),
        ("history, first page", history),
        ("history, page deep in the past", f"{history}?{deep_cursor}"),
        ("history, by project", f"{history}?{urlencode({'project': project.pk})}"),
        ("history, by instance", f"{history}?{urlencode({'instance': ids['instance'].pk})}"),
        ("history, by status (failed)", f"{history}?status=failed"),
        ("history, by person", f"{history}?{urlencode({'person': _busy_requester().pk})}"),
        ("history, automated only", f"{history}?person=auto"),
        (
            "history, one month a year ago (since + until)",
            f"{history}?{urlencode({'since': a_year_ago, 'until': a_year_ago + timedelta(days=30)})}",
        ),
        *((f"history, name search: {why} `{term}`", f"{history}?{urlencode({'q': term})}") for why, term in searches),
        # Requested by the instance filter once a history page is shown (every instance, by name).
        ("history: the instance filter's options, after the page", reverse("backups:history_instance_options")),
        ("backup detail", reverse("backups:backup_detail", args=[ids["old_backup"].pk])),
    ]
    api = {"HTTP_AUTHORIZATION": f"Bearer {_api_token(ids['user'])}"}
    deep_api_cursor = Cursor.decode(deep_cursor.partition("=")[2]).encode()
    pages += [
        ("API: backups, first page", "/api/v1/backups"),
        ("API: backups, page deep in the past", f"/api/v1/backups?{urlencode({'cursor': deep_api_cursor})}"),
        ("API: backups, by status (failed)", "/api/v1/backups?status=failed"),
        ("API: backups, name search `pre-deploy`", "/api/v1/backups?q=pre-deploy"),
        ("API: instances, first page", "/api/v1/instances"),
        ("API: projects", "/api/v1/projects"),
        ("API: one backup with its timeline", f"/api/v1/backups/{ids['old_backup'].pk}"),
    ]
    # A pipeline sends its token and no session cookie.
    api_client = Client()
    rows = []
    results = {}
    for label, url in pages:
        is_api = label.startswith("API")
        p50, p95, queries = _measure(api_client if is_api else client, url, **(api if is_api else {}))
        results[label] = (p50, p95, queries)
        ok = p95 <= PAGE_TARGET_MS and queries <= QUERY_TARGET
        before = report.previous(f"page_p95_ms: {label}")
        report.metric(f"page_p95_ms: {label}", p95)
        was = "" if before is None else f"{before:.1f}"
        rows.append([label, f"{p50:.1f}", f"{p95:.1f}", was, str(queries), "yes" if ok else "**no**"])

    admin = _admin_client()
    admin_url = reverse("admin:backups_backup_changelist")
    admin_first = _measure(admin, admin_url, requests=ADMIN_REQUESTS)
    deep_admin = f"{admin_url}?p={Backup.objects.count() // HISTORY_PAGE_SIZE - 1}"
    admin_deep = _measure(admin, deep_admin, requests=ADMIN_REQUESTS)
    for label, (p50, p95, queries) in (("first page", admin_first), ("deep page", admin_deep)):
        before = report.previous(f"page_p95_ms: Django admin change list, {label}")
        report.metric(f"page_p95_ms: Django admin change list, {label}", p95)
        was = "" if before is None else f"{before:.1f}"
        rows.append([f"Django admin change list, {label} (peer)", f"{p50:.1f}", f"{p95:.1f}", was, str(queries), ""])

    report.section("Pages: server time and SQL queries at a million backups")
    report.line(
        f"{REQUESTS} requests per page after {WARMUP} warm-up requests ({ADMIN_REQUESTS} for the admin), in-process "
        f"through the whole Django stack with production settings (PostgreSQL on the same machine). "
        f"Targets: p95 <= {PAGE_TARGET_MS} ms and <= {QUERY_TARGET} queries. Name searches use terms of the "
        f"seeded names: a rare one, a common one, a date as in the cloud's automated names, an instance name, "
        f"and a typo that matches nothing."
    )
    report.line()
    report.line(
        "*previous p95* is the last run's figure (docs/benchmarks.json); empty where the last run had no such page."
    )
    report.line()
    report.table(["page", "p50 ms", "p95 ms", "previous p95 ms", "SQL queries", "meets target"], rows)
    first_ratio = results["history, first page"][1] / admin_first[1]
    deep_ratio = results["history, page deep in the past"][1] / admin_deep[1]
    report.table(
        ["history vs the admin change list (p95, same rows, 50 a page)", "limit", "ratio", "meets limit"],
        [
            [label, f"<= {ADMIN_RATIO_LIMIT}x", f"{ratio:.2f}x", "yes" if ratio <= ADMIN_RATIO_LIMIT else "**no**"]
            for label, ratio in (("first page", first_ratio), ("page deep in the past", deep_ratio))
        ],
    )
    report.metric("pages_worst_p95_ms", max(p95 for _, p95, _ in results.values()))
    report.metric("pages_most_queries", max(queries for _, _, queries in results.values()))
    report.metric("history_admin_ratio_first_page", first_ratio)
    report.metric("history_admin_ratio_deep_page", deep_ratio)
    report.metric("admin_first_p95", admin_first[1])


def _measure(client: Client, url: str, *, requests: int = REQUESTS, **headers) -> tuple[float, float, int]:
    for _ in range(WARMUP):
        response = client.get(url, **headers)
        if response.status_code != 200:
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


def _search_terms(day) -> list[tuple[str, str]]:
    """(why, term): what people search the history for, each present in the seeded names."""
    return [
        ("rare", "fix-customer-4211"),
        ("common", "pre-deploy"),
        ("a date", f"{day:%Y%m%d}"),
        ("an instance", "orders-prod"),
        ("a typo, no match", "pre-deplyo"),
    ]


def _cursor_deep_in_the_past(client: Client, history: str) -> str:
    """The query string of the history's 'older' link at a row about 2.5 years back."""
    older, target = Backup.objects.order_by("requested_at", "id")[149_999:150_001]
    query = urlencode({"after": Cursor.of(target).encode()})
    response = client.get(f"{history}?{query}")
    if response.status_code != 200 or older.name.encode() not in response.content:
        raise RuntimeError("the history did not page to the deep cursor")
    return query


def _api_token(user) -> str:
    """A viewer token of the bench user for all their projects, with no rate limit: the
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
