"""A large, realistic world in PostgreSQL: 3 projects, 1,000 instances, 1,000,000 backups over
three years (mixed statuses and origins, several requesters), 50 users.

Rows are generated inside PostgreSQL with generate_series: a million ORM saves would take
longer than the whole benchmark.
"""

import time

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


def seed(report) -> dict:
    """(Re)create the world unless it is already there; returns handy ids for the measurements."""
    started = time.monotonic()
    if Backup.objects.filter(instance__project__name__startswith="eu-de_bench-").count() != BACKUPS + RUNNING:
        _create()
        created = f"created in {time.monotonic() - started:.0f} s"
    else:
        created = "already present, reused"
    with connection.cursor() as cursor:
        # As autovacuum would have done in production: statistics and a visibility map,
        # so index-only scans need not read the table.
        cursor.execute("VACUUM ANALYZE")
    report.line(
        f"World: {PROJECTS} projects, {INSTANCES:,} instances, {BACKUPS + RUNNING:,} backups over {YEARS} years, "
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
            name=f"cassandra-{i:04d}",
            status="normal" if i % 50 else "abnormal",
            mode="Cluster",
            datastore_version="3.11",
            synced_at=now,
        )
        for i in range(INSTANCES)
    )
    user_ids = list(get_user_model().objects.filter(username__startswith="bench-user-").values_list("id", flat=True))
    step = YEARS * 365 * 86400 / BACKUPS
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO backups_backup (
                instance_id, name, description, origin, requested_by_id, requested_at, status, progress,
                job_id, backup_id, size_kb, started_at, finished_at, error_code, error_message,
                submit_attempts, overdue
            )
            SELECT
                inst.ids[1 + g %% %(instances)s],
                'backup-' || g,
                'seeded for the benchmark',
                CASE WHEN g %% 3 = 0 THEN 'cloud_auto' ELSE 'dashboard' END,
                CASE WHEN g %% 3 = 0 THEN NULL ELSE (%(users)s)[1 + g %% 7] END,
                %(now)s - make_interval(secs => g * %(step)s),
                CASE WHEN g %% 25 = 0 THEN 'failed' ELSE 'completed' END,
                CASE WHEN g %% 25 = 0 THEN 0 ELSE 100 END,
                md5('job' || g), md5('backup' || g) || 'br06',
                CASE WHEN g %% 25 = 0 THEN NULL ELSE 1048576 + (g::bigint * 7919) %% 50000000 END,
                %(now)s - make_interval(secs => g * %(step)s) + interval '3 seconds',
                %(now)s - make_interval(secs => g * %(step)s) + make_interval(secs => 300 + g %% 1500),
                CASE WHEN g %% 25 = 0 THEN 'JOB_FAILED' ELSE '' END,
                CASE WHEN g %% 25 = 0 THEN 'Backup upload to OBS timed out.' ELSE '' END,
                1, false
            FROM generate_series(1, %(backups)s) AS g,
                 (SELECT array_agg(id ORDER BY id) AS ids FROM backups_instance) AS inst
            """.replace("%(instances)s", str(INSTANCES)),
            {"users": user_ids, "now": now, "step": step, "backups": BACKUPS},
        )
    running = Instance.objects.order_by("pk")[:RUNNING]
    Backup.objects.bulk_create(
        Backup(
            instance=instance,
            name=f"running-{instance.pk}",
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
