"""A small client for the console's REST API (/api/v1/): one method per call the CLI makes.

Every call retries what a retry can fix: a connection error, a timeout, a 5xx and a 429 (after
the server's Retry-After). POST /backups is retried too: it carries an Idempotency-Key, and the
console answers a repeated key with the backup the first request made, never a second one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests

from gdbc import __version__

API_PREFIX = "/api/v1"
# Seconds to wait before each retry: five tries in all, about 15 s.
RETRY_DELAYS = (1, 2, 4, 8)
# A Retry-After beyond this is not waited for in full: the CLI is run by people and pipelines.
MAX_RETRY_AFTER = 60
# (connect, read) timeouts of one request.
HTTP_TIMEOUT = (10, 30)
PAGE_LIMIT = 100


@dataclass
class ApiError(Exception):
    """The console refused the request (a 4xx other than 429), with its stable error code."""

    status: int
    code: str
    message: str
    fields: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class Unreachable(Exception):
    """The console could not be reached, or answered 5xx or 429 on every try."""


class Misdirected(Exception):
    """The URL answers with a redirect: it is not the console's own (http for https, a proxy's)."""


class Client:
    """The console at `base_url`, as the owner of the personal access `token` sees it."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": f"gdbc/{__version__}"}
        )
        self.sleep = sleep
        self.on_retry = on_retry or (lambda message: None)

    def url_for(self, path: str) -> str:
        """The absolute URL of a path the API answers with (a backup's `url`, a Location)."""
        return urljoin(self.base_url + "/", path)

    def projects(self) -> list[dict[str, Any]]:
        """The projects the token may see."""
        return self._request("GET", "/projects")["items"]

    def instances(self, *, project: int | None = None, q: str | None = None) -> Iterator[dict[str, Any]]:
        """Instances (of `project`, matching `q`), following the cursor to the last page."""
        params = {"project": project, "q": q, "limit": PAGE_LIMIT}
        while True:
            page = self._request("GET", "/instances", params=params)
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def backups(self, *, cursor: str | None = None, **filters: Any) -> dict[str, Any]:
        """One page of backups, newest first: `{"items": [...], "next_cursor": str | None}`."""
        return self._request("GET", "/backups", params={**filters, "cursor": cursor})

    def backup(self, backup_id: int) -> dict[str, Any]:
        """One backup with its timeline (`events`)."""
        return self._request("GET", f"/backups/{backup_id}")

    def backup_create(
        self, *, instance: int, name: str, description: str | None, idempotency_key: str
    ) -> dict[str, Any]:
        """Request a backup of `instance`. Retries reuse `idempotency_key`, so one call makes at
        most one backup however often the request has to be sent."""
        body: dict[str, Any] = {"instance": instance, "name": name}
        if description is not None:
            body["description"] = description
        return self._request("POST", "/backups", json=body, headers={"Idempotency-Key": idempotency_key})

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        url = f"{self.base_url}{API_PREFIX}{path}"
        params = {key: value for key, value in (params or {}).items() if value is not None}
        for attempt in range(len(RETRY_DELAYS) + 1):
            last_try = attempt == len(RETRY_DELAYS)
            try:
                # Not followed: a redirected POST comes back as a GET, and the token should go to
                # no other address than the one configured.
                response = self.session.request(
                    method, url, params=params, json=json, headers=headers, timeout=HTTP_TIMEOUT, allow_redirects=False
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                problem = f"could not reach the console at {self.base_url} ({_reason(error)})"
                delay = RETRY_DELAYS[attempt] if not last_try else 0
            else:
                if response.status_code < 300:
                    return _json(response)
                if response.status_code < 400:
                    where = response.headers.get("Location", "elsewhere")
                    raise Misdirected(f"{url} redirects to {where}: set the console's own base URL")
                if response.status_code == 429:
                    problem = "the console is throttling requests (429)"
                    delay = _retry_after(response, attempt)
                elif response.status_code >= 500:
                    problem = f"the console answered {response.status_code} {response.reason}"
                    delay = RETRY_DELAYS[attempt] if not last_try else 0
                else:
                    raise _api_error(response)
            if last_try:
                raise Unreachable(f"{problem}; gave up after {attempt + 1} tries")
            self.on_retry(f"{problem}; trying again in {delay:g} s")
            self.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    # requests wraps urllib3's error, whose `reason` says it plainly after the connection's repr.
    inner = error.args[0] if error.args else error
    text = str(getattr(inner, "reason", inner))
    return text.split(": ", 1)[-1] if text.startswith(("<", "HTTP")) else text


def _retry_after(response: requests.Response, attempt: int) -> float:
    """The server's Retry-After in seconds (capped), else the ordinary backoff."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
    return min(max(seconds, 0), MAX_RETRY_AFTER)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise Unreachable(
            f"{response.url} answered {response.status_code} with something that is not JSON: is this the console?"
        ) from None


def _api_error(response: requests.Response) -> ApiError:
    """The API's error document as an ApiError; a plain HTTP status when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "message" not in body:
        hint = " (is the URL the console's, and does it have the API?)" if response.status_code == 404 else ""
        return ApiError(
            response.status_code, f"http_{response.status_code}", f"{response.status_code} {response.reason}{hint}"
        )
    return ApiError(response.status_code, str(body.get("code") or ""), str(body["message"]), body.get("fields") or {})
