"""Instances made and removed through the API, and the point-in-time restore window.

- ``POST /v3/{project_id}/instances`` (creating_an_instance.rst): a new Cassandra instance, empty
  or restored from ``restore_info``: a completed backup of the project (``backup_id``), or an
  instance at a point in time (``source_instance_id`` + ``restore_time`` in ms) inside its
  window. The new instance needs at least the source's nodes and storage. 202 with the
  instance "creating"; its job (CreateInstance, or RestoreNewInstance for a restore) runs
  ``job_seconds``, a restore ``restore_seconds_per_gb`` more per GB of backup, and a restore
  fails at ``restore_failure_rate`` (the instance ends createfail, the job Failed).
- ``DELETE /v3/{project_id}/instances/{instance_id}`` (deleting_an_instance.rst): 202 with the
  DeleteInstance job; the instance leaves the list when the job ends (``delete_seconds``).
- ``GET /v3/{project_id}/instances/{instance_id}/backups/restorable-time-periods``: for a
  Cluster instance, from the end of its oldest completed backup to now; empty without one.

The page allows a name an instance already has ("can be the same as an existing instance
name"), so a create sent twice makes two instances, as the real API would: nothing here saves a
client that retries blindly. Refusals use the codes of error_codes.rst that name the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .geminidb import _int_param, _time_param
from .messages import ApiError, Request, Response, parameter_error
from .policies import check_window
from .timefmt import create_time
from .world import (
    AVAILABILITY_ZONES,
    CREATE_INSTANCE,
    DELETE_INSTANCE,
    REGION,
    RESTORE_NEW_INSTANCE,
    STORAGE_TYPE,
    Backup,
    Instance,
    World,
)

# creating_an_instance.rst: 4 to 64 characters, starts with a letter, then letters, digits, - and _.
INSTANCE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{3,63}")
# "8 to 32 characters and contain uppercase letters, lowercase letters, digits, and the following
# special characters: ~!@#%^*-_=+?"; read as: one of each, nothing else.
_SPECIALS = r"~!@#%^*\-_=+?"
PASSWORD_CLASSES = tuple(re.compile(f"[{chars}]") for chars in ("A-Z", "a-z", "0-9", _SPECIALS))
PASSWORD_ALLOWED = re.compile(f"[A-Za-z0-9{_SPECIALS}]*")
PASSWORD_LENGTH = (8, 32)
# "Each GeminiDB Cassandra instance can run on 3 to 200 nodes."
NODES = (3, 200)
# The page gives no upper bound on storage; this is the simulator's.
VOLUME_MAX_GB = 100_000
# The specification codes the simulated region offers (querying instance specifications is not simulated).
SPEC_CODES = frozenset(f"geminidb.cassandra.{size}.4" for size in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"))
DATASTORE = {"type": "cassandra", "version": "3.11", "storage_engine": "rocksDB"}
DEFAULT_BACKUP_WINDOW = "00:00-01:00"
DEFAULT_KEEP_DAYS = 7
KEEP_DAYS_MAX = 35
# querying_the_time_window_when_a_backup_can_be_restored.rst: limit 0..1000, 1000 by default.
PERIODS_LIMIT = 1000

RESTORE_FAIL_REASONS = (
    "Failed to download the backup file from OBS.",
    "Restoring the data failed on one or more nodes.",
    "The new instance's nodes could not be created: insufficient resources in the availability zone.",
)


@dataclass(frozen=True)
class Source:
    """What a restore copies: the source's size when backed up, and how much data there is."""

    node_count: int
    volume_size_gb: int
    volume_used_gb: float
    backup_size_gb: float


