"""What can go wrong in a cloud call, sorted by what the caller should do about it.

``retryable`` says whether sending the same request again later may succeed. The codes and
their HTTP statuses come from error_codes.rst; APIG.0308 is the API gateway's throttling code
(FIELD-NOTES, "The cloud API").
"""

from __future__ import annotations

from typing import Any


class CloudError(Exception):
    """A failed cloud call. ``str()`` reads like ``DBS.201015: <msg> (HTTP 403, request <id>)``.

    It carries only what the cloud answered, never a token or a password.
    """

    retryable: bool = False

    def __init__(
        self,
        error_msg: str = "",
        *,
        status: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
    ):
        super().__init__(error_msg)
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id

    def __str__(self) -> str:
        text = f"{self.error_code}: {self.error_msg}" if self.error_code else self.error_msg
        context = []
        if self.status is not None:
            context.append(f"HTTP {self.status}")
        if self.request_id:
            context.append(f"request {self.request_id}")
        return f"{text} ({', '.join(context)})" if context else text


class CloudUnavailable(CloudError):
    """No answer and nothing done: the connection failed or timed out before a response."""

    retryable = True


class AmbiguousRequest(CloudError):
    """A write was sent and no usable answer came back: it may or may not have taken effect.

    Not retryable as it stands: the caller must first look for what the request would have
    made (``GeminiDBClient.find_backup_by_name``) and send it again only if it is not there.
    """

    retryable = False


class Throttled(CloudError):
    """429 from the API gateway (APIG.0308) or the client's own call budget is spent."""

    retryable = True

    def __init__(self, error_msg: str = "", *, retry_after: float = 0.0, **kwargs: Any):
        super().__init__(error_msg, **kwargs)
        self.retry_after = retry_after


class ServerBusy(CloudError):
    """5xx, e.g. 500 DBS.200998 "The system is busy. Try again later."."""

    retryable = True


class AuthenticationFailed(CloudError):
    """IAM refused the credentials, or a token was refused and a fresh one was too."""


class Forbidden(CloudError):
    """403 other than a busy instance: the IAM user lacks the permission."""


class InvalidRequest(CloudError):
    """400: a parameter the API rejects, e.g. DBS.200001 for a bad backup name."""


class InstanceNotFound(CloudError):
    """404 or one of the "instance does not exist" codes."""


class InstanceBusy(CloudError):
    """Another operation runs on the instance, or its state rules the operation out right now.

    Permanent for this attempt: a new attempt later is a new decision, not a retry.
    """


# Codes whose meaning is sharper than their HTTP status (error_codes.rst).
_CODE_CLASSES: dict[str, type[CloudError]] = {
    # Another operation in progress / instance state does not allow it.
    "DBS.201015": InstanceBusy,
    "DBS.200019": InstanceBusy,
    "DBS.200011": InstanceBusy,
    "DBS.200018": InstanceBusy,
    "DBS.200047": InstanceBusy,
    "DBS.200076": InstanceBusy,
    "DBS.201000": InstanceBusy,
    "DBS.201014": InstanceBusy,
    "DBS.201202": InstanceBusy,
    "DBS.201204": InstanceBusy,
    # The instance does not exist; several are answered with HTTP 400 or 403.
    "DBS.200002": InstanceNotFound,
    "DBS.201028": InstanceNotFound,
    "DBS.201501": InstanceNotFound,
    "DBS.201502": InstanceNotFound,
    "DBS.216016": InstanceNotFound,
    "DBS.280110": InstanceNotFound,
    # Permission problems, some answered with HTTP 400.
    "DBS.200010": Forbidden,
    "DBS.200604": Forbidden,
    "DBS.280015": Forbidden,
    "DBS.280032": Forbidden,
    "DBS.280063": Forbidden,
    # A token the service refused: the client renews it once, as for a 401.
    "DBS.280056": AuthenticationFailed,
    # Busy or overloaded: try again later.
    "DBS.200998": ServerBusy,
    "DBS.280005": ServerBusy,
    "DBS.280443": Throttled,
    "APIG.0308": Throttled,
    # 500 answers that will not go away by themselves: enterprise project quotas.
    "DBS.200165": CloudError,
    "DBS.200166": CloudError,
    "DBS.200167": CloudError,
}

_STATUS_CLASSES: dict[int, type[CloudError]] = {
    400: InvalidRequest,
    401: AuthenticationFailed,
    403: Forbidden,
    404: InstanceNotFound,
    429: Throttled,
}


def error_class(status: int | None, error_code: str | None) -> type[CloudError]:
    """The class for an error answer: by code when the code is known, else by HTTP status.

    An unknown 4xx is a permanent ``CloudError``; an unknown 5xx is ``ServerBusy`` (retryable).
    """
    if error_code in _CODE_CLASSES:
        return _CODE_CLASSES[error_code]
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status is not None and status >= 500:
        return ServerBusy
    return CloudError


def parse_error_body(body: Any) -> tuple[str | None, str]:
    """Return ``(error_code, error_msg)`` from an error body.

    GeminiDB and the API gateway answer ``{"error_code": ..., "error_msg": ...}``
    (returned_values.rst); IAM answers ``{"error": {"code": ..., "message": ..., "title": ...}}``.
    """
    if not isinstance(body, dict):
        return None, ""
    if "error_code" in body or "error_msg" in body:
        code = body.get("error_code")
        return (str(code) if code else None), str(body.get("error_msg") or "")
    error = body.get("error")
    if isinstance(error, dict):
        # Keystone puts the HTTP status in "code" (401); only a named code is an error code.
        code = str(error.get("code") or "")
        message = error.get("message") or error.get("title") or ""
        return (None if code.isdigit() or not code else code), str(message)
    return None, ""
