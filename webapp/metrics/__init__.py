"""Prometheus metrics: every metric the console records, and the one-line helpers that record them.

Two kinds (docs/operations.md lists them all):

- Counters and a histogram recorded where things happen, in whichever web or worker process
  that is. With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn workers, Celery prefork children)
  prometheus_client keeps each process's values in files in that directory and a scrape sums
  them; without it they live in this process only (``make run``, tests).
- Gauges read from the database and the cache at scrape time (``collector.py``), so every
  process answers the same truth and no gauge needs a ``multiprocess_mode``.

Recording never breaks the caller: a helper that fails logs and returns. Labels take values
from small fixed sets only (states, operations, result classes, channel kinds): never a name,
an id or a URL.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from celery.signals import worker_process_shutdown
from django.db import transaction
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def multiprocess_dir() -> str | None:
    """The directory shared by all processes in multiprocess mode, or None."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


if directory := multiprocess_dir():
    # prometheus_client writes there from the first metric on; a missing directory would fail it.
    os.makedirs(directory, exist_ok=True)
    # Each process writes files named by its pid. Containers that share the directory (web and
    # worker in docker-compose.yml) number their processes alike: with the host name in the
    # name, web's process 7 and the worker's process 7 never write into one file.
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: f"{socket.gethostname()}-{os.getpid()}")

# The live metrics, apart from prometheus_client's default registry (which also holds its
# process and platform collectors, meaningless summed over processes).
LIVE = CollectorRegistry(auto_describe=True)