def create_instance(world: World, request: Request, project_id: str) -> Response:
    """POST /v3/{project_id}/instances: check the request as the page describes it, then start
    creating (or restoring) the instance; 202 with the page's answer."""
    try:
        body = request.json()
    except ValueError:
        raise parameter_error() from None
    if not isinstance(body, dict):
        raise parameter_error()
    name = _check_name(body.get("name"))
    _check_datastore(body.get("datastore"))
    zones = _check_placement(body)
    subnet = _check_network(world, body, project_id)
    _check_password(body.get("password"))
    if body.get("mode") != "Cluster":
        raise ApiError.dbs("DBS.280342")
    node_count, volume_size_gb, spec_code = _check_flavor(body.get("flavor"))
    window, keep_days = _check_backup_strategy(body.get("backup_strategy"))
    if body.get("ssl_option", "0") not in ("0", "1", 0, 1):
        raise parameter_error()
    source = _check_restore(world, body.get("restore_info"), project_id)
    if source and node_count < source.node_count:
        raise ApiError.dbs("DBS.280123")
    if source and volume_size_gb < source.volume_size_gb:
        raise ApiError.dbs("DBS.280266")

    instance = world.add_instance(
        project_id=project_id,
        name=name,
        status="creating",
        node_count=node_count,
        volume_size_gb=volume_size_gb,
        volume_used_gb=source.volume_used_gb if source else 0.0,
        backup_window=window,
        keep_days=keep_days,
        subnet=subnet,
        spec_code=spec_code,
        availability_zone=",".join(zones),
    )
    config = world.config
    if source:
        seconds = config.job_seconds + config.restore_seconds_per_gb * source.backup_size_gb
        fails = world.chance(config.restore_failure_rate)
        fail_reason = world.rng.choice(RESTORE_FAIL_REASONS) if fails else ""
        job = world.start_job(
            instance, name=RESTORE_NEW_INSTANCE, begin=instance.created, seconds=seconds, fail_reason=fail_reason
        )
    else:
        job = world.start_job(instance, name=CREATE_INSTANCE, begin=instance.created, seconds=config.job_seconds)
    return Response(202, _created_view(instance, body, job.id))


def _created_view(instance: Instance, body: dict[str, Any], job_id: str) -> dict[str, Any]:
    """The 202 answer (creating_an_instance.rst, Table 8): the request's fields as given, and
    the instance's id, status, creation time and job. Its tables type the flavor's numbers,
    keep_days and ssl_option as String."""
    return {
        "id": instance.id,
        "name": instance.name,
        "datastore": dict(DATASTORE),
        "created": create_time(instance.created),
        "status": instance.status,
        "region": REGION,
        "availability_zone": instance.availability_zone,
        "vpc_id": instance.network.vpc_id,
        "subnet_id": instance.subnet_id,
        "security_group_id": instance.network.security_group_id,
        "mode": instance.mode,
        "flavor": [
            {
                "num": str(len(instance.nodes)),
                "size": str(instance.volume_size_gb),
                "storage": instance.storage_type,
                "spec_code": instance.spec_code,
            }
        ],
        "backup_strategy": {"start_time": instance.backup_window, "keep_days": str(instance.keep_days)},
        "ssl_option": str(body.get("ssl_option", "0")),
        "job_id": job_id,
    }


