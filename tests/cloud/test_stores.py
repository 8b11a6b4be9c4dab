"""The call budget and the token store, on a local-memory cache with a fake clock."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache.backends.locmem import LocMemCache
from hypothesis import given, settings
from hypothesis import strategies as st

from backups.cloud import CachedToken, DjangoCacheCallBudget, DjangoCacheTokenStore, Throttled
from backups.cloud.stores import cache_key

# tests/conftest.py resets the cache around every test, and the cache may be a database table.
pytestmark = pytest.mark.django_db

_names = itertools.count()


def fresh_cache():
    # A distinct name per cache: LocMemCache instances of one name share their data.
    return LocMemCache(f"cloud-test-{next(_names)}", {})


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def budget(limit, clock, **options):
    return DjangoCacheCallBudget(limit, cache=fresh_cache(), sleep=clock.sleep, clock=clock, **options)


def test_budget_allows_the_limit_without_waiting():
    clock = FakeClock()
    calls = budget(5, clock)

    for _ in range(5):
        calls.take("user")

    assert clock.sleeps == []


def test_budget_sleeps_until_room_instead_of_calling():
    clock = FakeClock(now=1_000_005.0)  # halfway through a 10-second bucket
    calls = budget(3, clock)

    for _ in range(4):
        calls.take("user")

    # The fourth waits until the three calls have left the window (60 s plus the partial bucket).
    assert sum(clock.sleeps) == pytest.approx(65.0)
    assert all(wait <= 10 for wait in clock.sleeps)


def test_budget_is_per_key():
    clock = FakeClock()
    calls = budget(2, clock)

    for key in ("alice", "alice", "bob", "bob"):
        calls.take(key)

    assert clock.sleeps == []


def test_budget_gives_up_after_max_wait():
    clock = FakeClock(now=1_000_000.0)
    calls = budget(1, clock, max_wait=15)
    calls.take("user")

    with pytest.raises(Throttled) as raised:
        calls.take("user")

    assert raised.value.retryable
    assert sum(clock.sleeps) <= 15


def test_room_tells_what_take_would_allow_without_taking_it():
    clock = FakeClock()
    calls = budget(5, clock, reserve=1, max_wait=0)
    assert calls.room("user") == 4
    calls.take("user")
    assert calls.room("user") == 3
    assert calls.room("user") == 3  # asking takes nothing
    for _ in range(3):
        calls.take("user")
    assert calls.room("user") == 0
    clock.now += 70  # the window has moved past them
    assert calls.room("user") == 4


def test_budget_is_shared_through_the_cache():
    clock = FakeClock()
    shared = fresh_cache()
    first = DjangoCacheCallBudget(2, cache=shared, sleep=clock.sleep, clock=clock, max_wait=0)
    second = DjangoCacheCallBudget(2, cache=shared, sleep=clock.sleep, clock=clock, max_wait=0)
    first.take("user")
    second.take("user")

    with pytest.raises(Throttled):
        first.take("user")


@settings(max_examples=50, deadline=None)
@given(gaps=st.lists(st.floats(min_value=0, max_value=20), min_size=1, max_size=120), limit=st.integers(1, 12))
def test_no_sixty_second_span_sees_more_than_the_limit(gaps, limit):
    clock = FakeClock(now=1_000_000.0)
    calls = budget(limit, clock, max_wait=1000)
    taken = []
    for gap in gaps:
        clock.now += gap
        calls.take("user")
        taken.append(clock.now)

    for index, start in enumerate(taken):
        in_window = [t for t in taken[index:] if t < start + 60]
        assert len(in_window) <= limit


def test_token_store_round_trip_and_discard():
    store = DjangoCacheTokenStore(fresh_cache())
    token = CachedToken("MIIDtoken", datetime.now(UTC) + timedelta(hours=1))

    store.set("key", token)

    assert store.get("key") == token
    store.discard("key", CachedToken("another", token.expires_at))
    assert store.get("key") == token, "a different token must not discard the stored one"
    store.discard("key", token)
    assert store.get("key") is None


def test_token_store_skips_expired_tokens():
    store = DjangoCacheTokenStore(fresh_cache())

    store.set("key", CachedToken("old", datetime.now(UTC) - timedelta(seconds=5)))

    assert store.get("key") is None


def test_cached_token_repr_hides_the_value():
    assert "MIIDsecret" not in repr(CachedToken("MIIDsecret", datetime.now(UTC)))


def test_cache_keys_reveal_nothing():
    key = cache_key("token", "https://iam.example", "my-domain", "alice", "project-1")

    assert key.startswith("geminidb:token:")
    for part in ("iam.example", "my-domain", "alice", "project-1"):
        assert part not in key
