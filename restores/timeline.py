"""What a restore's timeline says, in the viewer's language and time zone.

The same design as backups/timeline.py (whose `Line` and `Wording` this reuses): a line is
stored as a code of `WORDINGS` and its raw values, and put in words when a page is drawn; its
English words are written once, into `RestoreEvent.message`, for the admin, logs and
notifications. A row with no code, or a code this version does not know, shows that message.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from backups import timeline
from backups.templatetags.console import duration
from preferences.formatting import local_text

if TYPE_CHECKING:
    from restores.models import RestoreEvent

Line = timeline.Line
Wording = timeline.Wording

REQUESTED_FROM_BACKUP = "requested_backup"
REQUESTED_TO_A_TIME = "requested_time"
SUBMITTED = "submitted"
ADOPTED = "adopted"
RETRY = "retry"
SUBMIT_FAILED = "submit_failed"
PROGRESS = "progress"
REAPPEARED = "reappeared"
AVAILABLE = "available"
FAILED = "failed"
FAILED_WITHOUT_REASON = "failed_no_reason"
LOST = "lost"
WORKER_LOST = "worker_lost"
CLEANUP_STARTED = "cleanup_started"
DELETE_SENT = "delete_sent"
NOTHING_TO_DELETE = "nothing_to_delete"
ALREADY_GONE = "already_gone"
DELETE_RETRY = "delete_retry"
DELETE_BUSY = "delete_busy"
DELETE_JOB_FAILED = "delete_job_failed"
DELETER_LOST = "deleter_lost"
DELETED = "deleted"
LATE_INSTANCE = "late_instance"


def _delay(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "delay": duration(timedelta(seconds=params["seconds"]))}


def _at(key: str):
    def placeholders(params: dict[str, Any]) -> dict[str, Any]:
        return {**params, key: local_text(datetime.fromisoformat(params[key]))}

    return placeholders


def _requested_to_a_time(params: dict[str, Any]) -> dict[str, Any]:
    return _at("time")(timeline.by_whom(params))


# The cloud's own words (a failure's reason, an error it answered) stay as the cloud wrote them.
WORDINGS: dict[str, Wording] = {
    # Translators: after "Requested" in a restore's timeline; who is a person's name or "the rehearsal schedule".
    REQUESTED_FROM_BACKUP: Wording(_("%(backup)s to %(target)s, by %(who)s"), timeline.by_whom),
    REQUESTED_TO_A_TIME: Wording(_("%(instance)s at %(time)s to %(target)s, by %(who)s"), _requested_to_a_time),
    SUBMITTED: Wording(_("Accepted by the cloud: instance %(instance_id)s, job %(job_id)s")),
    ADOPTED: Wording(_("Found in the cloud after an interrupted attempt: instance %(instance_id)s")),
    RETRY: Wording(_("Attempt %(attempt)d did not go through (%(error)s); trying again in %(delay)s"), _delay),
    SUBMIT_FAILED: Wording("%(error_code)s: %(reason)s"),
    PROGRESS: Wording(_("%(progress)s%% done")),
    REAPPEARED: Wording(_("The cloud reports it again")),
    AVAILABLE: Wording(_("%(target)s is available")),
    FAILED: Wording("%(reason)s"),
    FAILED_WITHOUT_REASON: Wording(_("The cloud reports the new instance as failed (createfail).")),
    LOST: Wording(_("Neither the instance list nor the jobs API has shown it since %(last_seen)s"), _at("last_seen")),
    WORKER_LOST: Wording(_("The worker sending the rehearsal stopped; its instance, if made, is deleted")),
    CLEANUP_STARTED: Wording(_("Deleting the temporary instance")),
    DELETE_SENT: Wording(_("Delete sent: job %(job_id)s")),
    NOTHING_TO_DELETE: Wording(_("No temporary instance was made: nothing to delete")),
    ALREADY_GONE: Wording(_("The temporary instance is already gone")),
    DELETE_RETRY: Wording(_("Not deleted yet: %(reason)s; trying again in %(delay)s"), _delay),
    DELETE_BUSY: Wording(
        _("Not deleted yet: the cloud cannot delete it yet (%(reason)s); trying again in %(delay)s"), _delay
    ),
    DELETE_JOB_FAILED: Wording(
        _("Not deleted yet: the cloud's delete job failed without a reason; trying again in %(delay)s"), _delay
    ),
    DELETER_LOST: Wording(_("The worker deleting the instance stopped; trying again")),
    DELETED: Wording(_("The temporary instance %(target)s is deleted")),
    LATE_INSTANCE: Wording(_("A late create made instance %(instance_id)s: deleting it")),
}


def line(code: str, **params: Any) -> Line:
    """A line to record on a restore's timeline: its code, raw values and English words."""
    return timeline.line(code, wordings=WORDINGS, **params)


def event_text(event: "RestoreEvent") -> str:
    """What a restore's event says in the active language and time zone."""
    return timeline.stored_text(event, WORDINGS)
