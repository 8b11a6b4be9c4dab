"""Migration 0006: the overview's and the instance page's indexes exist on both databases
(built CONCURRENTLY on PostgreSQL), as the model declares them."""

from importlib import import_module

import pytest
from django.db import connection

from backups.models import Backup

migration = import_module("backups.migrations.0006_backup_overview_indexes")

pytestmark = pytest.mark.django_db


def test_both_indexes_are_in_the_migrated_database_with_their_columns():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "backups_backup")
    assert constraints["backup_recent_outcomes"]["index"]
    assert constraints["backup_recent_outcomes"]["columns"] == ["requested_at", "status", "instance_id"]
    assert constraints["backup_good_by_finish"]["index"]
    assert constraints["backup_good_by_finish"]["columns"] == ["instance_id", "finished_at", "id"]


def test_the_migration_declares_the_models_indexes():
    declared = {index.name: index.deconstruct() for index in Backup._meta.indexes}
    for index in migration.INDEXES:
        assert index.deconstruct() == declared[index.name]
    assert migration.Migration.atomic is False  # CONCURRENTLY cannot run in a transaction


def test_on_postgresql_they_are_built_concurrently_and_valid():
    if connection.vendor != "postgresql":
        pytest.skip("CONCURRENTLY is PostgreSQL's; the SQLite run checks the plain indexes above")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, x.indisvalid AND x.indisready, pg_get_expr(x.indpred, x.indrelid)
            FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
            WHERE c.relname IN ('backup_recent_outcomes', 'backup_good_by_finish')
            ORDER BY c.relname
            """
        )
        rows = cursor.fetchall()
    assert [(name, valid) for name, valid, _ in rows] == [
        ("backup_good_by_finish", True),
        ("backup_recent_outcomes", True),
    ]
    partial = rows[0][2]
    for condition in ("'completed'", "deleted_in_cloud_at IS NULL", "finished_at IS NOT NULL"):
        assert condition in partial
    sql = str(migration.INDEXES[0].create_sql(Backup, connection.schema_editor(), concurrently=True))
    assert sql.startswith("CREATE INDEX CONCURRENTLY")
