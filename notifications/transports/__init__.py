"""The ways a message leaves the console, one module each, behind one interface:
`send(message)` returns when the other side has accepted it, or raises `DeliveryError`."""

import logging
from collections.abc import Callable

from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The message did not go out. `reason` is in our words and holds no secret; `permanent`
    says that trying again would not help (the server refused it for good)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def send_attempt(send: Callable[[], object], *, what: str) -> DeliveryError | None:
    """Call `send` once: None if the message went out, else why not, in the active language.
    Anything but a DeliveryError (a bug, a time limit) is logged and comes back as a transient
    one, so the caller counts it as an attempt and it is never silent."""
    try:
        send()
    except DeliveryError as error:
        return error
    except Exception as error:
        log.exception("Sending %s failed unexpectedly", what)
        return DeliveryError(_("Sending stopped unexpectedly (%(error)s).") % {"error": type(error).__name__})
    return None
