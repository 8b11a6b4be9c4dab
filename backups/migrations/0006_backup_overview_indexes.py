# Written by hand: two indexes for the overview and the instance page at a million backups
# (the model's Meta.indexes say what they are for), and, on PostgreSQL, finer statistics for
# the name search.
#
# The name search (`name__icontains`) either walks the history newest first until a page is
# full, or reads the trigram index `backup_name_trgm` (migration 0003) and sorts what it finds.
# Which is faster depends on how many names match, which the planner guesses from the sampled
# names' histogram: with the default 100 entries a term found in 1 name of 300 looks rare, and
# the trigram path then reads thousands of rows (44 ms instead of 23 ms, measured at a million
# backups). 1,000 entries tell such terms apart; ANALYZE samples more rows for it.
#
# On PostgreSQL they are built CONCURRENTLY, so a live table keeps taking writes while they
# build; that cannot run inside a transaction, hence atomic = False. Elsewhere (SQLite, the
# embedded default) they are built the ordinary way. The migration state records them as
# plain AddIndex operations either way.

from django.db import migrations, models

INDEXES = [
    models.Index(fields=["requested_at", "status", "instance"], name="backup_recent_outcomes"),
    models.Index(
        fields=["instance", "-finished_at", "-id"],
        condition=models.Q(status="completed", deleted_in_cloud_at__isnull=True, finished_at__isnull=False),
        name="backup_good_by_finish",
    ),
]


NAME_SEARCH_STATISTICS = 1000


def create_indexes(apps, schema_editor):
    backup = apps.get_model("backups", "Backup")
    postgresql = schema_editor.connection.vendor == "postgresql"
    for index in INDEXES:
        if postgresql:
            schema_editor.execute(index.create_sql(backup, schema_editor, concurrently=True))
        else:
            schema_editor.add_index(backup, index)
    if postgresql:
        schema_editor.execute(f"ALTER INDEX backup_name_trgm ALTER COLUMN 1 SET STATISTICS {NAME_SEARCH_STATISTICS}")
        schema_editor.execute("ANALYZE backups_backup")


def drop_indexes(apps, schema_editor):
    backup = apps.get_model("backups", "Backup")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("ALTER INDEX backup_name_trgm ALTER COLUMN 1 SET STATISTICS -1")
    for index in INDEXES:
        if postgresql:
            schema_editor.execute(index.remove_sql(backup, schema_editor, concurrently=True))
        else:
            schema_editor.remove_index(backup, index)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("backups", "0005_instance_protection_policy"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create_indexes, drop_indexes, elidable=False)],
            state_operations=[migrations.AddIndex(model_name="backup", index=index) for index in INDEXES],
        ),
    ]