def _whole(value: Any) -> int | None:
    """An integer given as a number or as digits (the page types them String, its examples
    send numbers); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise parameter_error()
    if not INSTANCE_NAME.fullmatch(name):
        raise ApiError.dbs("DBS.280234")
    return name


def _check_datastore(datastore: Any) -> None:
    if not isinstance(datastore, dict):
        raise ApiError.dbs("DBS.280269")
    if datastore.get("type") != DATASTORE["type"]:
        raise ApiError.dbs("DBS.280235")
    if datastore.get("version") != DATASTORE["version"]:
        raise ApiError.dbs("DBS.280236")
    if datastore.get("storage_engine") != DATASTORE["storage_engine"]:
        raise ApiError.dbs("DBS.280122")


def _check_placement(body: dict[str, Any]) -> list[str]:
    """The region, and the AZs: one, or three different ones "separated by commas"."""
    region, zone_list = body.get("region"), body.get("availability_zone")
    if not isinstance(region, str) or not isinstance(zone_list, str):
        raise parameter_error()
    if region != REGION:
        raise ApiError.dbs("DBS.200024")
    zones = zone_list.split(",")
    if len(zones) not in (1, 3) or len(set(zones)) != len(zones) or not set(zones) <= set(AVAILABILITY_ZONES):
        raise ApiError.dbs("DBS.280244")
    return zones


def _check_network(world: World, body: dict[str, Any], project_id: str) -> int:
    """The project's VPC, one of its subnets (its index is returned) and its security group."""
    ids = [body.get(key) for key in ("vpc_id", "subnet_id", "security_group_id")]
    if not all(isinstance(value, str) for value in ids):
        raise parameter_error()
    vpc_id, subnet_id, security_group_id = ids
    network = world.networks[project_id]
    if vpc_id != network.vpc_id:
        raise ApiError.dbs("DBS.280247")
    if subnet_id not in network.subnet_ids:
        raise ApiError.dbs("DBS.280248")
    if security_group_id != network.security_group_id:
        raise ApiError.dbs("DBS.280249")
    return network.subnet_ids.index(subnet_id)


def _check_password(password: Any) -> None:
    if not isinstance(password, str):
        raise parameter_error()
    if not PASSWORD_ALLOWED.fullmatch(password):
        raise ApiError.dbs("DBS.280200")
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high or not all(kind.search(password) for kind in PASSWORD_CLASSES):
        raise ApiError.dbs("DBS.280465")


def _check_flavor(flavor: Any) -> tuple[int, int, str]:
    """``(nodes, GB, spec_code)`` of the one flavor a Cassandra instance has; its disk type
    must be the one the page documents."""
    if not isinstance(flavor, list) or len(flavor) != 1 or not isinstance(flavor[0], dict):
        raise parameter_error()
    item = flavor[0]
    node_count, size = _whole(item.get("num")), _whole(item.get("size"))
    if node_count is None or size is None:
        raise parameter_error()
    if not NODES[0] <= node_count <= NODES[1]:
        raise ApiError.dbs("DBS.280123")
    if not 0 < size <= VOLUME_MAX_GB:
        raise ApiError.dbs("DBS.280242")
    if item.get("storage") != STORAGE_TYPE:
        raise ApiError.dbs("DBS.280241")
    if item.get("spec_code") not in SPEC_CODES:
        raise ApiError.dbs("DBS.280239")
    return node_count, size, item["spec_code"]


def _check_backup_strategy(strategy: Any) -> tuple[str, int]:
    """``(window, keep_days)``; without one, 00:00-01:00 and 7 days, as the page says."""
    if strategy is None:
        return DEFAULT_BACKUP_WINDOW, DEFAULT_KEEP_DAYS
    if not isinstance(strategy, dict):
        raise parameter_error()
    window = check_window(strategy.get("start_time"))
    keep_days = _whole(strategy.get("keep_days", DEFAULT_KEEP_DAYS))
    if keep_days is None or not 0 <= keep_days <= KEEP_DAYS_MAX:
        raise ApiError.dbs("DBS.280214")
    return window, keep_days


def _check_restore(world: World, info: Any, project_id: str) -> Source | None:
    """What ``restore_info`` restores, or None for an empty instance."""
    if info is None:
        return None
    if not isinstance(info, dict):
        raise parameter_error()
    backup_id, source_id, restore_time = (info.get(k) for k in ("backup_id", "source_instance_id", "restore_time"))
    if backup_id is not None:
        if source_id is not None or restore_time is not None:
            raise ApiError.dbs("DBS.301024")
        return _backup_source(world, backup_id, project_id)
    instance = world.instances.get(source_id) if isinstance(source_id, str) else None
    if instance is None or instance.project_id != project_id or _whole(restore_time) is None:
        raise ApiError.dbs("DBS.301024")
    # "You can restore data only of a GeminiDB Cassandra cluster instance to a specific point in time."
    if instance.datastore_type != "cassandra" or instance.mode != "Cluster":
        raise ApiError.dbs("DBS.301024")
    at = _whole(restore_time)
    if not any(start <= at <= end for start, end in restorable_windows(world, instance)):
        raise ApiError.dbs("DBS.201215")
    # The data is that of the latest completed backup at that time (plus the log since).
    done = [b for b in _completed_backups(world, instance) if _ms(b.job.ended_at) <= at]
    latest = max(done, key=lambda b: b.job.ended_at)
    return Source(len(instance.nodes), instance.volume_size_gb, instance.volume_used_gb, latest.size_gb)


