"""The IAM account every world has, and the seeded demo world (``--world demo``).

The demo shows every protection state from the start: most Cassandra instances have an automated
backup from their latest window (protected); ``sessions-cache`` has its policy off;
``audit-log``'s latest backup failed (it has a good manual one from earlier that day);
``reporting-eu`` backs up weekly, last three days ago (unprotected). The history is made by the
same rules as the live automated backups (``policies.py``), so it carries on seamlessly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .policies import busy_until, start_due_backups
from .world import ALL_DAYS, Account, Instance, Project, World

DAY = 24 * 3600

DEMO_PROJECT = Project("0549b4a43100d4f32f51c01c2fe4acdb", "eu-de_demo")
ANALYTICS_PROJECT = Project("7a3c1e9f2b8d4e6fa0c5d2b1e8f4a6c9", "eu-de_analytics")

ACCOUNT = Account(
    domain_id="5d1f3a7c9e2b4f6a8c0e1d3b5a7f9c2e",
    domain_name="demo-domain",
    user_id="8b2e4d6f0a1c3e5b7d9f1a3c5e7b9d0f",
    user_name="demo-user",
    password="demo-password",  # noqa: S106 - the published demo login, not a secret
    projects=(DEMO_PROJECT, ANALYTICS_PROJECT),
)


@dataclass(frozen=True)
class DemoInstance:
    """One instance of the demo world and the history it comes with."""

    project: Project
    name: str
    status: str = "normal"
    datastore_type: str = "cassandra"
    node_count: int = 3
    volume_size_gb: int = 100
    volume_used_gb: float = 20.0
    age_days: float = 90
    subnet: int = 0
    backup_window: str = "01:00-02:00"
    keep_days: int = 7
    # Automated backups made by the policy over the last this many days.
    auto_backup_days: int = 0
    # The latest automated backup failed; its window is the hour that began this many hours ago.
    failed_latest_hours_ago: int | None = None
    # Backs up once a week only, on the weekday this many days ago.
    weekly_days_ago: int | None = None
    # The node size; None: the datastore's usual one.
    spec_code: str | None = None


DEMO_INSTANCES = (
    DemoInstance(
        DEMO_PROJECT,
        "orders-prod",
        spec_code="geminidb.cassandra.4xlarge.4",
        node_count=6,
        volume_size_gb=1000,
        volume_used_gb=412.5,
        age_days=400,
        keep_days=14,
        auto_backup_days=10,
    ),
    DemoInstance(
        DEMO_PROJECT,
        "orders-staging",
        volume_size_gb=200,
        volume_used_gb=38.2,
        age_days=120,
        subnet=1,
        backup_window="02:00-03:00",
        auto_backup_days=7,
    ),
    DemoInstance(
        DEMO_PROJECT,
        "telemetry-eu",
        spec_code="geminidb.cassandra.2xlarge.4",
        node_count=6,
        volume_size_gb=2000,
        volume_used_gb=1310.75,
        age_days=300,
        backup_window="03:00-04:00",
        auto_backup_days=7,
    ),
    # keep_days 0: automated backups switched off, so no history.
    DemoInstance(
        DEMO_PROJECT, "sessions-cache", volume_size_gb=100, volume_used_gb=12.4, age_days=90, subnet=1, keep_days=0
    ),
    DemoInstance(
        DEMO_PROJECT,
        "user-profiles",
        volume_size_gb=500,
        volume_used_gb=221.0,
        age_days=200,
        backup_window="00:00-01:00",
        keep_days=10,
        auto_backup_days=10,
    ),
    DemoInstance(
        DEMO_PROJECT,
        "audit-log",
        status="abnormal",
        volume_size_gb=300,
        volume_used_gb=180.3,
        age_days=250,
        auto_backup_days=7,
        failed_latest_hours_ago=2,
    ),
    DemoInstance(
        DEMO_PROJECT, "billing-archive", status="frozen", volume_size_gb=500, volume_used_gb=301.0, age_days=500
    ),
    DemoInstance(DEMO_PROJECT, "inventory-new", status="creating", volume_used_gb=0.0, age_days=0.004),
    DemoInstance(
        DEMO_PROJECT, "legacy-docs", datastore_type="mongodb", volume_size_gb=200, volume_used_gb=80.0, age_days=700
    ),
    DemoInstance(
        DEMO_PROJECT,
        "cart-redis",
        datastore_type="redis",
        volume_size_gb=50,
        volume_used_gb=9.7,
        age_days=180,
        subnet=1,
    ),
    DemoInstance(
        ANALYTICS_PROJECT,
        "clickstream-raw",
        spec_code="geminidb.cassandra.4xlarge.4",
        node_count=6,
        volume_size_gb=4000,
        volume_used_gb=2650.0,
        age_days=180,
        auto_backup_days=7,
    ),
    DemoInstance(
        ANALYTICS_PROJECT, "metrics-rollup", volume_size_gb=500, volume_used_gb=190.6, age_days=150, auto_backup_days=7
    ),
    DemoInstance(
        ANALYTICS_PROJECT,
        "ml-features",
        status="data_disk_full",
        volume_size_gb=300,
        volume_used_gb=299.1,
        age_days=60,
        subnet=1,
        auto_backup_days=5,
    ),
    DemoInstance(
        ANALYTICS_PROJECT,
        "reporting-eu",
        volume_size_gb=200,
        volume_used_gb=74.3,
        age_days=30,
        auto_backup_days=10,
        weekly_days_ago=3,
    ),
    DemoInstance(
        ANALYTICS_PROJECT,
        "iot-metrics",
        datastore_type="influxdb",
        volume_size_gb=300,
        volume_used_gb=121.0,
        age_days=240,
    ),
)

# (instance, backup name, description, days ago) of the manual backups people took earlier.
DEMO_MANUAL_BACKUPS = (
    ("orders-prod", "pre-upgrade-3-11", "Before the Cassandra patch upgrade", 4.2),
    ("user-profiles", "before-gdpr-purge", "Snapshot before deleting expired profiles", 6.1),
    ("clickstream-raw", "before-compaction-change", "Before switching to TWCS compaction", 2.3),
    ("sessions-cache", "before-ttl-change", "Before shortening the session TTL", 0.2),
    ("audit-log", "before-node-repair", "Before repairing the failed node", 0.25),
)


def populate_empty(world: World) -> None:
    """``--world empty``: the account and its projects, no instances (tests add their own)."""


def populate_demo(world: World) -> None:
    """``--world demo``: instances in both projects with about ten days of backup history."""
    now = world.now()
    instances = {spec.name: _add(world, spec, now) for spec in DEMO_INSTANCES}
    for spec in DEMO_INSTANCES:
        _add_auto_history(world, instances[spec.name], spec, now)
    for name, backup_name, description, days_ago in DEMO_MANUAL_BACKUPS:
        world.start_backup(
            instances[name],
            name=backup_name,
            description=description,
            type="Manual",
            begin=now - days_ago * DAY,
        )

    # Happening now: an automated backup that started four minutes ago and runs fifteen (unless
    # its window's own runs already), and the new instance being created (it becomes normal
    # when its job ends, in half an hour).
    metrics = instances["metrics-rollup"]
    if busy_until(world, metrics.id, now) is None:
        world.start_backup(
            metrics,
            name=_auto_name(metrics, now - 240),
            description="",
            type="Auto",
            begin=now - 240,
            seconds=900,
        )
    creating = instances["inventory-new"]
    world.start_job(creating, name="CreateInstance", begin=creating.created, seconds=1800)

    # A little operations history besides backups.
    world.start_job(instances["audit-log"], name="RestartInstance", begin=now - 2 * DAY, seconds=95)
    world.start_job(
        instances["ml-features"],
        name="EnlargeInstanceVolume",
        begin=now - 1.2 * DAY,
        seconds=310,
        fail_reason="Insufficient storage resources in the availability zone.",
    )


def _add(world: World, spec: DemoInstance, now: float) -> Instance:
    backup_window, backup_period = spec.backup_window, ALL_DAYS
    if spec.failed_latest_hours_ago is not None:
        hour = datetime.fromtimestamp(now - spec.failed_latest_hours_ago * 3600, tz=UTC).hour
        backup_window = f"{hour:02}:00-{(hour + 1) % 24:02}:00"
    if spec.weekly_days_ago is not None:
        backup_period = str(datetime.fromtimestamp(now - spec.weekly_days_ago * DAY, tz=UTC).isoweekday())
    return world.add_instance(
        project_id=spec.project.id,
        name=spec.name,
        status=spec.status,
        datastore_type=spec.datastore_type,
        # Older instances get a random time of day; the one being created started minutes ago.
        created=now - spec.age_days * DAY - (world.rng.randint(0, 3600) if spec.age_days >= 1 else 0),
        node_count=spec.node_count,
        volume_size_gb=spec.volume_size_gb,
        volume_used_gb=spec.volume_used_gb,
        backup_window=backup_window,
        keep_days=spec.keep_days,
        backup_period=backup_period,
        subnet=spec.subnet,
        spec_code=spec.spec_code,
    )


def _add_auto_history(world: World, instance: Instance, spec: DemoInstance, now: float) -> None:
    """The automated backups the policy made over the last few days, up to now (the latest may
    still run); those past their keep_days leave at the first request."""
    if not spec.auto_backup_days:
        return
    made = start_due_backups(world, instance, now - spec.auto_backup_days * DAY, now, failure_rate=0)
    if spec.failed_latest_hours_ago is not None and made:
        made[-1].job.outcome, made[-1].job.fail_reason = "Failed", world.random_fail_reason()


def _auto_name(instance: Instance, begin: float) -> str:
    stamp = datetime.fromtimestamp(begin, tz=UTC).strftime("%Y%m%d%H%M%S")
    return f"{instance.name}-{stamp}"


WORLDS: dict[str, Callable[[World], None]] = {"demo": populate_demo, "empty": populate_empty}
