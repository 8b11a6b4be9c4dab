"""Live refresh: what the live parts of a page show, as a short fingerprint the page sends back.

A page that shows something still running polls once per interval and names what it shows
(`history.html`: each active row's `<pk>.<fingerprint>` in a hidden input; the overview and
the backup detail: `?seen=<fingerprint>`). The server answers 204, which htmx does not swap,
when nothing it would show has changed; otherwise only what changed, and 286 (htmx stops
polling) once nothing shown is active any more. A fingerprint covers the data a part shows,
not the clock: "3 min ago" and "2 min 10 s so far" do not make a part count as changed.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from hashlib import blake2b
from typing import NamedTuple

from django.utils import timezone

from backups.models import Backup, BackupEvent
from backups.selectors.history import PAGE_SIZE
from webapp import params

LIVE_ROW_PARAM = "live"
SEEN_PARAM = "seen"
# A poll naming more rows than a history page holds was not made by the page.
MAX_LIVE_ROWS = PAGE_SIZE
_FINGERPRINT_LENGTH = 12


def fingerprint(*values) -> str:
    """A short, stable digest of `values`: the same data, the same fingerprint, in every
    process (Python's own `hash` of a string changes from one process to the next). Values
    are read as `str`, so a status is the same whether a choice or the plain text."""
    text = "\x1f".join(str(value) for value in values)
    return blake2b(text.encode(), digest_size=_FINGERPRINT_LENGTH // 2).hexdigest()


class RowState(NamedTuple):
    """What changes on a history row while its backup runs; the rest of a row (names,
    requester) does not. Loaded as plain values, so an unchanged poll builds no model."""

    pk: int
    status: str
    progress: int | None
    overdue: bool
    started_at: datetime | None
    finished_at: datetime | None
    size_kb: int | None

    @classmethod
    def of(cls, backup: Backup) -> "RowState":
        return cls(*(getattr(backup, field) for field in cls._fields))

    @classmethod
    def from_db(cls, pk, status, progress, overdue, started_at, finished_at, size_kb) -> "RowState":
        """From a plain SQL row, as the ORM would have read it: SQLite gives 0/1 for a boolean
        and times without their zone (stored in UTC)."""
        return cls(pk, status, progress, bool(overdue), _in_utc(started_at), _in_utc(finished_at), size_kb)

    @property
    def is_active(self) -> bool:
        return self.status in Backup.ACTIVE_STATUSES

    @property
    def fingerprint(self) -> str:
        return fingerprint(*self)


def _in_utc(moment: datetime | None) -> datetime | None:
    if moment is not None and timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    return moment


def running_fingerprint(running: Iterable[RowState]) -> str:
    """What the overview's "running now" panel shows: which backups, and how far each is."""
    return fingerprint(*(state.fingerprint for state in running))


class DetailState(NamedTuple):
    """What the live part of a backup's page shows besides its timeline, as plain values."""

    row: RowState
    job_id: str
    backup_id: str
    error_code: str
    error_message: str
    deleted_in_cloud_at: datetime | None
    instance_gone_at: datetime | None

    @classmethod
    def of(cls, backup: Backup) -> "DetailState":
        return cls(
            RowState.of(backup),
            backup.job_id,
            backup.backup_id,
            backup.error_code,
            backup.error_message,
            backup.deleted_in_cloud_at,
            backup.instance.gone_at,
        )


def detail_fingerprint(state: DetailState, events: Iterable[tuple]) -> str:
    """What the live part of a backup's page shows: its facts and its timeline, each event as
    (pk, kind, at, message)."""
    return fingerprint(
        state.row.fingerprint,
        *state[1:],
        *(f"{pk}:{kind}:{at}:{message}" for pk, kind, at, message in events),
    )


def event_values(events: Iterable[BackupEvent]) -> list[tuple]:
    return [(event.pk, event.kind, event.at, event.message) for event in events]


class BadLiveRows(ValueError):
    """A poll whose rows the page did not write: answered 400, never looked up."""


def shown_rows(values: list[str]) -> dict[int, str]:
    """The rows a history page shows, `{pk: fingerprint}`, from its `live` values ("<pk>.<fp>")."""
    if len(values) > MAX_LIVE_ROWS:
        raise BadLiveRows(f"At most {MAX_LIVE_ROWS} live rows per request.")
    shown: dict[int, str] = {}
    for value in values:
        raw_pk, dot, seen = value.partition(".")
        pk = params.integer(raw_pk)
        if not dot or pk is None or pk <= 0 or len(seen) > _FINGERPRINT_LENGTH:
            raise BadLiveRows("Each live row is a backup id and its fingerprint: <id>.<fingerprint>.")
        shown[pk] = seen
    return shown
