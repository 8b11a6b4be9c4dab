"""Publishing to the Celery broker when it may be down, with truthful, quiet logs.

Every published task is recorded in the database first and a beat sweep publishes it again
(backups/publish.py, notifications/publish.py), so a broker outage delays work and loses
none: it is expected, not a crash. This process logs one warning when its publishes start
failing and one line when one succeeds again, without a traceback; kombu's error would carry
a chain of them (`IndexError: pop from empty list` from its channel pool, then the refused
connection) that reads like a crash. Only an unexpected error gets a traceback.
"""

import logging
import threading
from collections.abc import Callable

from celery import current_app
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

_lock = threading.Lock()  # web threads publish side by side: one of them logs each change
_unavailable: str | None = None  # the broker (as a URI without its password) this process found down


def published(send: Callable[[], object], *, what: str) -> bool:
    """Run `send`, one publish, and answer whether the broker took it. A broker that cannot
    be reached is logged once per outage, by `broker_unavailable`; `what` (e.g. "backup 12")
    appears only in debug lines and with an unexpected error, which is logged with its traceback."""
    try:
        send()
    except Exception as error:  # the row is the durable copy: whatever happens, the sweep retries
        if not _is_outage(error):
            log.exception("Publishing %s failed unexpectedly: it waits for the next sweep", what)
            return False
        broker_unavailable(error)
        log.debug("Broker unavailable: %s not handed over", what)
        return False
    broker_available()
    return True


def broker_unavailable(error: Exception) -> None:
    """Note that the broker refused a publish: a warning if it was thought up until now."""
    global _unavailable
    uri = _broker_uri()
    with _lock:
        if _unavailable == uri:
            return
        _unavailable = uri
    # The type only: a broker error's text may carry its URL, password included (webapp/health.py).
    log.warning(
        "Broker unavailable at %s (%s): requests stay queued in the database and go out once it is "
        "back. Logged once per outage.",
        uri,
        type(error).__name__,
    )


def broker_available() -> None:
    """Note that the broker took a publish: one line if it was down until now."""
    global _unavailable
    if _unavailable is None:  # the usual case, without taking the lock
        return
    with _lock:
        uri, _unavailable = _unavailable, None
    if uri is not None:
        log.info("Broker available again at %s: what stayed queued goes out with the next sweep.", uri)


def _broker_uri() -> str:
    # A different broker (a test's, another URL) is another outage. as_uri() masks a password
    # (and shows a mask for none: "redis://:**@host", which would suggest one).
    connection = current_app.connection_for_write()
    return connection.as_uri(include_password=not connection.password)


def _is_outage(error: Exception) -> bool:
    """A connection error of the broker's transport (kombu wraps most in OperationalError;
    a dropped connection can surface as the client library's own error, e.g. redis')."""
    connection = current_app.connection_for_write()
    return isinstance(error, (OperationalError, OSError, *connection.connection_errors))
