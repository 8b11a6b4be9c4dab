"""The IAM token cache and the cloud call budget, shared by every web and worker process.

Both live in Django's default cache (files locally, Redis in production), so one token serves
all processes for its lifetime, one process at a time asks IAM for it (a short lock in the same
cache), and all processes draw on one budget per IAM user.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.filebased import FileBasedCache

from webapp import metrics

from .errors import Throttled

logger = logging.getLogger("backups.cloud")

# How long the token lock's holder waits on the file cache before it trusts the lock: long
# enough for a process that found no lock file a moment ago to have written its own.
FILE_CACHE_SETTLE_SECONDS = 0.05


def cache_key(prefix: str, *parts: str) -> str:
    """A cache key for ``parts`` that does not reveal them: a SHA-256 of the joined parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"geminidb:{prefix}:{digest}"


@dataclass(frozen=True)
class CachedToken:
    """An IAM token and when it stops working."""

    value: str = field(repr=False)
    expires_at: datetime

    def lasts(self, at_least: timedelta) -> bool:
        """True while the token has more than ``at_least`` of its validity left."""
        return self.expires_at - datetime.now(UTC) > at_least


class TokenStore(Protocol):
    def get(self, key: str) -> CachedToken | None: ...

    def set(self, key: str, token: CachedToken) -> None: ...

    def discard(self, key: str, token: CachedToken) -> None: ...

    def get_or_issue(self, key: str, issue: Callable[[], CachedToken], *, valid_for: timedelta) -> CachedToken: ...


