"""Cursors of the API's lists: opaque to clients, checked on the way in."""

from django.core.exceptions import ValidationError

from backups.selectors.history import Cursor
from webapp import params


def _invalid() -> ValidationError:
    return ValidationError({"cursor": [ValidationError("Pass back a next_cursor exactly as it came.", code="cursor")]})


def pk_cursor(token: str | None) -> int | None:
    if token is None:
        return None
    pk = params.integer(token)
    if pk is None:
        raise _invalid()
    return pk


def pk_cursor_of(row) -> str:
    return str(row.pk)


def history_cursor(token: str | None) -> Cursor | None:
    if token is None:
        return None
    cursor = Cursor.decode(token)
    if cursor is None:
        raise _invalid()
    return cursor
