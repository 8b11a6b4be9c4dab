"""The rows a history page polls for: loaded by primary key, scoped to the user's projects.
Another project's id is simply absent from the answer."""

from access.permissions import Action, projects_for
from backups.live import RowState
from backups.models import Backup
from backups.selectors.history import HISTORY_ROW_FIELDS
from backups.selectors.overview import running


def _visible(user, pks):
    # The user's projects as a subquery: one query in all.
    return Backup.objects.filter(pk__in=pks, instance__project__in=projects_for(user, Action.VIEW))


def history_row_states(user, pks) -> list[RowState]:
    """What the rows show now, as plain values: a poll with nothing changed builds no model."""
    # Unordered: the caller looks rows up by id.
    return [RowState(*values) for values in _visible(user, pks).order_by().values_list(*RowState._fields)]


def history_rows_by_pk(user, pks) -> list[Backup]:
    """The rows to draw again, with what a history row shows."""
    return list(_visible(user, pks).select_related("instance__project", "requested_by").only(*HISTORY_ROW_FIELDS))


def running_states(user) -> list[RowState]:
    """What the overview's "running now" panel shows, as plain values, in its order."""
    return [RowState(*values) for values in running(user).values_list(*RowState._fields)]
