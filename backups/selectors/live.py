"""What the live parts of pages poll for, scoped to the projects of the poll's pass
(`access.pollpass`): another project's backup is simply absent from the answer."""

from django.db import connection

from backups.live import DetailState, RowState
from backups.models import Backup, BackupEvent, Instance
from backups.selectors.history import HISTORY_ROW_FIELDS
from backups.selectors.overview import running_in


def history_row_states(project_ids, pks) -> list[RowState]:
    """What the rows show now, as plain values: a poll with nothing changed builds no model."""
    if not pks:
        return []
    # Plain SQL: this runs for every open history page every 2 s, and building the ORM query
    # cost as much as running it. Looked up by primary key alone and kept when in the
    # projects: a filter on the project let the planner start from a project it had no
    # statistics for yet (a new one) and scan the rows once per instance, 7 times slower.
    placeholders = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(_STATES_SQL.format(pks=placeholders), list(pks))
        rows = cursor.fetchall()
    allowed = set(project_ids)
    return [RowState.from_db(*values[:-1]) for values in rows if values[-1] in allowed]


# RowState's columns (its field names are the columns' names), then the project to scope by.
_STATE_COLUMNS = ", ".join(f"b.{'id' if field == 'pk' else field}" for field in RowState._fields)
_STATES_SQL = (
    f"SELECT {_STATE_COLUMNS}, i.project_id FROM {Backup._meta.db_table} b"  # noqa: S608 (our own names)
    f" JOIN {Instance._meta.db_table} i ON i.id = b.instance_id WHERE b.id IN ({{pks}})"
)


def history_rows_by_pk(project_ids, pks) -> list[Backup]:
    """The rows to draw again, with what a history row shows (looked up as above)."""
    rows = Backup.objects.filter(pk__in=pks).select_related("instance__project", "requested_by")
    allowed = set(project_ids)
    return [backup for backup in rows.only(*HISTORY_ROW_FIELDS) if backup.instance.project_id in allowed]


def running_states(project_ids) -> list[RowState]:
    """What the overview's "running now" panel shows, as plain values, in its order."""
    return [RowState(*values) for values in running_in(project_ids).values_list(*RowState._fields)]


_DETAIL_FIELDS = (
    *RowState._fields,
    *(field for field in DetailState._fields[1:] if field != "instance_gone_at"),
    "instance__gone_at",
    "instance__project_id",
)


def backup_detail_state(project_ids, pk) -> tuple[DetailState, list[tuple]] | None:
    """What the live part of a backup's page shows, as plain values (an unchanged poll builds
    no model): its state and its timeline. None when the backup is not in these projects."""
    row = next(iter(Backup.objects.filter(pk=pk).values_list(*_DETAIL_FIELDS)), None)
    if row is None or row[-1] not in set(project_ids):
        return None
    columns = len(RowState._fields)
    state = DetailState(RowState(*row[:columns]), *row[columns:-1])
    events = BackupEvent.objects.filter(backup_id=pk).order_by("at", "id")
    return state, list(events.values_list("pk", "kind", "at", "message"))
