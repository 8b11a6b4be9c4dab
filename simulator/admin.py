"""The admin API under /_sim/: look at the world, change settings, inject faults, steer backups.

No authentication; JSON in and out; errors are ``{"error": "..."}``. Not part of the cloud's API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import policies
from .geminidb import instance_view
from .messages import Request, Response
from .timefmt import api_time
from .world import INSTANCE_STATUSES, Backup, IamUser, Instance, World

# The endpoint kinds counted in GET /_sim/state, always listed even when never called.
CALL_KINDS = (
    "token",
    "list_instances",
    "create_backup",
    "get_job",
    "list_jobs",
    "list_backups",
    "get_backup_policy",
    "set_backup_policy",
    "create_instance",
    "delete_instance",
    "restorable_time_periods",
)


class AdminError(Exception):
    """A refused admin call; answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _body(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise AdminError(400, "the body must be JSON") from None
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise AdminError(400, "the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise AdminError(400, f"unknown keys: {', '.join(unknown)}")
    return body


def _backup_state(backup: Backup) -> dict[str, Any]:
    job = backup.job
    return {
        "id": backup.id,
        "name": backup.name,
        "description": backup.description,
        "status": backup.status,
        "type": backup.type,
        "instance_id": backup.instance_id,
        "instance_name": backup.instance_name,
        "project_id": backup.project_id,
        "job_id": job.id,
        "begin_time": api_time(job.begin),
        "end_time": None if job.ended_at is None else api_time(job.ended_at),
        # The API's times are whole seconds; benchmarks measure delays against this instead.
        "ended_at_epoch": job.ended_at,
        "fail_reason": job.fail_reason,
        # Automated backups leave the list this many days after they ended (None: never).
        "keep_days": backup.keep_days,
    }


def state(world: World, request: Request) -> Response:
    """GET /_sim/state: projects, users, networks, instances, backups, jobs, call counters and settings."""
    now = world.now()
    return Response(
        200,
        {
            "projects": [{"id": p.id, "name": p.name} for p in world.projects.values()],
            "users": [_user_state(user) for user in world.users.values()],
            "networks": {
                project_id: {
                    "vpc_id": network.vpc_id,
                    "subnet_ids": list(network.subnet_ids),
                    "security_group_id": network.security_group_id,
                }
                for project_id, network in world.networks.items()
            },
            "instances": [
                {
                    "id": i.id,
                    "name": i.name,
                    "project_id": i.project_id,
                    "status": i.status,
                    "datastore_type": i.datastore_type,
                    "policy": {"keep_days": i.keep_days, "start_time": i.backup_window, "period": i.backup_period},
                    "spec_code": i.spec_code,
                    "node_count": len(i.nodes),
                    "volume_size_gb": i.volume_size_gb,
                    "availability_zone": i.availability_zone,
                }
                for i in world.instances.values()
            ],
            "backups": [_backup_state(b) for b in world.backups.values()],
            "jobs": [
                {
                    "id": j.id,
                    "name": j.name,
                    "status": j.status,
                    "progress": j.progress(now),
                    "instance_id": j.instance_id,
                    "project_id": j.project_id,
                    "fail_reason": j.fail_reason,
                }
                for j in world.jobs.values()
            ],
            "counters": {
                "by_kind": {kind: world.calls_by_kind[kind] for kind in CALL_KINDS},
                "by_status": dict(world.calls_by_status),
                "by_project": {
                    project_id: {
                        "by_kind": dict(world.project_calls_by_kind[project_id]),
                        "by_status": dict(world.project_calls_by_status[project_id]),
                    }
                    for project_id in world.project_calls_by_kind
                },
            },
            "config": world.config.as_dict(),
        },
    )


def _user_state(user: IamUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "project_ids": sorted(user.project_ids),
        "rate_limit_per_minute": user.rate_limit_per_minute,
    }


def get_config(world: World, request: Request) -> Response:
    """GET /_sim/config: the current settings."""
    return Response(200, world.config.as_dict())


def set_config(world: World, request: Request) -> Response:
    """POST /_sim/config: change any settings; ``"expire_tokens": true`` expires every token now."""
    body = _body(request, set(world.config.as_dict()) | {"expire_tokens"})
    expire = body.pop("expire_tokens", False)
    if not isinstance(expire, bool):
        raise AdminError(400, "expire_tokens: must be true or false")
    try:
        world.update_config(body)
    except ValueError as error:
        raise AdminError(400, str(error)) from None
    if expire:
        world.expire_tokens()
    return get_config(world, request)


def _clock(world: World) -> dict[str, Any]:
    now = world.now()
    return {"now": api_time(now), "epoch": now, "offset_seconds": world.clock_offset}


def get_clock(world: World, request: Request) -> Response:
    """GET /_sim/clock: the simulated time (``epoch`` seconds) and how far it is ahead of the wall clock."""
    return Response(200, _clock(world))


def advance_clock(world: World, request: Request) -> Response:
    """POST /_sim/clock ``{"advance_seconds": 86400}``: move the simulated time forward. What
    would have happened meanwhile does (jobs end, automated backups start and expire); tokens
    expire too, so tests that jump days raise ``token_ttl``. It never goes back, but reset
    returns it to the wall clock."""
    seconds = _body(request, {"advance_seconds"}).get("advance_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds < 10**9:
        raise AdminError(400, "advance_seconds: a number of seconds >= 0 is required")
    world.clock_offset += seconds
    policies.settle(world)
    return Response(200, _clock(world))


def reset(world: World, request: Request) -> Response:
    """POST /_sim/reset: back to the world and settings given at start, counters at zero."""
    world.reset()
    return state(world, request)


def add_project(world: World, request: Request) -> Response:
    """POST /_sim/projects: add a project to the account's domain ``{name, id?}``. Only the
    users given a role in it (POST /_sim/users) may scope tokens to it."""
    body = _body(request, {"name", "id"})
    name, project_id = body.get("name"), body.get("id")
    if not isinstance(name, str) or not name or not isinstance(project_id, str | None):
        raise AdminError(400, "name: a non-empty string is required; id: a string if given")
    try:
        project = world.add_project(name=name, id=project_id)
    except ValueError as error:
        raise AdminError(400, str(error)) from None
    return Response(201, {"id": project.id, "name": project.name})


def add_user(world: World, request: Request) -> Response:
    """POST /_sim/users: add an IAM user to the account's domain, with a role in each project
    named, ``{name, password, project_ids, rate_limit_per_minute?}``. The gateway counts its
    calls apart from every other user's, against its own limit if it has one."""
    body = _body(request, {"name", "password", "project_ids", "rate_limit_per_minute"})
    name, password, project_ids = body.get("name"), body.get("password"), body.get("project_ids")
    if not (isinstance(name, str) and name and isinstance(password, str) and password):
        raise AdminError(400, "name and password: non-empty strings are required")
    if not isinstance(project_ids, list) or not all(isinstance(p, str) for p in project_ids):
        raise AdminError(400, "project_ids: a list of project ids is required")
    limit = body.get("rate_limit_per_minute")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise AdminError(400, "rate_limit_per_minute: an integer >= 0 (0: no limit) or null")
    try:
        user = world.add_user(name=name, password=password, project_ids=project_ids, rate_limit_per_minute=limit)
    except ValueError as error:
        raise AdminError(400, str(error)) from None
    return Response(201, _user_state(user))


def add_instance(world: World, request: Request) -> Response:
    """POST /_sim/instances: add an instance ``{project_id, name, status?, datastore_type?, id?,
    node_count?, volume_size_gb?}`` (3 nodes and 100 GB by default)."""
    body = _body(request, {"project_id", "name", "status", "datastore_type", "id", "node_count", "volume_size_gb"})
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise AdminError(400, "name: a non-empty string is required")
    sizes = {key: body[key] for key in ("node_count", "volume_size_gb") if key in body}
    if any(isinstance(value, bool) or not isinstance(value, int) or value < 1 for value in sizes.values()):
        raise AdminError(400, "node_count and volume_size_gb: integers >= 1")
    try:
        instance = world.add_instance(
            project_id=body.get("project_id") or world.account.projects[0].id,
            name=name,
            status=body.get("status", "normal"),
            datastore_type=body.get("datastore_type", "cassandra"),
            id=body.get("id"),
            **sizes,
        )
    except ValueError as error:
        raise AdminError(400, str(error)) from None
    return Response(201, {"project_id": instance.project_id, **instance_view(world, instance)})


def _instance(world: World, instance_id: str) -> Instance:
    instance = world.instances.get(instance_id)
    if instance is None:
        raise AdminError(404, f"no instance {instance_id}")
    return instance


def patch_instance(world: World, request: Request, instance_id: str) -> Response:
    """PATCH /_sim/instances/{id}: change the instance's status ``{"status": "frozen"}``."""
    instance = _instance(world, instance_id)
    status = _body(request, {"status"}).get("status")
    if status not in INSTANCE_STATUSES:
        raise AdminError(400, f"status must be one of {list(INSTANCE_STATUSES)}")
    instance.status = status
    instance.updated = world.now()
    return Response(200, {"project_id": instance.project_id, **instance_view(world, instance)})


def delete_instance(world: World, request: Request, instance_id: str) -> Response:
    """DELETE /_sim/instances/{id}: the instance disappears; its backups and jobs stay."""
    _instance(world, instance_id)
    del world.instances[instance_id]
    return Response(200, {"deleted": instance_id})


def _backup(world: World, backup_id: str) -> Backup:
    backup = world.backups.get(backup_id)
    if backup is None:
        raise AdminError(404, f"no backup {backup_id}")
    return backup


def finish_backup(world: World, request: Request, backup_id: str) -> Response:
    """POST /_sim/backups/{id}/finish: end a running backup and its job now,
    ``{"status": "COMPLETED"|"FAILED", "fail_reason": "..."}`` (COMPLETED by default)."""
    backup = _backup(world, backup_id)
    body = _body(request, {"status", "fail_reason"})
    status = body.get("status", "COMPLETED")
    if status not in ("COMPLETED", "FAILED"):
        raise AdminError(400, 'status must be "COMPLETED" or "FAILED"')
    if not backup.job.running:
        raise AdminError(409, f"backup {backup_id} has already ended as {backup.status}")
    if status == "COMPLETED":
        world.finish_job(backup.job, outcome="Completed")
    else:
        reason = body.get("fail_reason") or world.random_fail_reason()
        world.finish_job(backup.job, outcome="Failed", fail_reason=str(reason))
    return Response(200, _backup_state(backup))


def start_automated_backup(world: World, request: Request) -> Response:
    """POST /_sim/backups: start an automated backup now, as the instance's backup policy
    would, ``{"instance_id": ..., "seconds": 600}``."""
    body = _body(request, {"instance_id", "seconds"})
    instance = _instance(world, str(body.get("instance_id")))
    seconds = body.get("seconds", world.config.job_seconds)
    if not isinstance(seconds, int | float) or seconds <= 0:
        raise AdminError(400, "seconds: a positive number is required")
    now = world.now()
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%d%H%M%S")
    backup = world.start_backup(
        instance, name=f"{instance.name}-{stamp}", description="", type="Auto", begin=now, seconds=seconds
    )
    return Response(201, _backup_state(backup))


def delete_backup(world: World, request: Request, backup_id: str) -> Response:
    """DELETE /_sim/backups/{id}: as if deleted in the console; its job stays in the job list."""
    _backup(world, backup_id)
    del world.backups[backup_id]
    return Response(200, {"deleted": backup_id})
