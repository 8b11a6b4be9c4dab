"""The simulated cloud's state: account, instances, jobs, backups, tokens, settings and counters.

One ``World.lock`` guards all of it; the server holds the lock for the whole of each request, so
the functions that handle requests read and change state freely. Anything that depends on time
(a job's progress, a token's expiry) is worked out from the clock when a request asks, by
``World.settle``; no background thread moves the world along.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import Config

# Per-node upload bandwidth is 20-70 MB/s (user guide, "Managing Manual Backups", FIELD-NOTES);
# seeded backups take as long as their size needs at this rate.
UPLOAD_KB_PER_SECOND_PER_NODE = 50 * 1024

# The ID suffixes GeminiDB uses: instance and backup ids end in "in06" (creating_a_manual_backup.rst
# example), groups in "gr06" and nodes in "no06" (querying_instances_and_details.rst example).
INSTANCE_SUFFIX = "in06"
GROUP_SUFFIX = "gr06"
NODE_SUFFIX = "no06"

# Every day of the week, as a policy's period spells it (configuring_an_automated_backup_policy.rst).
ALL_DAYS = "1,2,3,4,5,6,7"

# The one region the simulated cloud has, and its availability zones (Open Telekom Cloud's eu-de).
REGION = "eu-de"
AVAILABILITY_ZONES = ("eu-de-01", "eu-de-02", "eu-de-03")
# The disk type creating_an_instance.rst documents: "ULTRAHIGH, SSD disks are used".
STORAGE_TYPE = "ULTRAHIGH"

# The task names of querying_tasks_and_details.rst that the simulator runs.
CREATE_INSTANCE = "CreateInstance"
RESTORE_NEW_INSTANCE = "RestoreNewInstance"
DELETE_INSTANCE = "DeleteInstance"
BACKUP_INSTANCE = "BackupInstance"

INSTANCE_STATUSES = (
    "normal",
    "abnormal",
    "creating",
    "frozen",
    "data_disk_full",
    "createfail",
    "enlargefail",
)

FAIL_REASONS = (
    "Failed to upload the backup file to OBS.",
    "The backup timed out because a node did not respond.",
    "Failed to create a snapshot on one or more nodes.",
)


@dataclass(frozen=True)
class Datastore:
    """What an instance of one database type looks like in the instance list."""

    version: str
    whole_version: str | None
    mode: str
    port: str
    spec_code: str
    node_label: str


DATASTORES: dict[str, Datastore] = {
    "cassandra": Datastore("3.11", "3.11.3.2", "Cluster", "8635", "geminidb.cassandra.xlarge.4", "priam_node"),
    "mongodb": Datastore("4.0", None, "ReplicaSet", "8635", "geminidb.mongodb.xlarge.4", "node"),
    "redis": Datastore("5.0", None, "Cluster", "6379", "geminidb.redis.large.4", "node"),
    "influxdb": Datastore("1.8", None, "Cluster", "8635", "geminidb.influxdb.xlarge.4", "node"),
}


@dataclass(frozen=True)
class Project:
    id: str
    name: str


@dataclass(frozen=True)
class Account:
    """The IAM account (domain) every world starts with: its first user and the projects that
    user may scope tokens to. More users and projects are added at run time (``World.add_user``)."""

    domain_id: str
    domain_name: str
    user_id: str
    user_name: str
    password: str
    projects: tuple[Project, ...]


@dataclass(frozen=True)
class IamUser:
    """An IAM user of the account's domain and the projects it has a role in.

    The gateway counts calls per user (FIELD-NOTES: "calls/min per user"); ``rate_limit_per_minute``
    gives this user a limit of its own, None the gateway's setting."""

    id: str
    name: str
    password: str = field(repr=False)
    project_ids: frozenset[str]
    rate_limit_per_minute: int | None = None


@dataclass(frozen=True)
class Network:
    """A project's VPC, its two subnets and the security group instances use."""

    vpc_id: str
    subnet_ids: tuple[str, str]
    security_group_id: str


@dataclass
class Node:
    id: str
    name: str
    subnet_id: str
    private_ip: str
    availability_zone: str


