"""The history as CSV, streamed: by PostgreSQL's COPY where it runs, by Python's csv module elsewhere.

Both write the same bytes. Each cell is made final in SQL (the formula guard, times in UTC as
`datetime.isoformat()` writes them, NULL and '' as an empty cell), so what is left to the writers
is quoting, and COPY's CSV quoting is csv.writer's: a cell holding a comma, a quote, CR or LF is
quoted, quotes doubled. Rows end in CRLF (RFC 4180), as csv.writer ends them.
"""

import csv
import io
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, cast

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, CharField, F, Func, QuerySet, Value, When
from django.db.models.functions import Concat, NullIf, Ord
from django.db.models.lookups import In

from backups.models import Backup

if TYPE_CHECKING:
    from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations

# A text starting with one of these is run as a formula by spreadsheets (OWASP "CSV injection");
# names imported from the cloud are not ours to trust.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# COPY hands over one row at a time; a WSGI write per row would cost more than the row.
CHUNK_BYTES = 64 * 1024
# The portable path reads (and writes) this many rows at a time.
ROWS_PER_CHUNK = 2000


class UtcIsoformat(Func):
    """A time as `datetime.isoformat()` writes it in UTC: `2026-05-01T12:00:00+00:00`, with
    `.ffffff` before the offset only when there are microseconds."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        template = (
            "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), "
            "'.000000+', '+')"
        )
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite keeps a time as Django wrote it: str() of the naive UTC datetime, which is
        # isoformat() with a space for the T (microseconds likewise only when there are some).
        template = "replace(%(expressions)s, ' ', 'T') || '+00:00'"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def _text(column: str) -> Case:
    """A text cell: empty for NULL and '' alike (COPY would write '' as `""`), and a leading
    apostrophe on a text a spreadsheet would run as a formula."""
    text = F(column)
    return Case(
        # The first character's code: a quicker test than comparing LEFT(text, 1) as text.
        When(In(Ord(text), [ord(start) for start in FORMULA_STARTS]), then=Concat(Value("'"), text)),
        default=NullIf(text, Value("")),
        output_field=CharField(),
    )


CSV_COLUMNS = (
    ("project", _text("instance__project__name")),
    ("instance", _text("instance__name")),
    ("instance_id", _text("instance__cloud_id")),
    ("name", _text("name")),
    ("status", _text("status")),
    ("progress_percent", F("progress")),
    ("origin", _text("origin")),
    ("requested_by", _text("requested_by__username")),
    ("requested_at_utc", UtcIsoformat("requested_at")),
    ("started_at_utc", UtcIsoformat("started_at")),
    ("finished_at_utc", UtcIsoformat("finished_at")),
    ("size_kb", F("size_kb")),
    ("job_id", _text("job_id")),
    ("backup_id", _text("backup_id")),
    ("error_code", _text("error_code")),
)


def history_csv(backups: QuerySet[Backup]) -> Iterator[bytes]:
    """`backups` (a history_for() queryset: its scope, filters and order) as CSV with a header,
    in chunks. Nothing is read before the first chunk is asked for; a consumer that stops early
    (a closed download) ends the query and leaves the connection usable."""
    if connections[backups.db].vendor == "postgresql":
        return copied_csv(backups)
    return written_csv(backups)


def copied_csv(backups: QuerySet[Backup]) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself (COPY ... TO STDOUT), a few times faster than Python can."""
    yield _header()
    connection = connections[backups.db]
    try:
        sql, params = _cells(backups).query.get_compiler(connection=connection).as_sql()
    except EmptyResultSet:  # the user sees no project: there is no query to run
        return
    # COPY takes no bind parameters: psycopg merges them into the statement, quoted.
    query = cast("PostgresOperations", connection.ops).compose_sql(sql, params)
    copy_sql = f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"
    chunk = bytearray()
    # Leaving the `with` early (GeneratorExit from a closed download) cancels the COPY and
    # drains what the server had sent, so the connection can serve the next request.
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in copy:
            # One row per read, ending in COPY's LF; end it in CRLF as csv.writer does.
            chunk += row[:-1]
            chunk += b"\r\n"
            if len(chunk) >= CHUNK_BYTES:
                yield bytes(chunk)
                chunk.clear()
    if chunk:
        yield bytes(chunk)


def written_csv(backups: QuerySet[Backup]) -> Iterator[bytes]:
    """Python's csv module writes the CSV, from raw rows read ROWS_PER_CHUNK at a time (by a
    server-side cursor on PostgreSQL). The path on SQLite; on PostgreSQL the tests' witness."""
    yield _header()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = _cells(backups).iterator(chunk_size=ROWS_PER_CHUNK)
    while True:
        writer.writerows(islice(rows, ROWS_PER_CHUNK))
        if not buffer.tell():
            return
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()


def _cells(backups: QuerySet[Backup]) -> QuerySet:
    return backups.values_list(*(cell for _, cell in CSV_COLUMNS))


def _header() -> bytes:
    line = io.StringIO()
    csv.writer(line).writerow([name for name, _ in CSV_COLUMNS])
    return line.getvalue().encode()
