"""Plain words for the cloud's error codes: what happened, and what to do next.

The raw code and message are always kept on the backup; this only adds a sentence a
person can act on. Codes and meanings from error_codes.rst. A sentence points only at what
the backup's page shows: the code and the cloud's message are under *Details*, and only when
the cloud gave a message does an explanation send people to read it.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Explanation:
    # Lazy in the tables below (built at import); `explain` hands out plain strings in the
    # active language, so JSON and the API's schemas never see a lazy object.
    summary: str | Promise
    next_step: str | Promise


_ANOTHER_OPERATION = Explanation(
    _("Another operation is running on the instance, or the instance is faulty."),
    _("Wait until the instance shows Available with no running task, then request the backup again."),
)
_INSTANCE_STATE = Explanation(
    _("The instance's current state does not allow a backup."),
    _("Only instances in the Available state can be backed up. Check the instance in the cloud console."),
)

EXPLANATIONS: dict[str, Explanation] = {
    "DBS.201015": _ANOTHER_OPERATION,
    "DBS.200019": _ANOTHER_OPERATION,
    "DBS.200011": _INSTANCE_STATE,
    "DBS.200018": _INSTANCE_STATE,
    "DBS.200047": _INSTANCE_STATE,
    "DBS.200076": _INSTANCE_STATE,
    "DBS.201000": _INSTANCE_STATE,
    "DBS.201014": _INSTANCE_STATE,
    "DBS.201202": _INSTANCE_STATE,
    "DBS.200998": Explanation(
        _("The cloud was too busy to take the request, several times in a row."),
        _("Request the backup again in a few minutes."),
    ),
    "DBS.200001": Explanation(
        _("The cloud rejected the request as invalid."),
        _("Check the backup's name and description against the rules shown on the form."),
    ),
    "DBS.200002": Explanation(
        _("The instance no longer exists in the cloud."),
        _("Refresh the instance list; the instance may have been deleted."),
    ),
    "DBS.201028": Explanation(
        _("The instance does not exist in this project."),
        _("Refresh the instance list; the instance may have been deleted or moved."),
    ),
    "DBS.200604": Explanation(
        _("The instance does not belong to the connected project."),
        _("Check the project's ID in the project settings."),
    ),
    "DBS.200010": Explanation(
        _("The cloud did not accept the project's credentials for this instance."),
        _("An admin should check the project's IAM user and its GeminiDB permissions."),
    ),
    "DBS.201201": Explanation(
        _("A backup with this name already exists on the instance."),
        _("Choose another name."),
    ),
    "APIG.0308": Explanation(
        _("The cloud's API gateway throttled the console's calls."),
        _("Nothing to do: the console slows down by itself. If it persists, lower CLOUD_CALLS_PER_MINUTE."),
    ),
    "AUTH": Explanation(
        _("The cloud refused the project's IAM credentials."),
        _("A project admin should check the IAM user and password in the project settings."),
    ),
    "UNREACHABLE": Explanation(
        _("The cloud could not be reached, several times in a row."),
        _("Check the network and the project's endpoints, then request the backup again."),
    ),
    "JOB_FAILED": Explanation(
        _("The cloud started the backup but its job failed."),
        _("Read the cloud's reason under Details; if the instance is healthy, request the backup again."),
    ),
    "LOST": Explanation(
        _("The cloud stopped reporting on this backup."),
        _("Look for the backup in the cloud console; the watchdog keeps checking and will update it if it reappears."),
    ),
}

UNKNOWN_ERROR = Explanation(
    _("The cloud refused the backup."),
    _("Read the cloud's code and message under Details; contact support with the code if it is unclear."),
)

# When the cloud said nothing but "failed" (a failed automated backup found by the sync, a job
# with no fail_reason): no reason to point at.
_WITHOUT_REASON = {
    "JOB_FAILED": Explanation(
        _("The cloud reports the backup as failed, without giving a reason."),
        _(
            "Check the instance in the cloud console (its state, and whether another operation ran at the "
            "time); if it is healthy, create a backup now."
        ),
    ),
}
_UNKNOWN_WITHOUT_REASON = Explanation(
    _("The cloud refused the backup, without giving a reason."),
    _(
        "Note the code under Details; if the instance is healthy, request the backup again, and contact support "
        "with the code if it fails again."
    ),
)


def explain(error_code: str, message: str | None = None) -> Explanation | None:
    """The plain-language explanation for a stored error code, or None if there is no error.

    `message` is the cloud's own message as stored; pass "" when there is none, so that the
    explanation does not send people to read a reason the page cannot show."""
    if not error_code:
        return None
    if message == "" and error_code in _WITHOUT_REASON:
        explanation = _WITHOUT_REASON[error_code]
    elif message == "" and error_code not in EXPLANATIONS:
        explanation = _UNKNOWN_WITHOUT_REASON
    else:
        explanation = EXPLANATIONS.get(error_code, UNKNOWN_ERROR)
    return Explanation(str(explanation.summary), str(explanation.next_step))