@dataclass
class Instance:
    id: str
    name: str
    project_id: str
    status: str
    datastore_type: str
    created: float
    updated: float
    network: Network
    subnet_id: str
    group_id: str
    nodes: list[Node]
    volume_size_gb: int
    volume_used_gb: float
    backup_window: str
    keep_days: int
    spec_code: str
    # The AZs it was created in, comma-separated (creating_an_instance.rst); its nodes take turns.
    availability_zone: str
    storage_type: str = STORAGE_TYPE
    # The automated backup policy's days, ISO weekdays (policies.py); windows that open before
    # the policy last changed start no backup.
    backup_period: str = ALL_DAYS
    policy_changed_at: float = 0.0

    @property
    def datastore(self) -> Datastore:
        return DATASTORES[self.datastore_type]

    @property
    def mode(self) -> str:
        return self.datastore.mode


@dataclass
class Job:
    """A task on an instance. It runs from ``begin`` to ``deadline`` and then ends with ``outcome``."""

    id: str
    name: str
    project_id: str
    instance_id: str
    instance_name: str
    begin: float
    deadline: float
    outcome: str = "Completed"
    fail_reason: str = ""
    ended_at: float | None = None
    # Made by an automated backup, which the jobs API may leave out (auto_backup_jobs_listed).
    automated: bool = False

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def status(self) -> str:
        """Running, Completed or Failed (querying_tasks_and_details.rst)."""
        return "Running" if self.running else self.outcome

    def progress(self, now: float) -> str:
        """ "0%".."99%" while running, "" otherwise (querying_tasks_and_details.rst, Table 5)."""
        if not self.running:
            return ""
        span = self.deadline - self.begin
        share = (now - self.begin) / span if span > 0 else 1.0
        return f"{max(0, min(99, int(share * 100)))}%"


@dataclass
class Backup:
    """A backup; its status follows the job that makes it."""

    id: str
    name: str
    description: str
    type: str
    project_id: str
    instance_id: str
    instance_name: str
    datastore_type: str
    datastore_version: str
    size_kb: float
    job: Job
    # Automated backups are deleted this many days after they ended (the policy's keep_days
    # when they started); None: kept until someone deletes it.
    keep_days: int | None = None
    # The instance's size when it was backed up: a restore needs at least as much
    # (creating_an_instance.rst), even once the instance itself has grown or gone.
    node_count: int = 3
    volume_size_gb: int = 100
    volume_used_gb: float = 0.0

    @property
    def size_gb(self) -> float:
        return self.size_kb / (1024 * 1024)

    @property
    def status(self) -> str:
        """BUILDING, COMPLETED or FAILED (querying_backups_v3.1.rst, Table 5)."""
        if self.job.running:
            return "BUILDING"
        return "COMPLETED" if self.job.outcome == "Completed" else "FAILED"


@dataclass
class Token:
    value: str
    user_id: str
    project_id: str | None
    issued_at: float
    expires_at: float


