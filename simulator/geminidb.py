"""The GeminiDB (Cassandra) endpoints: instances, manual backups, jobs and the backup list.

Each handler runs with the world lock held and after the gateway has admitted the call.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from .messages import ApiError, Request, Response, parameter_error
from .timefmt import api_time, instance_time, parse_query_time
from .world import BACKUP_INSTANCE, REGION, RESTORE_NEW_INSTANCE, Backup, Instance, Job, World

JOB_WINDOW_SECONDS = 30 * 24 * 3600

# creating_a_manual_backup.rst: 4 to 64 characters, starts with a letter, then only letters,
# digits, hyphens and underscores.
BACKUP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{3,63}")
# creating_a_manual_backup.rst: at most 256 characters, none of >!<"&'=
DESCRIPTION_MAX = 256
DESCRIPTION_FORBIDDEN = frozenset(">!<\"&'=")

# Group and node statuses that mirror the instance's (querying_instances_and_details.rst, Tables 8, 10).
_MIRRORED_STATUSES = frozenset({"normal", "abnormal", "creating", "createfail", "enlargefail"})


def _param(request: Request, name: str) -> str | None:
    """A query parameter, with an empty value read as not given."""
    return request.query.get(name) or None


def _int_param(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    text = _param(request, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise parameter_error() from None
    if value < low or (high is not None and value > high):
        raise parameter_error()
    return value


def _choice_param(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = _param(request, name)
    if value is not None and value not in choices:
        raise parameter_error()
    return value


def _time_param(request: Request, name: str) -> float | None:
    text = _param(request, name)
    if text is None:
        return None
    try:
        return parse_query_time(text)
    except ValueError:
        raise parameter_error() from None


def _matches(value: str, wanted: str | None) -> bool:
    """Exact match, or substring match when ``wanted`` starts with "*" (the fuzzy search of
    querying_instances_and_details.rst for id and name)."""
    if wanted is None:
        return True
    if wanted.startswith("*"):
        return wanted[1:] in value
    return value == wanted


def list_instances(world: World, request: Request, project_id: str) -> Response:
    """GET /v3/{project_id}/instances with the filters and paging of querying_instances_and_details.rst."""
    offset = _int_param(request, "offset", 0, 0)
    limit = _int_param(request, "limit", 100, 1, 100)
    datastore_type = _param(request, "datastore_type")
    # "The system ignores [mode] if parameter datastore_type is not transferred."
    mode = _param(request, "mode") if datastore_type else None
    found = [
        instance
        for instance in world.instances.values()
        if instance.project_id == project_id
        and _matches(instance.id, _param(request, "id"))
        and _matches(instance.name, _param(request, "name"))
        and datastore_type in (None, instance.datastore_type)
        and mode in (None, instance.datastore.mode)
        and _param(request, "vpc_id") in (None, instance.network.vpc_id)
        and _param(request, "subnet_id") in (None, instance.subnet_id)
    ]
    # "offset 0 ... indicating that the query starts from the latest created instance."
    found.sort(key=lambda instance: (instance.created, instance.id), reverse=True)
    page = found[offset : offset + limit]
    return Response(
        200,
        {"instances": [instance_view(world, instance) for instance in page], "total_count": len(found)},
    )


def instance_view(world: World, instance: Instance) -> dict[str, Any]:
    """One ListInstancesResult (querying_instances_and_details.rst, Table 5)."""
    datastore = instance.datastore
    datastore_view: dict[str, Any] = {"type": instance.datastore_type, "version": datastore.version}
    if datastore.whole_version:
        datastore_view["whole_version"] = datastore.whole_version
    datastore_view["patch_available"] = False
    return {
        "id": instance.id,
        "name": instance.name,
        "status": instance.status,
        "port": datastore.port,
        "mode": instance.mode,
        "region": REGION,
        "datastore": datastore_view,
        "engine": "rocksDB",
        "created": instance_time(instance.created),
        "updated": instance_time(instance.updated),
        "db_user_name": "rwuser",
        "vpc_id": instance.network.vpc_id,
        "subnet_id": instance.subnet_id,
        "security_group_id": instance.network.security_group_id,
        "backup_strategy": {"start_time": instance.backup_window, "keep_days": instance.keep_days},
        # Table 5 types pay_mode and the volume figures as String; the page's example shows
        # bare numbers. The table is the schema, so strings.
        "pay_mode": "0",
        "maintenance_window": "02:00-06:00",
        "groups": [_group_view(instance)],
        "enterprise_project_id": "0",
        "time_zone": "",
        "actions": _actions(world, instance),
    }


def _group_view(instance: Instance) -> dict[str, Any]:
    status = instance.status if instance.status in _MIRRORED_STATUSES else "normal"
    nodes = []
    for index, node in enumerate(instance.nodes):
        # An abnormal instance is one with an abnormal node, not all of them.
        node_status = "normal" if status == "abnormal" and index > 0 else status
        nodes.append(
            {
                "id": node.id,
                "name": node.name,
                "status": node_status,
                "subnet_id": node.subnet_id,
                "private_ip": node.private_ip,
                "spec_code": instance.spec_code,
                "availability_zone": node.availability_zone,
                # A cluster keeps at least three nodes.
                "support_reduce": len(instance.nodes) > 3,
            }
        )
    return {
        "id": instance.group_id,
        "status": status,
        "volume": {"size": str(instance.volume_size_gb), "used": str(instance.volume_used_gb)},
        "nodes": nodes,
    }


def _actions(world: World, instance: Instance) -> list[str]:
    """What is being done to the instance now: CREATE while it is created (the page's example),
    RESTORE too while a backup is restored into it, BACKUP while a backup runs (Table 5 lists
    CREATE, REBOOT, RESTORE as examples)."""
    running = {job.name for job in world.running_jobs(instance.id)}
    actions = ["CREATE"] if instance.status == "creating" else []
    if RESTORE_NEW_INSTANCE in running:
        actions.append("RESTORE")
    if BACKUP_INSTANCE in running:
        actions.append("BACKUP")
    return actions


def _valid_name(name: Any) -> bool:
    return isinstance(name, str) and BACKUP_NAME.fullmatch(name) is not None


def _valid_description(description: Any) -> bool:
    return (
        isinstance(description, str)
        and len(description) <= DESCRIPTION_MAX
        and not DESCRIPTION_FORBIDDEN.intersection(description)
    )


def _name_taken(world: World, instance: Instance, name: str) -> bool:
    return any(backup.instance_id == instance.id and backup.name == name for backup in world.backups.values())


def create_backup(world: World, request: Request, project_id: str, instance_id: str) -> Response:
    """POST /v3/{project_id}/instances/{instance_id}/backups (creating_a_manual_backup.rst).

    A name is taken once the instance has a backup of that name: error_codes.rst lists 400
    DBS.201201 "The backup already exists" with "Check whether the backup name or ID already
    exists". The pages do not say which backups count; here every backup the instance still
    has does (manual or automated, running, completed or failed) and a deleted one does not.
    Names are case-sensitive, and the same name on another instance is no conflict.
    """
    try:
        body = request.json()
    except ValueError:
        raise parameter_error() from None
    if not isinstance(body, dict) or not _valid_name(body.get("name")):
        raise parameter_error()
    if not _valid_description(body.get("description")):
        raise parameter_error()

    instance = world.instances.get(instance_id)
    if instance is None or instance.project_id != project_id:
        raise ApiError.dbs("DBS.200002")
    # "This API supports the following instance type: GeminiDB Cassandra".
    if instance.datastore_type != "cassandra":
        raise ApiError.dbs("DBS.280347")
    # Checked before the instance's state: a request that can never succeed is told so, rather
    # than "try again later". So a retry after a create whose answer was lost meets this even
    # while the backup it made is still running.
    if _name_taken(world, instance, body["name"]):
        raise ApiError.dbs("DBS.201201")
    # Only "Available" (API: normal) instances can be backed up (user guide, FIELD-NOTES), and
    # not while another task runs on them; error_codes.rst answers both with 403 "another
    # operation is being performed on the DB instance or the DB instance is faulty".
    if instance.status != "normal" or world.running_jobs(instance.id):
        raise ApiError.dbs(world.config.busy_error_code)

    fail_reason = world.random_fail_reason() if world.rng.random() < world.config.failure_rate else ""
    backup = world.start_backup(
        instance,
        name=body["name"],
        description=body["description"],
        type="Manual",
        begin=world.now(),
        seconds=world.config.job_seconds,
        fail_reason=fail_reason,
    )
    return Response(202, {"job_id": backup.job.id, "backup_id": backup.id})


def list_jobs(world: World, request: Request, project_id: str) -> Response:
    """GET /v3/{project_id}/jobs (querying_tasks_and_details.rst): one job by ``id``, else a
    filtered page, newest first.

    With ``backup_jobs_listed`` off, BackupInstance jobs are invisible, as GaussDB documents
    for its create-backup job ids (FIELD-NOTES); with ``auto_backup_jobs_listed`` off, those of
    automated backups are. An unknown or invisible ``id`` is answered
    200 with an empty list: ``id`` is documented as one more filter of this list API, and
    error_codes.rst has no "job not found" code.
    """
    config = world.config
    visible = [
        job
        for job in world.jobs.values()
        if job.project_id == project_id
        and (config.backup_jobs_listed or job.name != BACKUP_INSTANCE)
        and (config.auto_backup_jobs_listed or not job.automated)
    ]
    job_id = _param(request, "id")
    if job_id is not None:
        found = [job for job in visible if job.id == job_id]
        return _jobs_page(world, found, len(found))

    now = world.now()
    end = _time_param(request, "end_time") or now
    start = _time_param(request, "start_time") or now - JOB_WINDOW_SECONDS
    # "It must be later than the start time and the time span cannot exceed 30 days."
    if end <= start or end - start > JOB_WINDOW_SECONDS:
        raise parameter_error()
    status = _choice_param(request, "status", ("Running", "Completed", "Failed"))
    name = _param(request, "name")
    offset = _int_param(request, "offset", 0, 0)
    limit = _int_param(request, "limit", 50, 0)
    if limit not in (10, 20, 50):
        raise parameter_error()

    found = [
        job
        for job in visible
        if start <= job.begin <= end and status in (None, job.status) and name in (None, job.name)
    ]
    found.sort(key=lambda job: (job.begin, job.id), reverse=True)
    return _jobs_page(world, found[offset : offset + limit], len(found))


def _jobs_page(world: World, jobs: list[Job], total: int) -> Response:
    return Response(200, {"total_count": total, "jobs": [job_view(world, job) for job in jobs]})


def job_view(world: World, job: Job) -> dict[str, Any]:
    """One JobDetail (querying_tasks_and_details.rst, Table 5)."""
    # The page's only example is a Running job whose end_time is already set, two seconds
    # after its start: the time of its latest update. A running job shows "now" there.
    end = job.ended_at if job.ended_at is not None else world.now()
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "start_time": api_time(job.begin),
        "end_time": api_time(end),
        "progress": job.progress(world.now()),
        "instance": {"id": job.instance_id, "name": job.instance_name},
        "fail_reason": job.fail_reason,
    }


def list_backups(world: World, request: Request, project_id: str) -> Response:
    """GET /v3.1/{project_id}/backups (querying_backups_v3.1.rst), newest first.

    Answered 200 as in the page's example; its Table 4 heading says 202, which a list does not use.
    """
    offset = _int_param(request, "offset", 0, 0)
    limit = _int_param(request, "limit", 100, 1, 100)
    backup_type = _choice_param(request, "backup_type", ("Auto", "Manual"))
    policy_type = _choice_param(request, "type", ("Instance", "DatabaseTable")) or "Instance"
    begin = _time_param(request, "begin_time")
    end = _time_param(request, "end_time")
    # "When end_time is not empty, begin_time is mandatory", and the other way round.
    if (begin is None) != (end is None) or (begin is not None and end < begin):
        raise parameter_error()

    stale = world.config.stale_backup_lists > 0
    if stale:
        world.config = dataclasses.replace(world.config, stale_backup_lists=world.config.stale_backup_lists - 1)
    found = [
        backup
        for backup in world.backups.values()
        if backup.project_id == project_id
        and not (stale and backup.job.running)
        # Every simulated backup is an instance backup; none are database/table backups.
        and policy_type == "Instance"
        and _param(request, "instance_id") in (None, backup.instance_id)
        and _param(request, "backup_id") in (None, backup.id)
        and _param(request, "datastore_type") in (None, backup.datastore_type)
        and backup_type in (None, backup.type)
        and (begin is None or begin <= backup.job.begin <= end)
    ]
    found.sort(key=lambda backup: (backup.job.begin, backup.id), reverse=True)
    page = found[offset : offset + limit]
    return Response(200, {"total_count": len(found), "backups": [backup_view(b) for b in page]})


def backup_view(backup: Backup) -> dict[str, Any]:
    """One Backup (querying_backups_v3.1.rst, Table 5)."""
    job = backup.job
    return {
        "id": backup.id,
        "name": backup.name,
        "instance_id": backup.instance_id,
        "instance_name": backup.instance_name,
        "datastore": {"type": backup.datastore_type, "version": backup.datastore_version},
        "type": backup.type,
        "begin_time": api_time(job.begin),
        # The page shows no unfinished backup; an end time it does not have yet is "".
        "end_time": "" if job.ended_at is None else api_time(job.ended_at),
        "status": backup.status,
        # Size in KB, known once the backup is complete.
        "size": backup.size_kb if backup.status == "COMPLETED" else 0.0,
        "description": backup.description,
        # "Keep this parameter empty or ignore it when you query an instance backup."
        "database_tables": [],
        # The page's examples give null for instance backups.
        "deletable": None,
    }
