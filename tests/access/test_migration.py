"""A database from before the access app migrates without losing or changing a row.

The models of `access` lived in `backups` until backups/0004; access/0001 took them over in the
migration state only. This builds a populated database as the earlier code left it (migrations
up to backups/0003, through the historical models of that time), migrates it to the last
migration before initial passwords were retired, and compares every row of every table
involved, byte for byte. Then access/0005 changes exactly what it must: the accounts that an
admin still knew the password of can no longer sign in with it, and their mark is gone.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from access.models import AuditEvent, CloudProject, Membership
from backups.models import Backup, Instance

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_ACCESS = [("backups", "0003_backup_name_trigram"), ("access", None)]
BEFORE_RETIRING = ("access", "0004_invitations")
INITIAL_PASSWORD = "Initial-pass-4821"
TABLES = [
    "auth_user",
    "backups_cloudproject",
    "backups_membership",
    "backups_initialpassword",
    "backups_auditevent",
    "backups_instance",
    "backups_backup",
    "backups_backupevent",
]
MOVED = ["cloudproject", "membership", "initialpassword", "auditevent"]


# Apps made after access/0004 that need today's access: not there yet at an earlier access.
LATER_APPS = ("api", "restores")


def leaves(*, access_at=None) -> list[tuple[str, str]]:
    """Every app's latest migration, or access's at `access_at` (without the later apps)."""
    nodes = MigrationExecutor(connection).loader.graph.leaf_nodes()
    if access_at is None:
        return nodes
    return [node for node in nodes if node[0] not in ("access", *LATER_APPS)] + [access_at]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def snapshot() -> dict[str, tuple[list[str], list[tuple]]]:
    """Every column of every row of the tables, in primary-key order."""
    rows = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 - our own table names
            rows[table] = ([column[0] for column in cursor.description], cursor.fetchall())
    return rows


def columns_now(table: str, columns: list[str]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")  # noqa: S608
        return cursor.fetchall()


def populate(apps) -> None:
    """A small world made with the models as they were: every moved model, and what hangs off them."""
    now = timezone.now()
    User = apps.get_model("auth", "User")
    ada = User.objects.create(username="ada", first_name="Ada", email="ada@corp.example", password="!")
    # An account made by ada with an initial password she chose, which oscar has not replaced yet.
    oscar = User.objects.create(username="oscar", password=make_password(INITIAL_PASSWORD))
    Project = apps.get_model("backups", "CloudProject")
    project = Project.objects.create(
        name="eu-de_prod",
        region="eu-de",
        project_id="0549b4a43100d4f32f51c01c2fe4acdb",
        iam_endpoint="https://iam.example",
        geminidb_endpoint="https://gaussdb.example",
        iam_domain="corp",
        iam_user="console",
        iam_password="s3cret-password",
        instances_synced_at=now,
    )
    apps.get_model("backups", "Membership").objects.create(user=ada, project=project, role="admin")
    apps.get_model("backups", "Membership").objects.create(user=oscar, project=project, role="operator")
    apps.get_model("backups", "InitialPassword").objects.create(user=oscar, set_by=ada)
    apps.get_model("backups", "AuditEvent").objects.create(
        at=now, action="member_added", actor=ada, actor_name="ada", project=project, project_name="eu-de_prod",
        target_user=oscar, target="oscar", details={"role": "operator"}, ip="192.0.2.1",
    )  # fmt: skip
    instance = apps.get_model("backups", "Instance").objects.create(
        project=project, cloud_id="inst-1", name="orders-prod", status="normal", synced_at=now
    )
    backup = apps.get_model("backups", "Backup").objects.create(
        instance=instance, name="nightly-0001", requested_by=oscar, requested_at=now, status="completed",
        progress=100, job_id="job-1", backup_id="bk-1", size_kb=1024, started_at=now, finished_at=now,
    )  # fmt: skip
    apps.get_model("backups", "BackupEvent").objects.create(backup=backup, at=now, kind="requested", message="by oscar")
    # As an earlier deployment has them: the moved models' content types still say `backups`.
    ContentTypes = apps.get_model("contenttypes", "ContentType")
    ContentTypes.objects.filter(app_label="access").delete()
    for model in MOVED:
        ContentTypes.objects.get_or_create(app_label="backups", model=model)


def test_a_populated_database_from_before_the_access_app_migrates_without_changing_a_row():
    executor = migrate(BEFORE_ACCESS)
    populate(executor.loader.project_state([("backups", "0003_backup_name_trigram")]).apps)
    before = snapshot()
    content_types = dict(ContentType.objects.filter(app_label="backups", model__in=MOVED).values_list("model", "pk"))
    assert all(rows for _, rows in before.values()), "every table holds a row to compare"

    migrate(leaves(access_at=BEFORE_RETIRING))

    for table, (columns, rows) in before.items():
        assert columns_now(table, columns) == rows, f"{table} changed"
    # The same content type rows, now labelled with the app that owns the models.
    assert dict(ContentType.objects.filter(app_label="access").values_list("model", "pk")) == content_types
    assert not ContentType.objects.filter(app_label="backups", model__in=MOVED).exists()
    # Today's models read the old rows as they were written (but for columns added since
    # access/0004, such as the RPO of access/0006).
    project = CloudProject.objects.defer("rpo_hours").get()
    assert project.iam_password == "s3cret-password"
    assert project.sync_requested_at is None
    assert sorted(Membership.objects.values_list("user__username", "role")) == [("ada", "admin"), ("oscar", "operator")]
    assert AuditEvent.objects.get().details == {"role": "operator"}
    assert Backup.objects.get().instance == Instance.objects.get(project=project)

    migrate(leaves())

    # Oscar's password was chosen by an admin: unusable now. Ada's own is untouched.
    users = {user.username: user for user in get_user_model().objects.all()}
    assert not users["oscar"].has_usable_password()
    assert not check_password(INITIAL_PASSWORD, users["oscar"].password)
    assert users["ada"].password == "!"  # as populate() left it
    assert "backups_initialpassword" not in connection.introspection.table_names()
    retired = AuditEvent.objects.get(action=AuditEvent.Action.PASSWORD_CHANGED)
    assert (retired.target_user, retired.actor, retired.details) == (
        users["oscar"],
        None,
        {"initial_password_retired": True},
    )
    assert columns_now("backups_membership", before["backups_membership"][0]) == before["backups_membership"][1]
