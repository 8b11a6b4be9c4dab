"""Migrations 0003 and 0007: the name-search and last-success indexes exist on PostgreSQL only."""

from importlib import import_module

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQL

from backups.selectors import history as selectors

migration = import_module("backups.migrations.0003_backup_name_trigram")

pytestmark = pytest.mark.django_db


class RecordingEditor:
    def __init__(self, vendor):
        self.connection = type("Connection", (), {"vendor": vendor})()
        self.statements = []

    def execute(self, sql, params=()):
        self.statements.append(sql)


def test_the_migration_does_nothing_on_sqlite():
    editor = RecordingEditor("sqlite")
    migration.create_indexes(None, editor)
    migration.drop_indexes(None, editor)
    assert editor.statements == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            indexes = connection.introspection.get_constraints(cursor, "backups_backup")
        assert not {"backup_name_trgm", "backup_last_success"} & set(indexes)


def test_on_postgresql_it_indexes_what_the_queries_ask():
    editor = RecordingEditor("postgresql")
    migration.create_indexes(None, editor)
    sql = "\n".join(editor.statements)
    assert editor.statements[0] == "CREATE EXTENSION IF NOT EXISTS pg_trgm"
    # `name__icontains` is UPPER("name"::text) LIKE UPPER(...) on PostgreSQL: the index must match it.
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS backup_name_trgm ON backups_backup USING gin" in sql
    assert "(UPPER(name::text)) gin_trgm_ops" in sql
    assert "backup_last_success ON backups_backup (instance_id, requested_at DESC, id DESC)" in sql
    assert "WHERE status = 'completed'" in sql
    assert editor.statements[-1] == "ANALYZE backups_backup"
    assert migration.Migration.atomic is False  # CONCURRENTLY cannot run in a transaction

    editor = RecordingEditor("postgresql")
    migration.drop_indexes(None, editor)
    assert editor.statements == [
        "DROP INDEX CONCURRENTLY IF EXISTS backup_name_trgm",
        "DROP INDEX CONCURRENTLY IF EXISTS backup_last_success",
    ]


def test_the_name_search_is_the_indexed_expression_on_postgresql(operator):
    # Compiled for PostgreSQL without connecting: the SQL the trigram index was built for.
    postgresql = PostgreSQL({**connection.settings_dict, "ENGINE": "django.db.backends.postgresql"}, "sql-only")
    backups = selectors.history_for(operator, selectors.HistoryFilters(search="orders"))
    sql, params = backups.query.get_compiler(connection=postgresql).as_sql()
    # A plain LIKE on the stored capitals (migration 0007), the term put in capitals by the same
    # UPPER() and its wildcards escaped: the planner folds it into a constant pattern.
    where = sql.partition(" WHERE ")[2]
    assert '"backups_backup"."name_upper"::text LIKE \'%%\' || REPLACE(REPLACE(REPLACE((UPPER(%s))' in where
    assert 'UPPER("backups_backup"."name"' not in where
    assert "orders" in params


def test_the_migrated_postgresql_database_has_both_indexes():
    # On SQLite, test_the_migration_does_nothing_on_sqlite checks that neither index is there.
    if connection.vendor != "postgresql":
        pytest.skip("the indexes are PostgreSQL's; the SQLite run checks their absence above")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, replace(i.indexdef, i.schemaname || '.', ''), x.indisvalid AND x.indisready
            FROM pg_indexes i
            JOIN pg_namespace n ON n.nspname = i.schemaname
            JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = n.oid
            JOIN pg_index x ON x.indexrelid = c.oid
            WHERE i.tablename = 'backups_backup'
              AND i.indexname IN ('backup_name_trgm', 'backup_name_upper_trgm', 'backup_last_success')
            """
        )
        found = {name: (definition, usable) for name, definition, usable in cursor.fetchall()}
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        extensions = [name for (name,) in cursor.fetchall()]
    # As PostgreSQL writes them back (pg_get_indexdef), without the schema; and usable: a build
    # CONCURRENTLY that was interrupted leaves an invalid index behind, which no query uses.
    assert found == {
        # Migration 0007 replaced 0003's backup_name_trgm; no pending list (fastupdate).
        "backup_name_upper_trgm": (
            "CREATE INDEX backup_name_upper_trgm ON backups_backup USING gin (name_upper gin_trgm_ops)"
            " WITH (fastupdate=off)",
            True,
        ),
        "backup_last_success": (
            "CREATE INDEX backup_last_success ON backups_backup USING btree (instance_id, requested_at DESC, id DESC)"
            " WHERE ((status)::text = 'completed'::text)",
            True,
        ),
    }
    assert extensions == ["pg_trgm"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute"
            " WHERE attrelid = 'backups_backup'::regclass AND attname = 'name_upper'"
        )
        assert cursor.fetchone() == (10_000,)
