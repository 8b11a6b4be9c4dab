"""Credentials and the typed results of the GeminiDB and IAM calls the dashboard makes.

Every ``from_api`` reads only the keys it needs, so extra or new keys in an answer are ignored,
and a missing key becomes an empty value rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any, ClassVar


@dataclass(frozen=True)
class CloudCredentials:
    """Where and as whom to call the cloud. The password never appears in repr() or str()."""

    iam_endpoint: str
    geminidb_endpoint: str
    project_id: str
    domain: str
    user: str
    password: str = field(repr=False)


def parse_time(value: Any) -> datetime | None:
    """Parse an API time into an aware UTC datetime; ``""`` or ``None`` gives ``None``.

    The pages use several shapes: "2023-09-12T06:44:01+0000" (jobs, backups),
    "2019-01-17T07:05:52" without a zone (instances), "2015-11-09T01:42:57.527363Z" (IAM)
    and "2018-08-06 10:41:14". A time without a zone is UTC, like every other time they print.
    Anything else (a number, a list, "²", a year past 9999) raises ValueError, and only that.
    """
    if not value:
        return None
    if not isinstance(value, str):
        raise ValueError(f"a time must be a string, not {type(value).__name__}")
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "9999-12-31T23:59:59-01:00" is past datetime.max in UTC
        raise ValueError(f"{value!r} is out of range in UTC") from None


def format_time(value: datetime) -> str:
    """Format a query time as "yyyy-mm-ddThh:mm:ssZ" with Z an offset, as the pages' examples
    do ("2019-05-27T03:38:51+0000"). A naive datetime is taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_progress(value: str | int | None) -> int | None:
    """ "60%" → 60; "" → None (querying_tasks_and_details.rst: progress only while running)."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    return int(float(value.strip().rstrip("%")))


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return round(float(value))


def _str(value: Any) -> str:
    return "" if value is None else str(value)


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

    # Instance status values (querying_instances_and_details.rst, Table 5); only a normal
    # instance can be backed up (FIELD-NOTES, console docs).
    NORMAL = "normal"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Instance:
        """Build from one element of the ``instances`` array."""
        datastore = data.get("datastore") or {}
        strategy = data.get("backup_strategy")
        strategy = strategy if isinstance(strategy, dict) else {}
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")),
            status=_str(data.get("status")),
            mode=_str(data.get("mode")),
            datastore_type=_str(datastore.get("type")),
            datastore_version=_str(datastore.get("version")),
            port=_int_or_none(data.get("port")),
            created=parse_time(data.get("created")),
            updated=parse_time(data.get("updated")),
            actions=tuple(data.get("actions") or ()),
            backup_keep_days=_int_or_none(strategy.get("keep_days")),
            backup_start_time=_str(strategy.get("start_time")),
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
        return cls(job_id=_str(data.get("job_id")), backup_id=_str(data.get("backup_id")))


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

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Job:
        """Build from one element of the ``jobs`` array (querying_tasks_and_details.rst, Table 5)."""
        instance = data.get("instance") or {}
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")),
            status=_str(data.get("status")),
            progress=parse_progress(data.get("progress")),
            instance_id=_str(instance.get("id")),
            instance_name=_str(instance.get("name")),
            start_time=parse_time(data.get("start_time")),
            end_time=parse_time(data.get("end_time")),
            fail_reason=_str(data.get("fail_reason")),
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
            id=_str(data.get("id")),
            name=_str(data.get("name")),
            description=_str(data.get("description")),
            instance_id=_str(data.get("instance_id")),
            instance_name=_str(data.get("instance_name")),
            type=_str(data.get("type")),
            status=_str(data.get("status")),
            # "Double, in KB" on the page; whole kilobytes are precise enough for a size.
            size_kb=_int_or_none(data.get("size")),
            begin_time=parse_time(data.get("begin_time")),
            end_time=parse_time(data.get("end_time")),
            datastore_version=_str(datastore.get("version")),
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
            keep_days=_int_or_none(data.get("keep_days")) or 0,
            start_time=_str(data.get("start_time")) or None,
            period=_str(data.get("period")) or None,
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
