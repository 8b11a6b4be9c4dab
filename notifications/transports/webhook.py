"""Webhooks: a JSON POST to a URL a project admin typed, through ``OutboundSession`` (the
checked address, pinned; no redirect; a capped answer, which is never recorded or shown).

Each POST carries ``X-Console-Delivery`` (the delivery's id, the same on every attempt) so
receivers drop a second copy, and a generic webhook also ``X-Console-Signature``:
``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`` with the channel's secret
(Stripe's scheme; README, "Notifications", shows how to check it).
"""

import hashlib
import hmac
import json
import time

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from notifications.transports import DeliveryError
from webapp.outbound import AnswerTooLarge, DestinationRefused, OutboundSession, read_limited

USER_AGENT = "GeminiDB-Backup-Console-Webhook/1"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The value of X-Console-Signature for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_json(url: str, payload: dict, *, delivery_id: str, secret: str = "", event: str = "") -> None:
    """POST `payload` as JSON; returns when the receiver answered 2xx. Raises DeliveryError."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Console-Delivery": delivery_id,
    }
    if event:
        headers["X-Console-Event"] = event
    if secret:
        headers["X-Console-Signature"] = signature(secret, body, int(time.time()))
    try:
        with OutboundSession() as session:
            response = session.post(
                url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS, stream=True
            )
            try:
                read_limited(response, 64 * 1024)
            finally:
                response.close()
    except DestinationRefused as refused:
        raise DeliveryError(
            _("The console may not call this address: %(reason)s.") % {"reason": refused}, permanent=True
        ) from None
    except AnswerTooLarge:
        raise DeliveryError(_("The receiver answered with more than the console reads.")) from None
    except requests.Timeout:
        raise DeliveryError(_("The receiver did not answer in time.")) from None
    except requests.RequestException as error:
        raise DeliveryError(
            _("The receiver could not be reached (%(error)s).") % {"error": type(error).__name__}
        ) from None
    _check_status(response.status_code)


def _check_status(status: int) -> None:
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise DeliveryError(
            _("The receiver answered %(status)s (a redirect, which the console does not follow).") % {"status": status},
            permanent=True,
        )
    # 408 and 429 ask us to come back; other 4xx say the request itself is wrong (a removed hook).
    permanent = 400 <= status < 500 and status not in (408, 429)
    raise DeliveryError(_("The receiver answered %(status)s.") % {"status": status}, permanent=permanent)
