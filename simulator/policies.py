"""Automated backup policies: the two policy APIs, and the automated backups that follow them.

- ``GET /v3.1/{project_id}/instances/{instance_id}/backups/policy``
  (querying_an_automated_backup_policy.rst) and ``PUT /v3/{project_id}/instances/{instance_id}/backups/policy``
  (configuring_an_automated_backup_policy.rst), with the page's rules: keep_days 0..35, 0 is off
  (then start_time and period are not needed and are ignored); start_time "hh:mm-HH:MM" in UTC
  with HH one more than hh and mm = MM in 00, 15, 30, 45; period the days of the week, 1 = Monday
  … 7 = Sunday (the page does not say; Huawei Cloud's sibling APIs do, e.g. DCS's backup plan),
  every day when keep_days is 1..6, at least one from 7 on.
- Automated backups: each normal Cassandra instance with its policy on gets one automated backup
  (type "Auto") in each window that opens on a selected day, once the instance exists and its
  policy last changed: when the window opens or, while another job runs on the instance, as soon
  as that ends within the window. It runs the instance's usual time (``usual_backup_seconds``),
  fails at the ``failure_rate``, and leaves the backup list ``keep_days`` (its policy's when it
  started) after it ended. Settings: ``automated_backups`` off starts none;
  ``auto_backup_jobs_listed`` off keeps their jobs out of the jobs API (no progress reported).
- Time: the world's clock is the wall clock plus an offset that ``POST /_sim/clock
  {"advance_seconds": N}`` moves forward (``GET /_sim/clock`` tells it). ``settle`` runs before
  every request and catches up with every window that opened since the last one, so a jump of
  days behaves like the days passing.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from .messages import ApiError, Request, Response, parameter_error
from .world import UPLOAD_KB_PER_SECOND_PER_NODE, Backup, Instance, World

DAY = 24 * 3600
WINDOW_SECONDS = 3600
KEEP_DAYS_MAX = 35
# keep_days 1..6 must back up every day (configuring_an_automated_backup_policy.rst, Table 4).
EVERY_DAY_BELOW = 7
_WINDOW = re.compile(r"([01][0-9]|2[0-3]):(00|15|30|45)-([01][0-9]|2[0-3]):(00|15|30|45)")
_PERIOD = re.compile(r"[1-7](,[1-7])*")
# The middle of the compression start_backup draws sizes from.
_TYPICAL_COMPRESSION = 0.475


def check_policy(body: object) -> tuple[int, str | None, str | None]:
    """``(keep_days, start_time, period)`` of a PUT body, the period sorted; ApiError if invalid.

    The codes are error_codes.rst's for each rule; a missing or mistyped keep_days is 200001.
    """
    policy = body.get("backup_policy") if isinstance(body, dict) else None
    if not isinstance(policy, dict):
        raise parameter_error()
    keep_days = policy.get("keep_days")
    if isinstance(keep_days, bool) or not isinstance(keep_days, int):
        raise parameter_error()
    if not 0 <= keep_days <= KEEP_DAYS_MAX:
        raise ApiError.dbs("DBS.280214")
    if keep_days == 0:
        return 0, None, None
    start_time = check_window(policy.get("start_time"))
    period = policy.get("period")
    days = period.split(",") if isinstance(period, str) and _PERIOD.fullmatch(period) else []
    if not days or len(set(days)) != len(days):
        raise ApiError.dbs("DBS.280251")
    if keep_days < EVERY_DAY_BELOW and len(days) != 7:
        raise ApiError.dbs("DBS.280215")
    return keep_days, start_time, ",".join(sorted(days))


def check_window(start_time: object) -> str:
    """A backup window "hh:mm-HH:MM" one hour long starting at 00, 15, 30 or 45 minutes (the
    policy pages and creating_an_instance.rst's backup_strategy); ApiError if it is not one."""
    found = _WINDOW.fullmatch(start_time) if isinstance(start_time, str) else None
    if found is None:
        raise ApiError.dbs("DBS.280067")
    start_hour, start_minute, end_hour, end_minute = found.groups()
    if int(end_hour) != (int(start_hour) + 1) % 24 or end_minute != start_minute:
        raise ApiError.dbs("DBS.280416")
    return start_time


def _instance(world: World, project_id: str, instance_id: str) -> Instance:
    instance = world.instances.get(instance_id)
    if instance is None or instance.project_id != project_id:
        raise ApiError.dbs("DBS.200002")
    # "This API can be used for GeminiDB Cassandra instances."
    if instance.datastore_type != "cassandra":
        raise ApiError.dbs("DBS.280347")
    return instance


def get_policy(world: World, request: Request, project_id: str, instance_id: str) -> Response:
    """GET /v3.1/{project_id}/instances/{instance_id}/backups/policy: the policy; a policy that is
    off is keep_days 0 alone (the page's example for it is empty). No database or table backups
    are simulated, so their policy (``type=DatabaseTable``) is off."""
    policy_type = request.query.get("type") or "Instance"
    if policy_type not in ("Instance", "DatabaseTable"):
        raise parameter_error()
    instance = _instance(world, project_id, instance_id)
    view: dict[str, object] = {"keep_days": 0}
    if policy_type == "Instance" and instance.keep_days:
        view = {"keep_days": instance.keep_days, "start_time": instance.backup_window, "period": instance.backup_period}
    return Response(200, {"backup_policy": {**view, "incremental_period": None, "differential_period": None}})


def set_policy(world: World, request: Request, project_id: str, instance_id: str) -> Response:
    """PUT /v3/{project_id}/instances/{instance_id}/backups/policy: 204, no body. Turning it off
    keeps the window and days, which the instance list's backup_strategy goes on showing."""
    try:
        body = request.json()
    except ValueError:
        raise parameter_error() from None
    keep_days, start_time, period = check_policy(body)
    instance = _instance(world, project_id, instance_id)
    instance.keep_days = keep_days
    if start_time and period:
        instance.backup_window, instance.backup_period = start_time, period
    instance.policy_changed_at = world.now()
    return Response(204)


def usual_backup_seconds(instance: Instance) -> float:
    """How long a full backup of ``instance`` takes: its used volume, compressed, at the upload rate."""
    size_kb = instance.volume_used_gb * 1024 * 1024 * _TYPICAL_COMPRESSION
    return max(60.0, size_kb / (UPLOAD_KB_PER_SECOND_PER_NODE * len(instance.nodes)))


def busy_until(world: World, instance_id: str, at: float) -> float | None:
    """When the jobs running on the instance at ``at`` have all ended (inf: never), or None if none runs."""
    never = world.config.jobs_never_finish
    ends = [
        job.ended_at if job.ended_at is not None else (math.inf if never else job.deadline)
        for job in world.jobs.values()
        if job.instance_id == instance_id and job.begin <= at
    ]
    ends = [end for end in ends if end > at]
    return max(ends) if ends else None


def _windows(instance: Instance, since: float, until: float) -> list[tuple[float, float]]:
    """The (opens, closes) of the instance's windows on selected days that overlap [since, until)."""
    hours, minutes = instance.backup_window.split("-")[0].split(":")
    offset = int(hours) * 3600 + int(minutes) * 60
    days = {int(day) for day in instance.backup_period.split(",")}
    found = []
    for day in range(math.floor(since / DAY) - 1, math.floor(until / DAY) + 1):
        opens = day * DAY + offset
        weekday = datetime.fromtimestamp(opens, tz=UTC).isoweekday()
        if weekday in days and opens < until and opens + WINDOW_SECONDS > since:
            found.append((opens, opens + WINDOW_SECONDS))
    return found


def start_due_backups(
    world: World, instance: Instance, since: float, until: float, *, failure_rate: float
) -> list[Backup]:
    """Start the automated backups of the instance's windows between ``since`` and ``until``
    (at most one per window, none while another job runs); return them, oldest first."""
    started: list[Backup] = []
    if not instance.keep_days:
        return started
    for opens, closes in _windows(instance, since, until):
        if opens < max(instance.created, instance.policy_changed_at) or _has_auto_backup(world, instance, opens):
            continue
        at, last = max(opens, since), min(closes, until)
        while at < last and (free := busy_until(world, instance.id, at)) is not None:
            at = free
        if at >= last:
            continue
        fails = failure_rate > 0 and world.rng.random() < failure_rate
        stamp = datetime.fromtimestamp(at, tz=UTC).strftime("%Y%m%d%H%M%S")
        backup = world.start_backup(
            instance,
            name=f"{instance.name}-{stamp}",
            description="",
            type="Auto",
            begin=at,
            seconds=usual_backup_seconds(instance),
            fail_reason=world.random_fail_reason() if fails else "",
        )
        started.append(backup)
    return started


def _has_auto_backup(world: World, instance: Instance, opens: float) -> bool:
    return any(
        backup.instance_id == instance.id and backup.type == "Auto" and 0 <= backup.job.begin - opens < WINDOW_SECONDS
        for backup in world.backups.values()
    )


def expire_backups(world: World, now: float) -> None:
    """Delete the automated backups that ended their keep_days ago."""
    for backup in list(world.backups.values()):
        ended = backup.job.ended_at
        if backup.keep_days and ended is not None and now >= ended + backup.keep_days * DAY:
            del world.backups[backup.id]


def settle(world: World) -> None:
    """Bring the world up to now: automated backups due since the last call, jobs that ended,
    automated backups that expired."""
    now = world.now()
    since, world.policies_checked_at = world.policies_checked_at, now
    if world.config.automated_backups and now > since:
        for instance in list(world.instances.values()):
            if instance.status == "normal" and instance.datastore_type == "cassandra":
                start_due_backups(world, instance, since, now, failure_rate=world.config.failure_rate)
    world.settle()
    expire_backups(world, now)
