"""What the soak run samples every minute, and how it judges each series.

Resident memory from /proc (gunicorn's worker processes, each Celery worker with its pool
processes, beat), PostgreSQL's connections to this database, the outboxes (backups waiting to
be submitted, notification deliveries and emails not yet sent), the tables that grow with
history, the Redis numbers of the broker and the cache, and the metrics folder gunicorn and
Celery share.
"""

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection

from access.models import AuditEvent
from api.models import IdempotentRequest
from backups.models import Backup, BackupEvent
from notifications.models import Delivery, Event, OutgoingEmail

from .proc import children, status_kib

# (key, label, unit, the least change that counts as growth): gauges, judged on their high-water mark.
GAUGES = [
    ("web_rss_mib", "gunicorn workers, RSS (sum)", "MiB", 4.0),
    ("worker_rss_mib", "Celery workers incl. pool processes, RSS (sum)", "MiB", 4.0),
    ("beat_rss_mib", "Celery beat, RSS", "MiB", 2.0),
    ("db_connections", "PostgreSQL connections to the database", "", 2),
    ("active_backups", "backups active (queued, submitting, running)", "", 5),
    ("outbox_backups", "outbox: backups queued, not yet submitted", "", 3),
    ("outbox_deliveries", "outbox: notification deliveries pending or sending", "", 3),
    ("outbox_emails", "outbox: emails pending or sending", "", 3),
    ("broker_keys", "Redis broker (number 7 by default): keys", "", 3),
    ("broker_queued", "Redis broker: messages waiting in queues", "", 5),
    ("cache_keys", "Redis cache (number 8 by default): keys", "", 5),
    ("cache_keys_no_expiry", "Redis cache: keys without an expiry", "", 2),
    ("metrics_files", "metrics folder: files", "", 2),
    ("metrics_kib", "metrics folder: size", "KiB", 256),
]
# Tables that keep history: they grow with the work by design, judged per backup requested.
TABLES = [
    ("backups", "Backup", Backup),
    ("backup_events", "BackupEvent", BackupEvent),
    ("audit_events", "AuditEvent", AuditEvent),
    ("notification_events", "notifications Event", Event),
    ("deliveries", "notifications Delivery", Delivery),
    ("emails", "OutgoingEmail", OutgoingEmail),
    ("idempotent_requests", "api IdempotentRequest", IdempotentRequest),
    ("sessions", "django_session", Session),
]


@dataclass
class Processes:
    """The pids to read: gunicorn's master, each Celery worker's main process, beat's."""

    gunicorn: int
    workers: list[int]
    beat: int
    metrics_dir: Path


def sample(processes: Processes, *, elapsed: float, phase: str, requested: int) -> dict:
    """One row of every series, now."""
    web = children(processes.gunicorn)
    row = {
        "elapsed_s": round(elapsed),
        "phase": phase,
        "requested": requested,
        "web_pids": web,
        "web_rss_mib": _rss_mib(web),
        "worker_rss_mib": _rss_mib([p for pid in processes.workers for p in (pid, *children(pid))]),
        "beat_rss_mib": _rss_mib([processes.beat]),
        "active_backups": Backup.objects.filter(status__in=Backup.ACTIVE_STATUSES).count(),
        "outbox_backups": Backup.objects.filter(status=Backup.Status.QUEUED).count(),
        "outbox_deliveries": Delivery.objects.filter(status__in=Delivery.IN_FLIGHT).count(),
        "outbox_emails": OutgoingEmail.objects.filter(status__in=OutgoingEmail.IN_FLIGHT).count(),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row["db_connections"] = cursor.fetchone()[0]
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    row["broker_keys"] = broker.dbsize()
    row["broker_queued"] = sum(broker.llen(key) for key in broker.scan_iter(_type="list"))
    cache = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    row["cache_keys"] = cache.dbsize()
    with cache.pipeline(transaction=False) as pipe:
        for key in cache.scan_iter():
            pipe.ttl(key)
        row["cache_keys_no_expiry"] = sum(1 for ttl in pipe.execute() if ttl == -1)
    files = [f for f in processes.metrics_dir.iterdir() if f.is_file()] if processes.metrics_dir.is_dir() else []
    row["metrics_files"] = len(files)
    row["metrics_kib"] = round(sum(f.stat().st_size for f in files) / 1024)
    for key, _, model in TABLES:
        row[key] = model.objects.count()
    row["at"] = time.time()
    return row


def _rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, LookupError):  # gone meanwhile (a recycled gunicorn worker)
            total += status_kib(pid, "VmRSS")
    return round(total / 1024, 1)


def gauge_verdict(values: list[float], floor: float, mid: int) -> str:
    """Levels off when the high-water mark from `mid` on is no more than `floor` (or 2 %) above
    the one before it; a leak keeps raising it."""
    if len(values) < 3:
        return "too few samples"
    first, second = max(values[:mid]), max(values[mid:])
    if second > first + max(floor, 0.02 * abs(first)):
        return f"**grows** (+{_number(second - first)} in the second half)"
    return "levels off"


def table_verdict(rows: list[int], requested: list[int], mid: int) -> str:
    """Rows added per backup requested before `mid` and after it (whole fault cycles each, past
    the warm-up, when as many backups end as start): the same rate means the table grows with
    the work (history kept by design), a rising one means it grows on its own."""
    if rows[-1] == rows[0]:
        return "flat"
    first = (rows[mid] - rows[0]) / max(requested[mid] - requested[0], 1)
    second = (rows[-1] - rows[mid]) / max(requested[-1] - requested[mid], 1)
    if second > 1.25 * first + 0.5:
        return f"**grows faster than the work** ({first:.1f} then {second:.1f} rows per backup)"
    return f"with the work ({first:.1f} then {second:.1f} rows per backup)"


def _number(value: float) -> str:
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"