BACKUP_OUTCOMES = Counter(
    "console_backup_outcomes", "Backups that reached an end, by outcome.", ["outcome"], registry=LIVE
)
AMBIGUOUS_CREATES = Counter(
    "console_backup_ambiguous_creates",
    "Create-backup calls whose answer was lost (looked up by name before the next attempt).",
    registry=LIVE,
)
COMPLETION_LAG = Histogram(
    "console_backup_completion_lag_seconds",
    "From the end time the cloud reports for a backup to the moment the console records it.",
    buckets=(5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
    registry=LIVE,
)
CLOUD_CALLS = Counter(
    "console_cloud_calls",
    "HTTP exchanges with IAM and GeminiDB (retries each count), by operation and result.",
    ["operation", "result"],
    registry=LIVE,
)
BUDGET_WAIT = Counter(
    "console_cloud_budget_wait_seconds", "Time spent waiting for the shared cloud call budget.", registry=LIVE
)
NOTIFICATION_DELIVERIES = Counter(
    "console_notification_deliveries",
    "Notification delivery attempts, by channel kind and result (retry: will be tried again).",
    ["kind", "result"],
    registry=LIVE,
)
EMAILS = Counter("console_emails", "Email send attempts from the outbox, by result.", ["result"], registry=LIVE)

OUTCOMES = ("completed", "failed", "unknown")
# Series that exist from the start, so that increase() sees the first event.
for _outcome in OUTCOMES:
    BACKUP_OUTCOMES.labels(_outcome)
CLOUD_CALLS.labels("create_backup", "2xx")


def _never_raises(record: F) -> F:
    @functools.wraps(record)
    def safe(*args: Any, **kwargs: Any) -> None:
        try:
            record(*args, **kwargs)
        except Exception:
            log.exception("recording metric %s failed", record.__name__)

    return safe  # type: ignore[return-value]


@_never_raises
def backup_outcome(status: str) -> None:
    """Count a backup's end (completed, failed, unknown) once the caller's transaction commits."""
    if status in OUTCOMES:
        transaction.on_commit(functools.partial(_backup_outcome_committed, status))


@_never_raises
def _backup_outcome_committed(status: str) -> None:
    BACKUP_OUTCOMES.labels(status).inc()


@_never_raises
def completion_lag(finished_at: datetime | None) -> None:
    """Observe how long after the cloud's end time the console recorded a backup's end."""
    if finished_at is not None:
        COMPLETION_LAG.observe(max(0.0, time.time() - finished_at.timestamp()))


@_never_raises
def ambiguous_create() -> None:
    AMBIGUOUS_CREATES.inc()


@_never_raises
def cloud_budget_waited(seconds: float) -> None:
    BUDGET_WAIT.inc(max(0.0, seconds))


@_never_raises
def notification_delivery(kind: str, result: str) -> None:
    """``kind`` is the channel's kind (email, webhook, slack…); ``result`` sent, retry or failed."""
    NOTIFICATION_DELIVERIES.labels(kind, result).inc()


@_never_raises
def email_attempt(result: str) -> None:
    """``result`` is sent, retry or failed."""
    EMAILS.labels(result).inc()


# The client's operations by method and path (backups/cloud/client.py, and the IAM token).
_OPERATIONS = (
    ("POST", re.compile(r"/v3/auth/tokens$"), "token"),
    ("POST", re.compile(r"/instances/[^/]+/backups$"), "create_backup"),
    ("GET", re.compile(r"/backups/policy$"), "get_backup_policy"),
    ("PUT", re.compile(r"/backups/policy$"), "set_backup_policy"),
    ("GET", re.compile(r"/v3\.1/[^/]+/backups$"), "list_backups"),
    ("GET", re.compile(r"/jobs$"), "list_jobs"),
    ("GET", re.compile(r"/instances$"), "list_instances"),
)
# What a failure without an HTTP status was, by the error's class.
_NO_STATUS = {
    "AmbiguousRequest": "ambiguous",  # a write sent, its answer lost
    "Throttled": "budget",  # the shared call budget said no: nothing sent
    "EndpointRefused": "refused",
    "AnswerTooLarge": "too_large",
}


def cloud_operation(method: str, url: str, params: dict[str, str] | None) -> str:
    path = urlsplit(url).path
    for verb, pattern, name in _OPERATIONS:
        if method == verb and pattern.search(path):
            if name == "list_jobs" and params and "id" in params:
                return "get_job"
            return name
    return "other"


def cloud_result(outcome: object) -> str:
    """The result class of one exchange: 2xx, 3xx, 4xx, 429, 5xx, timeout, connection, ambiguous…"""
    status = getattr(outcome, "status_code", None) or getattr(outcome, "status", None)
    if isinstance(status, int) and 100 <= status < 600:
        return "429" if status == 429 else f"{status // 100}xx"
    for cls in type(outcome).__mro__:
        if cls.__name__ in _NO_STATUS:
            return _NO_STATUS[cls.__name__]
    if type(outcome).__name__ == "CloudUnavailable":
        cause = type(outcome.__cause__).__name__ if isinstance(outcome, BaseException) else ""
        return "timeout" if "Timeout" in cause else "connection"
    return "error"


@_never_raises
def _cloud_call_count(method: str, url: str, params: dict[str, str] | None, outcome: object) -> None:
    CLOUD_CALLS.labels(cloud_operation(method, url, params), cloud_result(outcome)).inc()


def cloud_call(send: F) -> F:
    """Count each exchange of ``CloudSession._send(self, method, url, **kwargs)`` by result.

    Apply it below ``@sensitive_variables()``: this wrapper's frame holds the request's token
    and body, and Django's error reports hide a frame's variables by its callers' rules.
    """

    @functools.wraps(send)
    def counted(session: Any, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = send(session, method, url, **kwargs)
        except Exception as error:
            _cloud_call_count(method, url, kwargs.get("params"), error)
            raise
        _cloud_call_count(method, url, kwargs.get("params"), response)
        return response

    return counted  # type: ignore[return-value]


# Dead processes: their counters stay in the directory (a counter must not go back), but
# their live-gauge files must go. gunicorn.conf.py calls child_exit; Celery sends the signal
# in each pool child as it exits.


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook: forget the dead worker's live gauges."""
    mark_process_dead(worker.pid)


@worker_process_shutdown.connect
def _celery_child_exit(pid: int | None = None, **_: Any) -> None:
    mark_process_dead(pid or os.getpid())


@_never_raises
def mark_process_dead(pid: int) -> None:
    if directory := multiprocess_dir():
        multiprocess.mark_process_dead(f"{socket.gethostname()}-{pid}", directory)
