"""Rate limits for actions people can repeat: fixed windows counted in Django's cache, so every
web process shares them (``add`` + ``incr`` are atomic on Redis, as in the cloud call budget).

A fixed window lets a burst of twice the limit straddle a boundary; the limits here protect
workers and a remote account lock-out, for which that is close enough.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Throttle:
    """At most ``limit`` counted events per ``subject`` in each window of ``window`` seconds."""

    name: str
    limit: int
    window: int

    def _counter(self, subject: str) -> tuple[str, int]:
        """The cache key of this window's count for ``subject``, and the seconds the window has left."""
        now = time.time()
        return f"throttle:{self.name}:{int(now // self.window)}:{subject}", self.seconds_left(now)

    def used(self, subject: str) -> int:
        key, _ = self._counter(subject)
        return cache.get(key, 0)

    def exceeded(self, subject: str) -> bool:
        """True when ``subject`` has used up this window's allowance."""
        return self.used(subject) >= self.limit

    def hit(self, subject: str) -> int:
        """Count one event; answers how many this window now holds."""
        key, left = self._counter(subject)
        cache.add(key, 0, timeout=left + 1)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr: this is the window's first
            cache.add(key, 1, timeout=left + 1)
            return 1

    def take(self, subject: str) -> bool:
        """Count one event if the allowance has room; False (nothing counted) when it has not."""
        if self.exceeded(subject):
            return False
        return self.hit(subject) <= self.limit

    def seconds_left(self, now: float | None = None) -> int:
        """Seconds until the current window ends and the allowance is whole again."""
        now = time.time() if now is None else now
        return self.window - int(now % self.window)
