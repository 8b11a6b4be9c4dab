# The history's name search, without UPPER() on every row it reads.
#
# `name__icontains` is UPPER("name") LIKE UPPER('%...%'): when the search walks the history
# newest first (a common term), PostgreSQL computes UPPER() of each name it passes, about half
# the cost of such a search at a million backups. `name_upper` is that value stored once, at
# write time, by the database itself (a generated column), and the search is a plain LIKE on it.
# The trigram index and the finer statistics of migrations 0003 and 0006 move to the column,
# and the statistics get finer still. A search either walks the history newest first until a
# page is full, or reads the trigram index and sorts what it finds; the planner picks one from
# how many names it expects to match, guessed from the sampled names. With 1,000 sampled values a
# date that 615 of a million names contain looked like 85 or like 3,000 depending on the
# sample, and the walk it then chose for a date a year back took 300-500 ms instead of 15 ms.
# With 10,000 (the most PostgreSQL allows) the guesses were within 30 % for every seeded term,
# for about 2 ms more planning of each search.
# The index is built without GIN's pending list (fastupdate = off): with it, each new backup's
# trigrams wait in an unsorted list until the next vacuum, and every search reads that whole list
# (measured: the index scan took 22 ms with 14,000 pending entries, 9 ms without). Each insert now
# updates the index at once instead, a cost paid once per backup rather than on every search.
#
# Adding a stored generated column rewrites the table once, under an exclusive lock (2 minutes
# with the index below at a million backups on a busy 2-core machine; docs/operations.md,
# Upgrading). The trigram index is then built CONCURRENTLY (hence atomic = False).

from django.db import migrations, models
from django.db.models.functions import Upper

NAME_SEARCH_STATISTICS = 10_000


def move_name_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS backup_name_upper_trgm ON backups_backup "
        "USING gin (name_upper gin_trgm_ops) WITH (fastupdate = off)"
    )
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS backup_name_trgm")
    schema_editor.execute(f"ALTER TABLE backups_backup ALTER COLUMN name_upper SET STATISTICS {NAME_SEARCH_STATISTICS}")
    schema_editor.execute("ANALYZE backups_backup")


def move_name_search_back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS backup_name_trgm ON backups_backup "
        "USING gin ((UPPER(name::text)) gin_trgm_ops)"
    )
    schema_editor.execute("ALTER INDEX backup_name_trgm ALTER COLUMN 1 SET STATISTICS 1000")  # as 0006 left it
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS backup_name_upper_trgm")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("backups", "0006_backup_overview_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="backup",
            name="name_upper",
            field=models.GeneratedField(
                db_persist=True, expression=Upper("name"), output_field=models.CharField(max_length=64)
            ),
        ),
        migrations.RunPython(move_name_search, move_name_search_back, elidable=False),
    ]
