"""A large, realistic world in PostgreSQL: 3 projects, 1,000 instances, 1,000,000 backups over
three years (mixed statuses and origins, several requesters), 50 users.

Names are the kinds real teams have: instances such as `orders-prod` or `sessions-cache-eu`;
backups mostly automated, named as the cloud names them (instance + start time), and manual
ones people named: instance + date, `pre-deploy-4711`, `before-migration`, `fix-customer-4211`.

Rows are generated inside PostgreSQL with generate_series: a million ORM saves would take
longer than the whole benchmark.
"""

import random
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from access.models import CloudProject, Membership
from backups.models import Backup, Instance

PROJECTS = 3
INSTANCES = 1_000
BACKUPS = 1_000_000
USERS = 50
RUNNING = 20  # instances with a backup running right now
YEARS = 3
# Raise it whenever the world's shape changes: a database seeded by an older version is
# re-seeded rather than reused.
WORLD_VERSION = 3
_MARKER = f"benchmarks.world v{WORLD_VERSION}: {BACKUPS + RUNNING} backups"

# Instance names: service + environment, some per region or numbered (5 variants of 200 bases).
SERVICES = (
    "orders", "payments", "billing", "invoices", "checkout", "cart", "catalog", "inventory", "pricing",
    "search-index", "sessions-cache", "user-profiles", "accounts", "auth-tokens", "notifications",
    "email-events", "telemetry", "metrics", "clickstream", "audit-log", "feature-flags", "recommendations",
    "ml-features", "shipments", "tracking", "returns", "reviews", "loyalty", "coupons", "ledger",
    "fraud-signals", "chat-history", "media-meta", "geo-tiles", "iot-readings", "device-registry",
    "reporting", "timeseries", "events", "webhooks",
)  # fmt: skip
ENVIRONMENTS = ("prod", "staging", "dev", "qa", "perf")
VARIANTS = ("", "-eu", "-nl", "-02", "-03")
# Protection as services/protection.py would have assessed it, by instance number % 10.
PROTECTION = [Instance.Protection.PROTECTED] * 8 + [Instance.Protection.AT_RISK, Instance.Protection.UNPROTECTED]

# Backup kinds, by a per-row number 0..99 (the proportions, in percent):
#   0-54 automated by the cloud's policy: `<instance>-<YYYYmmddHHMMSS>` (simulator/policies.py);
#  55-64 made in the cloud's own console: words people type, repeated freely;
#  65-99 requested in this console (names unique per instance, as the console requires):
#        65-76 `<instance>-<YYYYMMDD>`, 77-84 `pre-deploy-<build>`, 85-90 `before-<change>-<n>`,
#        91-99 free words with a number (`fix-customer-4211`, `hotfix-1234`, …).
CLOUD_CONSOLE_WORDS = (
    "nightly", "manual", "weekly", "before-migration", "before-upgrade", "test", "adhoc", "snapshot",
    "full-backup", "pre-maintenance", "monthly", "keep-forever",
)  # fmt: skip
BEFORE_WORDS = ("before-migration", "before-upgrade", "before-schema-change", "before-repair", "before-cleanup")
FREE_WORDS = ("fix-customer", "hotfix", "ticket-OPS", "release", "incident", "restore-test", "jira-DATA", "rollback")


