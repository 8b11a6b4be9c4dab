"""Gauges read at scrape time from the database and the cache: the same answer from any process.

Two queries, both small whatever the history's size: the active backups (a handful, found
through the status indexes) grouped by status, and the instances grouped by protection status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from django.db.models import Count, Min
from prometheus_client.core import GaugeMetricFamily, Metric

from backups.models import Backup, Instance
from webapp.health import beat_heartbeat_age

log = logging.getLogger(__name__)

ACTIVE = (Backup.Status.QUEUED, Backup.Status.SUBMITTING, Backup.Status.RUNNING, Backup.Status.UNKNOWN)
# Blank until first assessed (backups/models.py).
UNASSESSED = "unassessed"


class DatabaseCollector:
    """Backups by active status with the age of the oldest, instances by protection status,
    and the age of beat's heartbeat (omitted while there is none)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("console_metrics_database_up", "1 if the scrape could read the database.")
        try:
            families = [*self._backups(), self._instances()]
        except Exception:
            log.exception("metrics: reading the database failed")
            families = []
        up.add_metric([], 1 if families else 0)
        yield from families
        yield up
        heartbeat = self._heartbeat()
        if heartbeat is not None:
            yield heartbeat

    def _backups(self) -> list[Metric]:
        rows = (
            Backup.objects.filter(status__in=ACTIVE)
            .values("status")
            .annotate(count=Count("pk"), oldest=Min("requested_at"))
            .order_by()  # the model's ordering would join the GROUP BY
        )
        found = {row["status"]: row for row in rows}
        now = time.time()
        count = GaugeMetricFamily("console_backups", "Backups in each active status.", labels=["state"])
        age = GaugeMetricFamily(
            "console_backup_oldest_age_seconds",
            "Seconds since the oldest backup in each active status was requested (0 when there is none).",
            labels=["state"],
        )
        for status in ACTIVE:
            row = found.get(status)
            count.add_metric([status], row["count"] if row else 0)
            age.add_metric([status], max(0.0, now - row["oldest"].timestamp()) if row else 0.0)
        return [count, age]

    def _instances(self) -> Metric:
        rows = (
            Instance.objects.filter(gone_at__isnull=True)
            .values("protection_status")
            .annotate(count=Count("pk"))
            .order_by()
        )
        found = {row["protection_status"] or UNASSESSED: row["count"] for row in rows}
        family = GaugeMetricFamily(
            "console_instances", "Instances (not gone) by protection status.", labels=["protection"]
        )
        for status in [*Instance.Protection.values, UNASSESSED]:
            family.add_metric([status], found.get(status, 0))
        return family

    def _heartbeat(self) -> Metric | None:
        try:
            age = beat_heartbeat_age()
        except Exception:
            log.exception("metrics: reading beat's heartbeat failed")
            return None
        if age is None:
            return None
        family = GaugeMetricFamily(
            "console_beat_heartbeat_age_seconds", "Seconds since beat's last heartbeat reached a worker."
        )
        family.add_metric([], age)
        return family
