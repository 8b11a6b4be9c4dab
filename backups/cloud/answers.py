"""What the client takes from an endpoint's answer, and what it refuses.

An endpoint is an address someone typed, so its answers are not trusted to be the cloud's:

- A redirect is never followed (``RedirectRefused``): it would carry the IAM password or the
  token to a host nobody checked.
- At most ``OUTBOUND_MAX_RESPONSE_BYTES`` of an answer are read (``AnswerTooLarge``).
- An error's message is the cloud's own only when the body has the cloud's shape
  (``{"error_code": "DBS.200001", "error_msg": ...}``, or IAM's Keystone shape whose code is the
  HTTP status), and only its first ``MESSAGE_LIMIT`` characters. Anything else (an HTML page,
  another service's JSON, the reason phrase) is replaced by our own words, so an internal
  service's text never reaches a page.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import requests

from webapp import outbound

from .errors import AmbiguousRequest, CloudError, CloudUnavailable

MESSAGE_LIMIT = 300
_ERROR_CODE = re.compile(r"[A-Za-z]{2,16}\.[0-9]{2,10}")
# The gateway's request ids are hex (32 digits, or a UUID with dashes); a word is not one.
_REQUEST_ID = re.compile(r"[0-9a-fA-F-]{8,64}")


class EndpointProblem(CloudError):
    """The endpoint cannot be used as it stands: calling it again changes nothing.

    ``path`` is the API path that was called, e.g. ``/v3/auth/tokens`` for IAM.
    """

    def __init__(self, error_msg: str = "", *, path: str = "", **kwargs: Any):
        super().__init__(error_msg, **kwargs)
        self.path = path


class RedirectRefused(EndpointProblem):
    """The endpoint answered 3xx; the console never follows a redirect."""


class EndpointRefused(EndpointProblem):
    """The endpoint's address is not one the console calls (not public, or plain http)."""


class AnswerTooLarge(EndpointProblem):
    """The answer was longer than the console reads."""


def redirect_refused(status: int, path: str) -> RedirectRefused:
    return RedirectRefused(
        "the endpoint answered with a redirect, which the console never follows", status=status, path=path
    )


def read_body(response: requests.Response, *, path: str, write: bool) -> None:
    """Read the streamed answer into ``response.content`` within the size limit.

    A redirect's body is not read. Too long an answer to a ``write`` is ``AmbiguousRequest``:
    the write may have been carried out.
    """
    if 300 <= response.status_code < 400:
        response.close()
        return
    try:
        outbound.read_limited(response)
    except outbound.AnswerTooLarge as error:
        message = f"the endpoint's answer was refused: {error}"
        if write:
            raise AmbiguousRequest(message, status=response.status_code) from None
        raise AnswerTooLarge(message, status=response.status_code, path=path) from None


def error_details(response: requests.Response, body: Any) -> tuple[str | None, str, str | None]:
    """``(error_code, error_msg, request_id)`` of an error answer, each only when it looks like the cloud's."""
    status = response.status_code
    code, message = None, ""
    if isinstance(body, dict) and isinstance(body.get("error_code"), str) and _ERROR_CODE.fullmatch(body["error_code"]):
        code, message = body["error_code"], body.get("error_msg") or ""
    elif (
        isinstance(body, dict) and isinstance(body.get("error"), dict) and str(body["error"].get("code")) == str(status)
    ):
        message = body["error"].get("message") or body["error"].get("title")
    message = " ".join(message.split())[:MESSAGE_LIMIT] if isinstance(message, str) else ""
    if not message:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = f"HTTP {status}"
        message = f"the endpoint answered {phrase}, without an error message from the cloud"
    request_id = response.headers.get("X-Request-Id")
    if not request_id and isinstance(body, dict):
        request_id = body.get("request_id")
    if not (isinstance(request_id, str) and _REQUEST_ID.fullmatch(request_id)):
        request_id = None
    return code, message, request_id


def json_object(response: requests.Response, *, write: bool) -> dict[str, Any]:
    """The answer's JSON object, or ``CloudUnavailable`` (``AmbiguousRequest`` after a write:
    it was carried out, only its answer is lost)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    cls = AmbiguousRequest if write else CloudUnavailable
    _, _, request_id = error_details(response, None)
    raise cls(f"unreadable {response.status_code} answer", status=response.status_code, request_id=request_id)