def _backup_source(world: World, backup_id: Any, project_id: str) -> Source:
    backup = world.backups.get(backup_id) if isinstance(backup_id, str) else None
    if backup is None or backup.project_id != project_id:
        raise ApiError.dbs("DBS.201214")
    if backup.datastore_type != "cassandra":
        raise ApiError.dbs("DBS.301024")
    # Only a full backup that completed can be restored.
    if backup.status != "COMPLETED":
        raise ApiError.dbs("DBS.280124")
    return Source(backup.node_count, backup.volume_size_gb, backup.volume_used_gb, backup.size_gb)


def _ms(ts: float) -> int:
    """Epoch seconds as the page's "UTC time in milliseconds"."""
    return int(ts * 1000)


def _completed_backups(world: World, instance: Instance) -> list[Backup]:
    return [b for b in world.backups.values() if b.instance_id == instance.id and b.status == "COMPLETED"]


def restorable_windows(world: World, instance: Instance) -> list[tuple[int, int]]:
    """The instance's point-in-time windows, (start, end) in ms: from the end of its oldest
    completed backup to now, for a Cassandra Cluster instance."""
    if instance.datastore_type != "cassandra" or instance.mode != "Cluster":
        return []
    ends = [b.job.ended_at for b in _completed_backups(world, instance)]
    return [(_ms(min(ends)), _ms(world.now()))] if ends else []


def _project_instance(world: World, project_id: str, instance_id: str) -> Instance:
    instance = world.instances.get(instance_id)
    if instance is None or instance.project_id != project_id:
        raise ApiError.dbs("DBS.200002")
    return instance


def delete_instance(world: World, request: Request, project_id: str, instance_id: str) -> Response:
    """DELETE /v3/{project_id}/instances/{instance_id}: 202 with the DeleteInstance job.

    Not while another job runs on the instance (it is being created, restored, backed up or
    already deleted): 403 "another operation is being performed", as for a backup.
    """
    instance = _project_instance(world, project_id, instance_id)
    if world.running_jobs(instance.id):
        raise ApiError.dbs(world.config.busy_error_code)
    job = world.start_job(instance, name=DELETE_INSTANCE, begin=world.now(), seconds=world.config.delete_seconds)
    instance.updated = job.begin
    return Response(202, {"job_id": job.id})


def restorable_time_periods(world: World, request: Request, project_id: str, instance_id: str) -> Response:
    """GET .../instances/{instance_id}/backups/restorable-time-periods: the windows in ms,
    cut to ``start_time``..``end_time`` when given, paged by ``offset`` and ``limit``."""
    instance = _project_instance(world, project_id, instance_id)
    if instance.datastore_type != "cassandra":
        raise ApiError.dbs("DBS.280347")
    offset = _int_param(request, "offset", 0, 0)
    limit = _int_param(request, "limit", PERIODS_LIMIT, 0, PERIODS_LIMIT)
    low, high = _time_param(request, "start_time"), _time_param(request, "end_time")
    if low is not None and high is not None and high < low:
        raise parameter_error()
    periods = []
    for start, end in restorable_windows(world, instance):
        start = start if low is None else max(start, _ms(low))
        end = end if high is None else min(end, _ms(high))
        if start <= end:
            periods.append({"start_time": start, "end_time": end})
    return Response(200, {"total_count": len(periods), "restorable_time_periods": periods[offset : offset + limit]})