class World:
    """Everything the simulator knows. Build it once; ``reset`` returns it to how it started.

    ``populate`` fills a fresh world (see ``simulator.demo.WORLDS``); ``clock`` tells the wall
    clock's time, to which ``clock_offset`` (moved by ``POST /_sim/clock``) is added.
    """

    def __init__(
        self,
        *,
        account: Account,
        initial_config: Config,
        seed: int,
        populate: Callable[[World], None],
        clock: Callable[[], float] = time.time,
    ):
        self.account = account
        self.initial_config = initial_config
        self.seed = seed
        self.populate = populate
        self.clock = clock
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Rebuild the starting world: same seed, start-up settings, no tokens, zero counters."""
        self.config = self.initial_config
        self.clock_offset = 0.0
        # Automated backups are started for the windows that opened since then (policies.py).
        self.policies_checked_at = self.now()
        self.rng = random.Random(self.seed)
        # Faults draw from their own generator so injecting them does not change which
        # backups fail or which ids are handed out.
        self.fault_rng = random.Random(self.seed + 1)
        account = self.account
        self.projects: dict[str, Project] = {project.id: project for project in account.projects}
        self.networks = {project.id: self._new_network() for project in account.projects}
        first_user = IamUser(account.user_id, account.user_name, account.password, frozenset(self.projects))
        self.users: dict[str, IamUser] = {first_user.id: first_user}
        self.instances: dict[str, Instance] = {}
        self.jobs: dict[str, Job] = {}
        self.backups: dict[str, Backup] = {}
        self.tokens: dict[str, Token] = {}
        self.recent_calls: dict[str, deque[float]] = defaultdict(deque)
        self.calls_by_kind: Counter[str] = Counter()
        self.calls_by_status: Counter[str] = Counter()
        # The same two counts per project, for the GeminiDB calls (those with a project in the path).
        self.project_calls_by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        self.project_calls_by_status: dict[str, Counter[str]] = defaultdict(Counter)
        self.populate(self)

    def now(self) -> float:
        return self.clock() + self.clock_offset

    def hex_id(self, suffix: str = "") -> str:
        """A 32-hex-digit id with GeminiDB's type suffix, drawn from the seeded generator."""
        return f"{self.rng.getrandbits(128):032x}{suffix}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _new_network(self) -> Network:
        return Network(self.uuid(), (self.uuid(), self.uuid()), self.uuid())

    def add_project(self, *, name: str, id: str | None = None) -> Project:
        """Create a project in the account's domain (with its own network); raise ValueError if
        the id or name is taken."""
        project = Project(id or self.hex_id(), name)
        if not name or any(p.id == project.id or p.name == name for p in self.projects.values()):
            raise ValueError(f"a project with id {project.id!r} or name {name!r} exists")
        self.projects[project.id] = project
        self.networks[project.id] = self._new_network()
        return project

    def add_user(
        self, *, name: str, password: str, project_ids: list[str], rate_limit_per_minute: int | None = None
    ) -> IamUser:
        """Create an IAM user in the account's domain with a role in each of ``project_ids``;
        raise ValueError for a taken name or an unknown project."""
        if not name or any(user.name == name for user in self.users.values()):
            raise ValueError(f"user name {name!r} is empty or taken")
        unknown = [project_id for project_id in project_ids if project_id not in self.projects]
        if unknown:
            raise ValueError(f"unknown project_id {unknown[0]!r}")
        user = IamUser(self.hex_id(), name, password, frozenset(project_ids), rate_limit_per_minute)
        self.users[user.id] = user
        return user

    def add_instance(
        self,
        *,
        project_id: str,
        name: str,
        status: str = "normal",
        datastore_type: str = "cassandra",
        id: str | None = None,
        created: float | None = None,
        node_count: int = 3,
        volume_size_gb: int = 100,
        volume_used_gb: float | None = None,
        backup_window: str = "16:00-17:00",
        keep_days: int = 7,
        backup_period: str = ALL_DAYS,
        subnet: int = 0,
        spec_code: str | None = None,
        availability_zone: str = ",".join(AVAILABILITY_ZONES),
    ) -> Instance:
        """Create an instance with plausible network, nodes and volume; raise ValueError on bad input.

        ``spec_code`` defaults to the datastore's; the nodes take turns over the comma-separated
        ``availability_zone``."""
        if project_id not in self.networks:
            raise ValueError(f"unknown project_id {project_id!r}")
        if datastore_type not in DATASTORES:
            raise ValueError(f"datastore_type must be one of {sorted(DATASTORES)}")
        if status not in INSTANCE_STATUSES:
            raise ValueError(f"status must be one of {list(INSTANCE_STATUSES)}")
        instance_id = id or self.hex_id(INSTANCE_SUFFIX)
        if instance_id in self.instances:
            raise ValueError(f"instance {instance_id} already exists")
        network = self.networks[project_id]
        subnet_id = network.subnet_ids[subnet]
        label = DATASTORES[datastore_type].node_label
        zones = availability_zone.split(",")
        third_octet = 10 * (subnet + 1)
        nodes = [
            Node(
                id=self.hex_id(NODE_SUFFIX),
                name=f"{name}_{label}_{index}",
                subnet_id=subnet_id,
                private_ip=f"192.168.{third_octet}.{self.rng.randint(10, 250)}",
                availability_zone=zones[(index - 1) % len(zones)],
            )
            for index in range(1, node_count + 1)
        ]
        if volume_used_gb is None:
            volume_used_gb = round(volume_size_gb * self.rng.uniform(0.2, 0.7), 3)
        created = self.now() if created is None else created
        instance = Instance(
            id=instance_id,
            name=name,
            project_id=project_id,
            status=status,
            datastore_type=datastore_type,
            created=created,
            updated=created,
            network=network,
            subnet_id=subnet_id,
            group_id=self.hex_id(GROUP_SUFFIX),
            nodes=nodes,
            volume_size_gb=volume_size_gb,
            volume_used_gb=volume_used_gb,
            backup_window=backup_window,
            keep_days=keep_days,
            backup_period=backup_period,
            spec_code=spec_code or DATASTORES[datastore_type].spec_code,
            availability_zone=availability_zone,
        )
        self.instances[instance.id] = instance
        return instance

    def start_job(self, instance: Instance, *, name: str, begin: float, seconds: float, fail_reason: str = "") -> Job:
        """Record a task on ``instance`` that runs ``seconds`` and fails if ``fail_reason`` is set."""
        job = Job(
            id=self.uuid(),
            name=name,
            project_id=instance.project_id,
            instance_id=instance.id,
            instance_name=instance.name,
            begin=begin,
            deadline=begin + seconds,
            outcome="Failed" if fail_reason else "Completed",
            fail_reason=fail_reason,
        )
        self.jobs[job.id] = job
        return job

    def start_backup(
        self,
        instance: Instance,
        *,
        name: str,
        description: str,
        type: str,
        begin: float,
        seconds: float | None = None,
        fail_reason: str = "",
    ) -> Backup:
        """Start a full backup of ``instance`` with its BackupInstance job.

        Its size (reported once it completes) is the used volume after compression; without
        ``seconds`` it takes as long as uploading that size needs.
        """
        size_kb = round(instance.volume_used_gb * 1024 * 1024 * self.rng.uniform(0.35, 0.6), 1)
        if seconds is None:
            seconds = size_kb / (UPLOAD_KB_PER_SECOND_PER_NODE * len(instance.nodes))
        job = self.start_job(instance, name=BACKUP_INSTANCE, begin=begin, seconds=seconds, fail_reason=fail_reason)
        job.automated = type == "Auto"
        backup = Backup(
            id=self.hex_id(INSTANCE_SUFFIX),
            name=name,
            description=description,
            type=type,
            project_id=instance.project_id,
            instance_id=instance.id,
            instance_name=instance.name,
            datastore_type=instance.datastore_type,
            datastore_version=instance.datastore.version,
            size_kb=size_kb,
            job=job,
            keep_days=(instance.keep_days or None) if type == "Auto" else None,
            node_count=len(instance.nodes),
            volume_size_gb=instance.volume_size_gb,
            volume_used_gb=instance.volume_used_gb,
        )
        self.backups[backup.id] = backup
        return backup

    def random_fail_reason(self) -> str:
        return self.rng.choice(FAIL_REASONS)

    def running_jobs(self, instance_id: str) -> list[Job]:
        return [job for job in self.jobs.values() if job.instance_id == instance_id and job.running]

    def settle(self) -> None:
        """End every job whose time has come: a finished create (or restore) leaves its instance
        normal, or createfail if it failed; a finished delete removes the instance."""
        if self.config.jobs_never_finish:
            return
        now = self.now()
        for job in self.jobs.values():
            if job.running and now >= job.deadline:
                job.ended_at = job.deadline
                instance = self.instances.get(job.instance_id)
                if instance is None:
                    continue
                if job.name in (CREATE_INSTANCE, RESTORE_NEW_INSTANCE) and instance.status == "creating":
                    instance.status = "normal" if job.outcome == "Completed" else "createfail"
                    instance.updated = job.deadline
                elif job.name == DELETE_INSTANCE and job.outcome == "Completed":
                    del self.instances[instance.id]

    def finish_job(self, job: Job, *, outcome: str, fail_reason: str = "") -> None:
        """End a running job now with ``outcome``."""
        job.outcome = outcome
        job.fail_reason = fail_reason
        job.ended_at = self.now()

    def update_config(self, changes: Mapping[str, Any]) -> None:
        """Apply setting changes (raises ValueError). Jobs held by ``jobs_never_finish`` end
        no earlier than the moment it is switched off."""
        self.settle()
        new = self.config.changed(changes)
        if self.config.jobs_never_finish and not new.jobs_never_finish:
            now = self.now()
            for job in self.jobs.values():
                if job.running:
                    job.deadline = max(job.deadline, now)
        self.config = new

    def expire_tokens(self) -> None:
        """Make every token issued so far expire now."""
        now = self.now()
        for token in self.tokens.values():
            token.expires_at = min(token.expires_at, now)

    def chance(self, rate: float) -> bool:
        """True with probability ``rate``, for fault injection."""
        return rate > 0 and self.fault_rng.random() < rate