def seed(report) -> dict:
    """(Re)create the world unless this version of it is already there; returns handy ids for
    the measurements."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description('backups_backup'::regclass, 'pg_class')")
        marker = cursor.fetchone()[0]
    if marker != _MARKER or Backup.objects.count() != BACKUPS + RUNNING:
        _create()
        created = f"created in {time.monotonic() - started:.0f} s"
    else:
        created = "already present, reused"
    with connection.cursor() as cursor:
        # As autovacuum would have done in production: statistics and a visibility map,
        # so index-only scans need not read the table.
        cursor.execute("VACUUM ANALYZE")
    report.line(
        f"World v{WORLD_VERSION}: {PROJECTS} projects, {INSTANCES:,} instances, {BACKUPS + RUNNING:,} backups "
        f"over {YEARS} years (55% automated, 10% from the cloud console, 35% from this console), "
        f"{USERS} users ({created})."
    )
    user = get_user_model().objects.get(username="bench-user-00")
    busy_instance = Instance.objects.filter(backups__status=Backup.Status.RUNNING).first()
    return {
        "user": user,
        "instance": Instance.objects.order_by("pk")[INSTANCES // 2],
        "running_backup": Backup.objects.filter(status=Backup.Status.RUNNING).first(),
        "old_backup": Backup.objects.order_by("requested_at", "id").first(),
        "busy_instance": busy_instance,
        "requester": get_user_model().objects.get(username="bench-user-07"),
    }


def instance_names() -> list[str]:
    names = [f"{service}-{env}{variant}" for variant in VARIANTS for service in SERVICES for env in ENVIRONMENTS]
    if len(names) < INSTANCES:
        raise ValueError(f"{len(names)} instance names for {INSTANCES} instances: add services or variants")
    random.Random(15).shuffle(names)  # noqa: S311 - a fixed order, not a secret
    return names[:INSTANCES]


@transaction.atomic
def _create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE backups_backupevent, backups_backup, backups_instance, backups_membership, "
            "backups_cloudproject RESTART IDENTITY CASCADE"
        )
    get_user_model().objects.filter(username__startswith="bench-user-").delete()
    now = timezone.now()
    projects = [
        CloudProject.objects.create(
            name=f"eu-de_bench-{i}",
            region="eu-de",
            project_id=f"{i:032x}",
            iam_endpoint="https://iam.example.invalid",
            geminidb_endpoint="https://geminidb.example.invalid",
            iam_domain="bench",
            iam_user="bench",
            iam_password="not-a-real-password",  # noqa: S106
        )
        for i in range(PROJECTS)
    ]
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(username=f"bench-user-{i:02d}", first_name="Bench", last_name=f"User {i}")
            for i in range(USERS)
        ]
    )
    # Everyone sees every project; roles vary as in a real team.
    roles = [Membership.Role.ADMIN] + [Membership.Role.OPERATOR] * 20 + [Membership.Role.VIEWER] * 29
    Membership.objects.bulk_create(
        Membership(user=user, project=project, role=role)
        for user, role in zip(users, roles, strict=True)
        for project in projects
    )
    Instance.objects.bulk_create(
        Instance(
            project=projects[i % PROJECTS],
            cloud_id=f"{i:028x}in06",
            name=name,
            status="normal" if i % 50 else "abnormal",
            mode="Cluster",
            datastore_version="3.11",
            synced_at=now,
            # Most keep a week of daily automated backups; one in ten has the policy off.
            policy_keep_days=0 if i % 10 == 9 else 7,
            policy_start_time="01:00-02:00",
            policy_period="1,2,3,4,5,6,7",
            policy_synced_at=now,
            protection_status=PROTECTION[i % 10],
            protection_reason="As assessed by the console.",
            protection_next_step="Nothing to do." if i % 10 < 8 else "Switch automated backups on.",
            protection_changed_at=now - timedelta(days=i % 30),
        )
        for i, name in enumerate(instance_names())
    )
    user_ids = list(get_user_model().objects.filter(username__startswith="bench-user-").values_list("id", flat=True))
    step = YEARS * 365 * 86400 / BACKUPS
    with connection.cursor() as cursor:
        # Row g belongs to instance g % INSTANCES; seq = g / INSTANCES counts that instance's
        # backups (a day or so apart), so `<instance>-<date>` and `<words>-<num>` stay unique
        # per instance. kind and fate are hashes of g, so neither follows the instance.
        cursor.execute(
            """
            INSERT INTO backups_backup (
                instance_id, name, description, origin, requested_by_id, requested_at, status, progress,
                job_id, backup_id, size_kb, started_at, finished_at, error_code, error_message,
                submit_attempts, overdue
            )
            SELECT
                inst.ids[1 + g %% %(instances)s],
                CASE
                    WHEN kind < 55 THEN inst.names[1 + g %% %(instances)s] || '-' || to_char(at, 'YYYYMMDDHH24MISS')
                    WHEN kind < 65 THEN (%(console_words)s::text[])[1 + fate %% cardinality(%(console_words)s::text[])]
                    WHEN kind < 77 THEN inst.names[1 + g %% %(instances)s] || '-' || to_char(at, 'YYYYMMDD')
                    WHEN kind < 85 THEN 'pre-deploy-' || num
                    WHEN kind < 91 THEN (%(before_words)s::text[])[1 + fate %% cardinality(%(before_words)s::text[])]
                        || '-' || (1 + g / %(instances)s)
                    ELSE (%(free_words)s::text[])[1 + fate %% cardinality(%(free_words)s::text[])] || '-' || num
                END,
                CASE WHEN kind < 55 THEN '' ELSE 'taken by hand' END,
                CASE WHEN kind < 55 THEN 'cloud_auto' WHEN kind < 65 THEN 'cloud_manual' ELSE 'dashboard' END,
                CASE WHEN kind < 65 THEN NULL ELSE (%(users)s)[1 + g %% 7] END,
                at,
                CASE WHEN fate %% 100 < 3 THEN 'failed' ELSE 'completed' END,
                CASE WHEN fate %% 100 < 3 THEN 0 ELSE 100 END,
                md5('job' || g), md5('backup' || g) || 'br06',
                CASE WHEN fate %% 100 < 3 THEN NULL ELSE 1048576 + (g::bigint * 7919) %% 50000000 END,
                at + interval '3 seconds',
                at + make_interval(secs => 300 + g %% 1500),
                CASE WHEN fate %% 100 < 3 THEN 'JOB_FAILED' ELSE '' END,
                CASE WHEN fate %% 100 < 3 THEN 'Backup upload to OBS timed out.' ELSE '' END,
                1, false
            FROM (
                SELECT
                    g,
                    %(now)s - make_interval(secs => g * %(step)s) AS at,
                    abs(hashtext('kind' || g)::bigint) %% 100 AS kind,
                    (abs(hashtext('fate' || g)::bigint) %% 1000000)::int AS fate,
                    -- a build or ticket number, unique per instance (7 * seq < 9000)
                    1000 + (7 * (g / %(instances)s) + 13 * (g %% %(instances)s)) %% 9000 AS num
                FROM generate_series(1, %(backups)s) AS g
            ) AS rows,
            (
                SELECT array_agg(id ORDER BY id) AS ids, array_agg(name ORDER BY id) AS names
                FROM backups_instance
            ) AS inst
            """,
            {
                "instances": INSTANCES,
                "users": user_ids,
                "now": now,
                "step": step,
                "backups": BACKUPS,
                "console_words": list(CLOUD_CONSOLE_WORDS),
                "before_words": list(BEFORE_WORDS),
                "free_words": list(FREE_WORDS),
            },
        )
    running = Instance.objects.order_by("pk")[:RUNNING]
    Backup.objects.bulk_create(
        Backup(
            instance=instance,
            name=f"{instance.name}-{now:%Y%m%d-%H%M}",
            description="in flight",
            requested_by_id=user_ids[1],
            requested_at=now,
            status=Backup.Status.RUNNING,
            progress=40,
            job_id=f"job-{instance.pk}",
            backup_id=f"running-{instance.pk}",
            started_at=now,
            next_poll_at=now,
        )
        for instance in running
    )
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON TABLE backups_backup IS '{_MARKER}'")
