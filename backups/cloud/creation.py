"""Creating an instance (creating_an_instance.rst), which is also how a backup is restored:
always to a new instance, from ``restore_info``; and the point-in-time windows such a restore
may aim at (querying_the_time_window_when_a_backup_can_be_restored.rst).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .parsing import as_list, text, whole_or_none


def to_ms(value: datetime) -> int:
    """A time as the API's "13-digit number in milliseconds (UTC)"; a naive one is UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return round(value.timestamp() * 1000)


def from_ms(value: Any) -> datetime | None:
    """An aware UTC datetime from milliseconds since the epoch; None when it is not one."""
    ms = whole_or_none(value)
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass(frozen=True, kw_only=True)
class NewInstance:
    """A GeminiDB Cassandra instance to create: restored from a backup (``restore_backup_id``),
    from an instance at a point in time (``restore_source_instance_id`` and ``restore_time``),
    or empty. The password never appears in repr() or str() (``dataclasses.asdict`` would
    show it: do not).

    The rules (name, password, 3 to 200 nodes, at least the source's nodes and storage) are the
    caller's to check first; the cloud refuses a request that breaks them (``InvalidRequest``).
    """

    name: str
    password: str = field(repr=False)
    region: str
    availability_zone: str
    vpc_id: str
    subnet_id: str
    security_group_id: str
    mode: str = "Cluster"
    spec_code: str
    node_count: int
    volume_size_gb: int
    # The disk type; "ULTRAHIGH" is SSD, the one the page documents.
    storage_type: str = "ULTRAHIGH"
    datastore_version: str = "3.11"
    storage_engine: str = "rocksDB"
    restore_backup_id: str | None = None
    restore_source_instance_id: str | None = None
    restore_time: datetime | None = None

    @property
    def is_restore(self) -> bool:
        return bool(self.restore_backup_id or self.restore_source_instance_id)

    def to_api(self) -> dict[str, Any]:
        """The request body (Table 3). The flavor's num and size go as strings, as Table 5 types
        them (its examples send numbers, which the API takes too); restore_time in ms."""
        body: dict[str, Any] = {
            "name": self.name,
            "datastore": {
                "type": "cassandra",
                "version": self.datastore_version,
                "storage_engine": self.storage_engine,
            },
            "region": self.region,
            "availability_zone": self.availability_zone,
            "vpc_id": self.vpc_id,
            "subnet_id": self.subnet_id,
            "security_group_id": self.security_group_id,
            "password": self.password,
            "mode": self.mode,
            "flavor": [
                {
                    "num": str(self.node_count),
                    "storage": self.storage_type,
                    "size": str(self.volume_size_gb),
                    "spec_code": self.spec_code,
                }
            ],
        }
        restore: dict[str, Any] = {}
        if self.restore_backup_id:
            restore["backup_id"] = self.restore_backup_id
        if self.restore_source_instance_id:
            restore["source_instance_id"] = self.restore_source_instance_id
        if self.restore_time is not None:
            restore["restore_time"] = to_ms(self.restore_time)
        if restore:
            body["restore_info"] = restore
        return body


@dataclass(frozen=True)
class CreatedInstance:
    """The 202 answer to a create: the new instance's id and the job that creates it."""

    instance_id: str
    job_id: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CreatedInstance:
        """Build from the create answer (creating_an_instance.rst, Table 8)."""
        return cls(instance_id=text(data.get("id")), job_id=text(data.get("job_id")))


def restorable_periods_from_api(items: Any) -> list[tuple[datetime, datetime]]:
    """``(start, end)`` of each restorableTime (Table 5: UTC milliseconds), oldest first; an
    element without two such times, or ending before it starts, is left out. The page says a
    period may be a single point (start and end the same)."""
    periods = []
    for item in as_list(items):
        if isinstance(item, dict):
            start, end = from_ms(item.get("start_time")), from_ms(item.get("end_time"))
            if start is not None and end is not None and start <= end:
                periods.append((start, end))
    return sorted(periods)
