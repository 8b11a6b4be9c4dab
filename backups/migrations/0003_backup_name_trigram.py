# Written by hand: two PostgreSQL-only indexes the pages need at a million backups.
#
# - backup_name_trgm: the history's name search is `name__icontains`, which Django writes as
#   UPPER("name"::text) LIKE UPPER('%...%'); a trigram GIN index on that same expression
#   answers it without reading the table. (An index on plain `name` would serve ILIKE, not this.)
#   Its statistics also let the planner see that a common term is better found by walking the
#   `backup_history` index newest first.
# - backup_last_success: the newest completed backup of an instance in one index probe, for the
#   overview's "no successful backup in 7 days"; without it an instance that never succeeded
#   costs a walk through its whole history.
#
# Neither changes the model state, so `makemigrations` has nothing to add; on SQLite (local
# runs and tests) the migration does nothing. Built CONCURRENTLY, so a live table keeps
# taking writes meanwhile; that cannot run inside a transaction, hence atomic = False.

from django.db import migrations

INDEXES = {
    "backup_name_trgm": "backups_backup USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "backup_last_success": (
        "backups_backup (instance_id, requested_at DESC, id DESC) WHERE status = 'completed'"
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
    # Statistics of the new expression now, not at autovacuum's leisure: without them the
    # planner guesses and sends common search terms through the trigram index too.
    schema_editor.execute("ANALYZE backups_backup")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The pg_trgm extension stays: other database objects may have come to use it.
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("backups", "0002_initialpassword_auditevent"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
