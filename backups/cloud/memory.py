"""A token store that lives and dies with one client.

Verifying credentials someone has just typed must not use the shared token cache: it is
keyed by endpoint, domain, user and project but not by password, so a token cached for the
old password would "prove" a wrong new one, and a token got with a password that is then
not saved must not be left behind for others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from .stores import CachedToken


class MemoryTokenStore:
    """Keeps tokens in a dict of its own: nothing is read from or written to a shared cache."""

    def __init__(self) -> None:
        self._tokens: dict[str, CachedToken] = {}

    def get(self, key: str) -> CachedToken | None:
        """The token stored under ``key`` by this store, or None."""
        return self._tokens.get(key)

    def set(self, key: str, token: CachedToken) -> None:
        """Keep ``token`` for as long as this store lives."""
        self._tokens[key] = token

    def discard(self, key: str, token: CachedToken) -> None:
        """Forget ``token`` if it is still the one stored under ``key``."""
        if self._tokens.get(key) == token:
            del self._tokens[key]

    def get_or_issue(self, key: str, issue: Callable[[], CachedToken], *, valid_for: timedelta) -> CachedToken:
        """The token stored under ``key`` if it lasts more than ``valid_for``, else a new one
        from ``issue``: a store of one client has nobody to wait for."""
        token = self._tokens.get(key)
        if token is None or not token.lasts(valid_for):
            token = self._tokens[key] = issue()
        return token
