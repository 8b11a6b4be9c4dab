"""How every cloud call is made: IAM token auth, the shared call budget, timeouts, retries
with backoff for safe calls, and cloud errors classified (`errors.py`). `client.py` builds the
API's operations on top of it.

- Reads (and the token request, which is safe to repeat) are retried on retryable errors,
  with exponential backoff and full jitter, a bounded number of attempts and a bounded wait.
- A write is sent once: when its answer is lost the caller gets ``AmbiguousRequest``.
- Every call (token requests and retries included) first takes a unit from the shared call
  budget, so all processes together stay under the gateway's per-user limit instead of
  collecting 429s.
- Endpoints are addresses someone typed: calls go only to public https addresses (or allowed
  hosts), pinned to the address checked, never follow a redirect, and read a bounded answer
  (``webapp/outbound.py``, ``answers.py``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from requests.exceptions import ChunkedEncodingError, ContentDecodingError
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from webapp import metrics, outbound
from webapp.logcontext import log_context

from .answers import EndpointRefused, error_details, json_object, read_body, redirect_refused
from .errors import AmbiguousRequest, AuthenticationFailed, CloudError, CloudUnavailable, Throttled, error_class
from .stores import CachedToken, CallBudget, DjangoCacheCallBudget, DjangoCacheTokenStore, TokenStore, cache_key
from .types import CloudCredentials, parse_time

logger = logging.getLogger("backups.cloud")

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How retryable failures of safe calls are retried."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_total_wait: float = 30.0
    # FIELD-NOTES: after a 429 (APIG.0308) retry in 2-5 s, unless the answer says otherwise.
    throttle_wait: tuple[float, float] = (2.0, 5.0)

    def backoff(self, retry: int) -> float:
        """Full jitter: a random wait up to an exponentially growing cap."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**retry))  # noqa: S311

    def throttle_delay(self) -> float:
        """A wait after a 429 that does not say how long to wait."""
        return random.uniform(*self.throttle_wait)  # noqa: S311


