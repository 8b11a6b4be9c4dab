"""Credentials and the typed results of the GeminiDB and IAM calls the dashboard makes.

Every ``from_api`` reads only the keys it needs, so extra or new keys in an answer are ignored,
and a missing key becomes an empty value rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, ClassVar

from .creation import CreatedInstance as CreatedInstance
from .creation import NewInstance as NewInstance
from .parsing import as_list, int_or_none, parse_time, text, whole_or_none
from .parsing import format_time as format_time
from .parsing import parse_progress as parse_progress


@dataclass(frozen=True)
class CloudCredentials:
    """Where and as whom to call the cloud. The password never appears in repr() or str()."""

    iam_endpoint: str
    geminidb_endpoint: str
    project_id: str
    domain: str
    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Instance:
    """One database instance from ``GET /v3/{project_id}/instances``."""

    id: str
    name: str
    status: str
    mode: str
    datastore_type: str
    datastore_version: str
    port: int | None
    created: datetime | None
    updated: datetime | None
    actions: tuple[str, ...]
    # The automated backup policy as the list shows it (Table 7, backup_strategy): retention and
    # window, not the days of the week. None: the answer did not say.
    backup_keep_days: int | None = None
    backup_start_time: str = ""
    # Where it runs and on what, as a restore copies it. The list has no instance-wide AZ: it
    # is the nodes' AZs, in order, comma-separated as creating_an_instance.rst spells several.
    region: str = ""
    availability_zone: str = ""
    vpc_id: str = ""
    subnet_id: str = ""
    security_group_id: str = ""
    spec_code: str = ""
    node_count: int | None = None
    volume_size_gb: int | None = None
    storage_engine: str = ""

    # Instance status values (querying_instances_and_details.rst, Table 5); only a normal
    # instance can be backed up (FIELD-NOTES, console docs).
    NORMAL = "normal"
    CREATING = "creating"
    CREATE_FAILED = "createfail"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Instance:
        """Build from one element of the ``instances`` array."""
        datastore = data.get("datastore") or {}
        strategy = data.get("backup_strategy")
        strategy = strategy if isinstance(strategy, dict) else {}
        groups = [g for g in as_list(data.get("groups")) if isinstance(g, dict)]
        nodes = [n for g in groups for n in as_list(g.get("nodes")) if isinstance(n, dict)]
        sizes = [whole_or_none(g["volume"].get("size")) for g in groups if isinstance(g.get("volume"), dict)]
        zones = dict.fromkeys(text(n.get("availability_zone")) for n in nodes if n.get("availability_zone"))
        return cls(
            id=text(data.get("id")),
            name=text(data.get("name")),
            status=text(data.get("status")),
            mode=text(data.get("mode")),
            datastore_type=text(datastore.get("type")),
            datastore_version=text(datastore.get("version")),
            port=int_or_none(data.get("port")),
            created=parse_time(data.get("created")),
            updated=parse_time(data.get("updated")),
            actions=tuple(data.get("actions") or ()),
            backup_keep_days=int_or_none(strategy.get("keep_days")),
            backup_start_time=text(strategy.get("start_time")),
            region=text(data.get("region")),
            availability_zone=text(data.get("availability_zone")) or ",".join(zones),
            vpc_id=text(data.get("vpc_id")),
            subnet_id=text(data.get("subnet_id")),
            security_group_id=text(data.get("security_group_id")),
            spec_code=next((text(n["spec_code"]) for n in nodes if n.get("spec_code")), ""),
            node_count=len(nodes) if groups else None,
            volume_size_gb=sum(size for size in sizes if size is not None) if sizes and None not in sizes else None,
            storage_engine=text(data.get("engine")),
        )

    @property
    def is_available(self) -> bool:
        return self.status == self.NORMAL


@dataclass(frozen=True)
class CreatedBackup:
    """The 202 answer to a manual backup: the job that makes it and the backup's id."""

    job_id: str
    backup_id: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CreatedBackup:
        """Build from the create answer (creating_a_manual_backup.rst, Table 4)."""
        return cls(job_id=text(data.get("job_id")), backup_id=text(data.get("backup_id")))


class _Outcome:
    """How a job or a backup ended, asked the same way of both; each spells its statuses as its
    API page does (Completed / COMPLETED)."""

    status: str
    COMPLETED: ClassVar[str]
    FAILED: ClassVar[str]

    @property
    def is_completed(self) -> bool:
        return self.status == self.COMPLETED

    @property
    def is_failed(self) -> bool:
        return self.status == self.FAILED


