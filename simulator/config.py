"""The simulator's run-time behaviour and fault injection: each setting, its default, and the
rule that checks a new value (``--flags`` at start, ``POST /_sim/config`` at run time)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def _rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError("must be a number from 0 to 1")
    return float(value)


def _non_negative_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError("must be a number >= 0")
    return float(value)


def _non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be an integer >= 0")
    return value


def _positive_int(value: Any) -> int:
    if _non_negative_int(value) == 0:
        raise ValueError("must be an integer >= 1")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _busy_code(value: Any) -> str:
    # error_codes.rst documents both codes for "another operation is in progress"; the
    # default is the one README.md names, the other lets a client's handling of it be tested.
    if value not in ("DBS.201015", "DBS.200019"):
        raise ValueError('must be "DBS.201015" or "DBS.200019"')
    return value


@dataclass(frozen=True)
class Config:
    """Run-time behaviour and fault injection; set by CLI flags and ``POST /_sim/config``."""

    job_seconds: float = 60.0
    failure_rate: float = 0.1
    token_ttl: int = 86400
    rate_limit_per_minute: int = 0
    backup_jobs_listed: bool = True
    latency_ms: int = 0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    drop_connection_after_create: int = 0
    drop_connection_rate: float = 0.0
    # The next N backup-list answers leave out backups still being made, as a list that lags
    # behind a create would.
    stale_backup_lists: int = 0
    jobs_never_finish: bool = False
    busy_error_code: str = "DBS.201015"
    # Automated backups follow each instance's policy (policies.py); off, none start by themselves.
    automated_backups: bool = True
    # Off: the jobs API leaves out automated backups' jobs, so their progress is never reported.
    auto_backup_jobs_listed: bool = True
    # Creating an instance takes job_seconds, a restore that plus this much per GB of the backup.
    restore_seconds_per_gb: float = 0.5
    # How long deleting an instance takes before it leaves the list.
    delete_seconds: float = 10.0
    # Share of restores (creates with restore_info) that end createfail.
    restore_failure_rate: float = 0.0
    # The next N successful instance creates (or deletes) are dropped unanswered.
    drop_connection_after_instance_create: int = 0
    drop_connection_after_instance_delete: int = 0

    def changed(self, changes: Mapping[str, Any]) -> Config:
        """Return a copy with ``changes`` applied; raise ValueError naming every bad key."""
        problems = [f"{key}: unknown setting" for key in changes if key not in CONFIG_RULES]
        values = {}
        for key, value in changes.items():
            if key in CONFIG_RULES:
                try:
                    values[key] = CONFIG_RULES[key](value)
                except ValueError as error:
                    problems.append(f"{key}: {error}")
        if problems:
            raise ValueError("; ".join(problems))
        return dataclasses.replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready data."""
        return dataclasses.asdict(self)


CONFIG_RULES: dict[str, Callable[[Any], Any]] = {
    "job_seconds": _non_negative_number,
    "failure_rate": _rate,
    "token_ttl": _positive_int,
    "rate_limit_per_minute": _non_negative_int,
    "backup_jobs_listed": _bool,
    "latency_ms": _non_negative_int,
    "error_rate": _rate,
    "throttle_rate": _rate,
    "drop_connection_after_create": _non_negative_int,
    "drop_connection_rate": _rate,
    "stale_backup_lists": _non_negative_int,
    "jobs_never_finish": _bool,
    "busy_error_code": _busy_code,
    "automated_backups": _bool,
    "auto_backup_jobs_listed": _bool,
    "restore_seconds_per_gb": _non_negative_number,
    "delete_seconds": _non_negative_number,
    "restore_failure_rate": _rate,
    "drop_connection_after_instance_create": _non_negative_int,
    "drop_connection_after_instance_delete": _non_negative_int,
}