class DjangoCacheTokenStore:
    """Keeps IAM tokens in Django's cache until they expire, and lets one process at a time
    fetch a missing one.

    ``get_or_issue`` takes a short lock in the cache before it asks IAM; the other processes
    that need the same token meanwhile poll the cache every ``poll_seconds`` and use the token
    the holder stores. A holder that dies leaves its lock behind for ``lock_seconds`` at most,
    and then the next process takes it. Nobody waits longer than ``wait_seconds`` (three lock
    lifetimes by default: a lapse and the next fetch): after that a process asks IAM itself,
    which costs a second token, never a failure.
    """

    def __init__(
        self,
        cache: BaseCache | None = None,
        *,
        lock_seconds: int = 5,
        wait_seconds: float | None = None,
        poll_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.cache = cache or default_cache
        self.lock_seconds = lock_seconds
        self.wait_seconds = 3 * lock_seconds if wait_seconds is None else wait_seconds
        self.poll_seconds = poll_seconds
        self.sleep = sleep
        self.clock = clock

    def get(self, key: str) -> CachedToken | None:
        """The stored token, or None."""
        data = self.cache.get(key)
        if not data:
            return None
        return CachedToken(data["value"], datetime.fromisoformat(data["expires_at"]))

    def set(self, key: str, token: CachedToken) -> None:
        """Store ``token`` until it expires."""
        seconds = (token.expires_at - datetime.now(UTC)).total_seconds()
        if seconds > 1:
            data = {"value": token.value, "expires_at": token.expires_at.isoformat()}
            self.cache.set(key, data, timeout=int(seconds))

    def discard(self, key: str, token: CachedToken) -> None:
        """Forget ``token``, unless another process has stored a newer one meanwhile."""
        current = self.get(key)
        if current is not None and current.value == token.value:
            self.cache.delete(key)

    def get_or_issue(self, key: str, issue: Callable[[], CachedToken], *, valid_for: timedelta) -> CachedToken:
        """The stored token if it lasts more than ``valid_for``; else a new one from ``issue``
        (an IAM request), stored for the others, asked for by one process at a time."""
        deadline = self.clock() + self.wait_seconds
        while True:
            token = self._lasting(key, valid_for)
            if token is not None:
                return token
            with self._lock(key) as held:
                if held:
                    # Another process may have stored one between our look and our lock.
                    return self._lasting(key, valid_for) or self._issued(key, issue)
            if self.clock() >= deadline:
                logger.warning("no IAM token from another process within %.0f s; fetching one", self.wait_seconds)
                return self._issued(key, issue)
            self.sleep(self.poll_seconds)

    def _lasting(self, key: str, valid_for: timedelta) -> CachedToken | None:
        token = self.get(key)
        return token if token is not None and token.lasts(valid_for) else None

    def _issued(self, key: str, issue: Callable[[], CachedToken]) -> CachedToken:
        token = issue()
        self.set(key, token)
        return token

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[bool]:
        """Yield True if this process now holds the fetch lock of ``key``, released on exit."""
        lock_key = f"{key}:lock"  # the key is a digest already: nothing to hide
        owner = secrets.token_hex(8)
        held = self.cache.add(lock_key, owner, timeout=self.lock_seconds)
        if held and self._add_checks_then_writes():
            # The file cache's add() looks for the key, then writes it: processes racing here
            # may all "add". Once their writes have landed the last one stands; it holds the lock.
            self.sleep(FILE_CACHE_SETTLE_SECONDS)
            held = self.cache.get(lock_key) == owner
        try:
            yield held
        finally:
            # Not atomic: a holder slower than the lock's lifetime may delete its successor's
            # lock, which costs at most one more token.
            if held and self.cache.get(lock_key) == owner:
                self.cache.delete(lock_key)

    def _add_checks_then_writes(self) -> bool:
        backend = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        return isinstance(backend, FileBasedCache)


class CallBudget(Protocol):
    def take(self, key: str) -> None: ...


class DjangoCacheCallBudget:
    """At most ``calls_per_minute`` calls in any 60 seconds per key, across processes.

    A sliding window made of ``buckets`` counters (10 s each by default): a call is allowed when
    the current bucket and the ones before it that still overlap the last 60 seconds hold fewer
    than the limit, so no 60-second span ever sees more calls — unlike a fixed window, which
    lets up to twice the limit through around a minute boundary, enough for the gateway's
    sliding limit to answer 429. Each counter is ``cache.add`` + ``cache.incr``, atomic on
    Redis (on the database or file cache two processes may now and then both take the last unit).

    When the budget is spent ``take`` sleeps until the oldest bucket leaves the window and
    tries again; after ``max_wait`` seconds of that it raises ``Throttled``. The default, one
    window plus a bucket, is the longest a lone caller can have to wait.

    ``reserve`` units of each window are left to callers without one: budgets sharing a key
    but not a reserve share the counters, so a burst of backup creations (with a reserve)
    cannot starve the polling that shows their progress (without one).
    """

    window_seconds = 60

    def __init__(
        self,
        calls_per_minute: int,
        *,
        cache: BaseCache | None = None,
        buckets: int = 6,
        max_wait: float = 70.0,
        reserve: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        if calls_per_minute - reserve < 1:
            raise ValueError("calls_per_minute must exceed the reserve by at least 1")
        self.limit = calls_per_minute - reserve
        self.cache = cache or default_cache
        self.bucket_seconds = self.window_seconds / buckets
        # The current bucket is partly over; the window reaches back into one more.
        self.buckets_in_window = buckets + 1
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock

    def take(self, key: str) -> None:
        """Take one call from the budget for ``key``, waiting for room if there is none."""
        waited = 0.0
        while True:
            now = self.clock()
            bucket = math.floor(now / self.bucket_seconds)
            if self._try_take(key, bucket):
                return
            wait = (bucket + 1) * self.bucket_seconds - now
            if waited + wait > self.max_wait:
                raise Throttled(f"call budget of {self.limit} per minute is spent", retry_after=wait)
            self.sleep(wait)
            metrics.cloud_budget_waited(wait)
            waited += wait

    @staticmethod
    def key_for(iam_endpoint: str, domain: str, user: str) -> str:
        """The key of an IAM user's budget: the gateway limits calls per user, whatever the project."""
        return cache_key("budget", iam_endpoint, domain, user)

    def room(self, key: str) -> int:
        """How many calls ``take`` would allow now without waiting (taking none of them)."""
        bucket = math.floor(self.clock() / self.bucket_seconds)
        window = [f"{key}:{bucket - back}" for back in range(self.buckets_in_window)]
        return max(0, self.limit - sum(self.cache.get_many(window).values()))

    def _try_take(self, key: str, bucket: int) -> bool:
        current = f"{key}:{bucket}"
        # Keep each counter as long as it can still count towards a window.
        ttl = math.ceil(self.bucket_seconds * (self.buckets_in_window + 1))
        self.cache.add(current, 0, timeout=ttl)
        try:
            taken = self.cache.incr(current)
        except ValueError:  # evicted between add and incr: count from zero again
            self.cache.add(current, 1, timeout=ttl)
            taken = 1
        earlier = [f"{key}:{bucket - back}" for back in range(1, self.buckets_in_window)]
        total = taken + sum(self.cache.get_many(earlier).values())
        if total <= self.limit:
            return True
        # Give the unit back so waiting callers do not starve later ones of the room they see.
        with contextlib.suppress(ValueError):
            self.cache.decr(current)
        return False