@dataclass(frozen=True)
class Job(_Outcome):
    """A task from ``GET /v3/{project_id}/jobs``; status is Running, Completed or Failed.

    While a job runs, ``end_time`` is the time of its latest update, not an end: the page's
    only example is a Running job with an ``end_time`` two seconds after its start.
    """

    id: str
    name: str
    status: str
    progress: int | None
    instance_id: str
    instance_name: str
    start_time: datetime | None
    end_time: datetime | None
    fail_reason: str

    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    # Task names (querying_tasks_and_details.rst, Table 2). Creating an instance from
    # restore_info is RestoreNewInstance; one without it is CreateInstance.
    BACKUP_INSTANCE = "BackupInstance"
    CREATE_INSTANCE = "CreateInstance"
    RESTORE_NEW_INSTANCE = "RestoreNewInstance"
    DELETE_INSTANCE = "DeleteInstance"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Job:
        """Build from one element of the ``jobs`` array (querying_tasks_and_details.rst, Table 5)."""
        instance = data.get("instance") or {}
        return cls(
            id=text(data.get("id")),
            name=text(data.get("name")),
            status=text(data.get("status")),
            progress=parse_progress(data.get("progress")),
            instance_id=text(instance.get("id")),
            instance_name=text(instance.get("name")),
            start_time=parse_time(data.get("start_time")),
            end_time=parse_time(data.get("end_time")),
            fail_reason=text(data.get("fail_reason")),
        )

    @property
    def is_running(self) -> bool:
        return self.status == self.RUNNING


@dataclass(frozen=True)
class CloudBackup(_Outcome):
    """A backup from ``GET /v3.1/{project_id}/backups``; status is BUILDING, COMPLETED or FAILED."""

    id: str
    name: str
    description: str
    instance_id: str
    instance_name: str
    type: str
    status: str
    size_kb: int | None
    begin_time: datetime | None
    end_time: datetime | None
    datastore_version: str

    BUILDING = "BUILDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    # Backup types (querying_backups_v3.1.rst, Table 2); "Manual" is what create makes.
    MANUAL = "Manual"
    AUTO = "Auto"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CloudBackup:
        """Build from one element of the ``backups`` array (querying_backups_v3.1.rst, Table 5)."""
        datastore = data.get("datastore") or {}
        return cls(
            id=text(data.get("id")),
            name=text(data.get("name")),
            description=text(data.get("description")),
            instance_id=text(data.get("instance_id")),
            instance_name=text(data.get("instance_name")),
            type=text(data.get("type")),
            status=text(data.get("status")),
            # "Double, in KB" on the page; whole kilobytes are precise enough for a size.
            size_kb=int_or_none(data.get("size")),
            begin_time=parse_time(data.get("begin_time")),
            end_time=parse_time(data.get("end_time")),
            datastore_version=text(datastore.get("version")),
        )

    @property
    def is_building(self) -> bool:
        return self.status == self.BUILDING


@dataclass(frozen=True)
class BackupPolicy:
    """An instance's automated backup policy (querying_an_automated_backup_policy.rst).

    ``keep_days`` 0 means off, and then ``start_time`` and ``period`` may be None.
    ``start_time`` is the window "hh:mm-HH:MM" in UTC, one hour long; ``period`` the days it
    runs, "1,2,…" with 1 = Monday and 7 = Sunday (the page does not say; Huawei Cloud's sibling
    APIs do). ``backups.validators.validate_backup_policy`` holds the rules a new one must meet.
    """

    keep_days: int
    start_time: str | None
    period: str | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> BackupPolicy:
        """Build from the ``backup_policy`` object of the answer (Table 5)."""
        return cls(
            keep_days=int_or_none(data.get("keep_days")) or 0,
            start_time=text(data.get("start_time")) or None,
            period=text(data.get("period")) or None,
        )

    def to_api(self) -> dict[str, Any]:
        """The ``backup_policy`` object to send: keep_days alone when the policy is off, as
        configuring_an_automated_backup_policy.rst's "Disabling automated backup" example does."""
        if not self.enabled:
            return {"keep_days": self.keep_days}
        return {"keep_days": self.keep_days, "start_time": self.start_time, "period": self.period}

    @property
    def enabled(self) -> bool:
        return self.keep_days > 0

    @property
    def days(self) -> tuple[int, ...]:
        """The weekdays it runs on, sorted, 1 = Monday … 7 = Sunday; () when there are none.
        Raises ValueError for a period that is not digits and commas."""
        if not self.period:
            return ()
        return tuple(sorted({int(day) for day in self.period.replace(" ", "").split(",")}))

    @property
    def window(self) -> tuple[time, time] | None:
        """The window's (start, end) in UTC, e.g. (23:00, 00:00); None without one.
        Raises ValueError for a window that is not "hh:mm-HH:MM"."""
        if not self.start_time:
            return None
        start, end = self.start_time.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)

    @property
    def window_hours(self) -> tuple[int, int] | None:
        """The window's (start hour, end hour) in UTC, e.g. (23, 0); None without one."""
        window = self.window
        return None if window is None else (window[0].hour, window[1].hour)
