"""What a backup's timeline says, in the viewer's language and time zone.

A line is stored as what happened: a code of `WORDINGS` and its raw values (sizes in KB,
seconds, ISO times, ids, a person's name, the cloud's own words), and put in words when a
page is drawn. `line()` also puts it in English once, for `BackupEvent.message`, which the
admin, the logs, notifications and the API read; a row with no code (written before codes
existed) or with a code this version does not know shows that message.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from backups.templatetags.console import duration, size_kb
from preferences.formatting import local_text

if TYPE_CHECKING:
    from backups.models import BackupEvent

REQUESTED = "requested"
REQUESTED_THROUGH_API = "requested_api"
SUBMITTED = "submitted"
ADOPTED = "adopted"
RETRY = "retry"
SUBMIT_FAILED = "submit_failed"
PROGRESS = "progress"
REAPPEARED = "reappeared"
COMPLETED = "completed"
FAILED = "failed"
FAILED_WITHOUT_REASON = "failed_no_reason"
LOST = "lost"
OVERDUE = "overdue"
OVERDUE_WITHOUT_HISTORY = "overdue_no_history"
IMPORTED = "imported"
# Lines restores/ writes onto the timeline of the backup they restore.
RESTORE_REQUESTED = "restore_requested"
REHEARSAL_REQUESTED = "rehearsal_requested"
RESTORE_AVAILABLE = "restore_available"
REHEARSAL_AVAILABLE = "rehearsal_available"
RESTORE_FAILED = "restore_failed"
REHEARSAL_FAILED = "rehearsal_failed"
RESTORE_LOST = "restore_lost"
REHEARSAL_LOST = "rehearsal_lost"


class Line(NamedTuple):
    """A timeline line as stored: `BackupEvent.code`, `.params` and the English `.message`."""

    code: str
    params: dict[str, Any]
    message: str

    @classmethod
    def of(cls, line: "Line | str") -> "Line":
        """A line, or text with no code (kept as written, in every language)."""
        return line if isinstance(line, Line) else cls("", {}, line)


@dataclass(frozen=True)
class Wording:
    """How a code reads: its format, and its placeholders made from the stored values."""

    format: Promise | str
    placeholders: Callable[[dict[str, Any]], dict[str, Any]] = dict

    def words(self, params: dict[str, Any]) -> str:
        return str(self.format) % self.placeholders(params)


def _seconds(seconds: int) -> str:
    return duration(timedelta(seconds=seconds))


def _retry(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "delay": _seconds(params["seconds"])}


def _completed(params: dict[str, Any]) -> dict[str, Any]:
    size, seconds = params["size_kb"], params["seconds"]
    return {
        "size": gettext("size unknown") if size is None else size_kb(size),
        # Translators: how long a backup took, read after "in": "1.5 GB in an unknown time".
        "duration": gettext("an unknown time") if seconds is None else _seconds(seconds),
    }


def by_whom(params: dict[str, Any]) -> dict[str, Any]:
    """`who` is a person's name, or None for the rehearsal schedule."""
    return {**params, "who": params["who"] or gettext("the rehearsal schedule")}


def _took(params: dict[str, Any]) -> dict[str, Any]:
    seconds = params["seconds"]
    return {**params, "duration": gettext("an unknown time") if seconds is None else _seconds(seconds)}


def _lost(params: dict[str, Any]) -> dict[str, Any]:
    return {"last_seen": local_text(datetime.fromisoformat(params["last_seen"]))}


def _overdue(params: dict[str, Any]) -> dict[str, Any]:
    return {"usual": _seconds(params["usual_seconds"])}


# The cloud's own words (a failure's reason, its error code, the type of a backup it made)
# stay as the cloud wrote them: not ours to translate.
WORDINGS: dict[str, Wording] = {
    # Translators: after "Requested" in a backup's timeline; who is a person's name.
    REQUESTED: Wording(pgettext_lazy("requested", "by %(who)s")),
    REQUESTED_THROUGH_API: Wording(pgettext_lazy("requested", "by %(who)s through the API (token %(token)s)")),
    SUBMITTED: Wording(_("Cloud job %(job_id)s, backup %(backup_id)s")),
    ADOPTED: Wording(_("Found in the cloud after an interrupted attempt: backup %(backup_id)s")),
    RETRY: Wording(_("Attempt %(attempt)d did not go through (%(error)s); trying again in %(delay)s"), _retry),
    SUBMIT_FAILED: Wording("%(error_code)s: %(reason)s"),
    PROGRESS: Wording(_("%(progress)s%% done")),
    REAPPEARED: Wording(_("The cloud reports it again")),
    COMPLETED: Wording(_("%(size)s in %(duration)s"), _completed),
    FAILED: Wording("%(reason)s"),
    FAILED_WITHOUT_REASON: Wording(_("The cloud reported the backup as failed, without a reason.")),
    LOST: Wording(_("Neither the jobs API nor the backup list has shown it since %(last_seen)s"), _lost),
    OVERDUE: Wording(_("Running for much longer than usual (usually %(usual)s); still watching"), _overdue),
    OVERDUE_WITHOUT_HISTORY: Wording(_("Running for much longer than usual (no history); still watching")),
    IMPORTED: Wording(_("Found in the cloud (%(backup_type)s)")),
    RESTORE_REQUESTED: Wording(_("Restore to %(target)s requested by %(who)s"), by_whom),
    REHEARSAL_REQUESTED: Wording(_("Rehearsal requested by %(who)s"), by_whom),
    RESTORE_AVAILABLE: Wording(_("Restore to %(target)s: available after %(duration)s"), _took),
    REHEARSAL_AVAILABLE: Wording(_("Rehearsal: available after %(duration)s"), _took),
    # The reason is the cloud's words (or the restore's error as stored).
    RESTORE_FAILED: Wording(_("Restore to %(target)s failed: %(reason)s")),
    REHEARSAL_FAILED: Wording(_("Rehearsal failed: %(reason)s")),
    RESTORE_LOST: Wording(_("Restore to %(target)s: the cloud stopped reporting on it")),
    REHEARSAL_LOST: Wording(_("Rehearsal: the cloud stopped reporting on it")),
}


def line(code: str, /, *, wordings: Mapping[str, Wording] = WORDINGS, **params: Any) -> Line:
    """A line to record: its code, its raw values (JSON), and its words in English and UTC.

    Another timeline (a restore's) passes its own `wordings`.
    """
    with translation.override("en"), timezone.override(UTC):
        message = wordings[code].words(params)
    return Line(code, params, message)


class StoredLine(Protocol):
    code: str
    params: dict[str, Any]
    message: str


def stored_text(event: StoredLine, wordings: Mapping[str, Wording]) -> str:
    """What a stored line says in the active language and time zone, by `wordings`; its
    English message if it has no code, one `wordings` does not know, or values of another shape."""
    wording = wordings.get(event.code)
    if wording is None:
        return event.message
    try:
        return wording.words(event.params)
    except (KeyError, TypeError, ValueError):
        # Values of another shape (a row from another version): its English words still read.
        return event.message


def event_text(event: "BackupEvent") -> str:
    """What an event says in the active language and time zone."""
    if event.code not in WORDINGS and event.kind == event.Kind.PROGRESS and event.message:
        # Rows from before codes stored only "42%"; the page said more.
        return gettext("%(progress)s done") % {"progress": event.message}
    return stored_text(event, WORDINGS)