def _nothing_sent(error: requests.RequestException) -> bool:
    """True when the request failed before any byte of it could reach the server."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


class CloudSession:
    """Authenticated calls to IAM and GeminiDB for one project as one IAM user.

    ``token_store`` and ``call_budget`` default to the Django-cache ones shared by all
    processes; ``timeout`` is seconds (or a ``(connect, read)`` pair) for every call and
    defaults to ``settings.CLOUD_TIMEOUT_SECONDS``. ``retry``, ``renew_before`` and ``sleep``
    tune the retries and token renewal (tests make them short).
    """

    def __init__(
        self,
        credentials: CloudCredentials,
        *,
        token_store: TokenStore | None = None,
        call_budget: CallBudget | None = None,
        timeout: float | tuple[float, float] | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        renew_before: timedelta = timedelta(minutes=10),
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.credentials = credentials
        self.token_store = token_store or DjangoCacheTokenStore()
        self.call_budget = call_budget or DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE)
        if timeout is None:
            timeout = settings.CLOUD_TIMEOUT_SECONDS
        self.timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.session = session or outbound.OutboundSession()
        self.retry = retry or RetryPolicy()
        self.renew_before = renew_before
        self.sleep = sleep
        # Scheme, host and port only: a path, query or fragment stored before the form refused
        # them is dropped, so nobody chooses what the console calls on a host.
        self._iam = outbound.origin(credentials.iam_endpoint)
        self._geminidb = outbound.origin(credentials.geminidb_endpoint)
        self._project = quote(credentials.project_id, safe="")
        # Tokens are per user and project; the gateway's rate limit is per user.
        who = (credentials.iam_endpoint, credentials.domain, credentials.user)
        self._token_key = cache_key("token", *who, credentials.project_id)
        self._budget_key = DjangoCacheCallBudget.key_for(*who)

    def __repr__(self) -> str:
        c = self.credentials
        return f"<{type(self).__name__} {c.domain}/{c.user} project {c.project_id} at {self._geminidb}>"

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        expected: tuple[int, ...] = (200,),
        write: bool = False,
    ) -> Any:
        """Make one authenticated GeminiDB call and return its JSON body.

        Reads are retried on retryable failures; a ``write`` is sent once, and a lost answer to
        it raises ``AmbiguousRequest``.
        """
        url = self._geminidb + path

        def attempt() -> dict[str, Any]:
            response = self._send_with_token(method, url, self._token(), params=params, body=body, expected=expected)
            return json_object(response, write=False)

        if not write:
            return self._retrying(f"{method} {path}", attempt)
        # Only the token may be fetched again: nothing has been sent while it is missing.
        token = self._retrying("POST /v3/auth/tokens", self._token)
        response = self._send_with_token(method, url, token, params=params, body=body, expected=expected, write=True)
        return json_object(response, write=True)

    def _retrying(self, label: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds, fails for good, or the retry policy is used up."""
        retries = 0
        waited = 0.0
        while True:
            try:
                return attempt()
            except CloudError as error:
                delay = self._retry_delay(error, retries, waited)
                if delay is None:
                    raise
                logger.warning("%s: %s; retrying in %.1f s", label, error, delay)
                self.sleep(delay)
                retries += 1
                waited += delay

    def _send_with_token(self, method: str, url: str, token: CachedToken, **kwargs: Any) -> requests.Response:
        try:
            return self._send(method, url, token=token, **kwargs)
        except AuthenticationFailed:
            # IAM page: a token can become invalid before its expiry ("The token must be
            # updated"); drop it, get a new one and try once more. A 401 means the request
            # was refused, so even a create is safe to send again.
            logger.info("token refused by %s; renewing it", urlsplit(url).path)
            self.token_store.discard(self._token_key, token)
            return self._send(method, url, token=self._token(), **kwargs)

    def _retry_delay(self, error: CloudError, retries: int, waited: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if not error.retryable or retries + 1 >= self.retry.attempts:
            return None
        if isinstance(error, Throttled) and error.status is None:
            # The call budget, not the cloud, said no, after waiting as long as it may.
            return None
        delay = error.retry_after if isinstance(error, Throttled) else self.retry.backoff(retries)
        if waited + delay > self.retry.max_total_wait:
            return None
        return delay

    def _token(self) -> CachedToken:
        """A token with more than ``renew_before`` of validity left, from the store or from IAM
        (asked by one process at a time: the others wait for its token, ``stores.py``)."""
        return self.token_store.get_or_issue(self._token_key, self._issue_token, valid_for=self.renew_before)

    @sensitive_variables("body", "c")
    def _issue_token(self) -> CachedToken:
        """Get a project-scoped token by password (iam_obtaining_a_user_token_through_password_authentication.rst).

        Asking again is harmless ("Obtaining a new token does not affect the validity of the
        existing token"), so callers retry it like a read.
        """
        c = self.credentials
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": c.user, "password": c.password, "domain": {"name": c.domain}}},
                },
                "scope": {"project": {"id": c.project_id}},
            }
        }
        # nocatalog: the service catalog is large and not needed.
        response = self._send(
            "POST", f"{self._iam}/v3/auth/tokens", params={"nocatalog": "true"}, body=body, expected=(201,)
        )
        value = response.headers.get("X-Subject-Token")
        token = json_object(response, write=False).get("token")
        try:
            expires_at = parse_time(token.get("expires_at") if isinstance(token, dict) else None)
        except ValueError:
            raise CloudError(
                "IAM answered with a token expiry that is not a time", status=response.status_code
            ) from None
        if not value or expires_at is None:
            raise CloudError("IAM answered without a token or its expiry", status=response.status_code)
        logger.info("new IAM token for %s/%s, valid until %s", c.domain, c.user, expires_at.isoformat())
        return CachedToken(value, expires_at)

    # The IAM password (body) and the token (headers), here and in every requests/urllib3
    # frame below this one: Django's error reports apply the nearest decorated caller's rule.
    @sensitive_variables()
    @metrics.cloud_call  # inside sensitive_variables: its frame holds the token
    def _send(
        self,
        method: str,
        url: str,
        *,
        expected: tuple[int, ...],
        token: CachedToken | None = None,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        write: bool = False,
    ) -> requests.Response:
        """One HTTP exchange within the call budget; anything but ``expected`` raises a CloudError.

        Without an answer: ``CloudUnavailable``, or ``AmbiguousRequest`` for a ``write`` that
        may have reached the server.
        """
        self.call_budget.take(self._budget_key)
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json;charset=utf8"
        if token is not None:
            headers["X-Auth-Token"] = token.value
        path = urlsplit(url).path
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
            read_body(response, path=path, write=write)
        except outbound.DestinationRefused as error:
            raise EndpointRefused(str(error), path=path) from None
        except (requests.ConnectionError, requests.Timeout, ChunkedEncodingError, ContentDecodingError) as error:
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.warning("%s %s: no answer after %.0f ms (%s)", method, path, elapsed_ms, type(error).__name__)
            message = f"{method} {path}: no answer ({type(error).__name__})"
            if not write or _nothing_sent(error):
                raise CloudUnavailable(message) from error
            raise AmbiguousRequest(message) from error
        elapsed_ms = (time.monotonic() - started) * 1000
        request_id = response.headers.get("X-Request-Id")
        # One line per call, with the cloud's request id: what its support asks for.
        facts = {"operation": f"{method} {path}", "status": response.status_code, "elapsed_ms": round(elapsed_ms)}
        level = logging.INFO if response.status_code in expected else logging.WARNING
        with log_context(cloud_request_id=request_id):
            logger.log(level, "%s %s -> %s in %.0f ms", method, path, response.status_code, elapsed_ms, extra=facts)
        if response.status_code not in expected:
            raise self._error(response)
        return response

    def _error(self, response: requests.Response) -> CloudError:
        """The CloudError for an error answer."""
        if 300 <= response.status_code < 400:
            return redirect_refused(response.status_code, urlsplit(response.url).path)
        try:
            body = response.json()
        except ValueError:
            body = None
        code, message, request_id = error_details(response, body)
        cls = error_class(response.status_code, code)
        if issubclass(cls, Throttled):
            return cls(
                message,
                retry_after=self._retry_after(response),
                status=response.status_code,
                error_code=code,
                request_id=request_id,
            )
        return cls(message, status=response.status_code, error_code=code, request_id=request_id)

    def _retry_after(self, response: requests.Response) -> float:
        header = response.headers.get("Retry-After", "")
        if header.isascii() and header.isdigit():  # "²" is a digit to isdigit, not to float
            return min(float(header), self.retry.max_total_wait)
        return self.retry.throttle_delay()
