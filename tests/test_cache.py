"""The Redis cache backend (webapp/cache.py): Django's, keeping one client per connection pool.
Needs the Redis of the PostgreSQL + Redis run (TEST_CACHE_URL=rediscache://...)."""

import os
import threading

import pytest
from django.conf import settings

from webapp.cache import SharedClientRedisCache

REDIS_URL = os.environ.get("CACHE_URL", "").replace("rediscache://", "redis://", 1)
pytestmark = pytest.mark.skipif(
    not REDIS_URL.startswith("redis://"), reason="needs Redis: run with TEST_CACHE_URL=rediscache://…"
)


@pytest.fixture
def cache():
    backend = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": "test-cache-backend"})
    yield backend
    backend.clear()


def test_settings_use_it_for_redis():
    assert settings.CACHES["default"]["BACKEND"] == "webapp.cache.SharedClientRedisCache"


def test_it_is_a_working_django_cache(cache):
    assert cache.add("k", 1, timeout=30)
    assert not cache.add("k", 2, timeout=30)
    assert cache.get("k") == 1
    assert cache.incr("k") == 2
    cache.set_many({"a": "ü", "b": [1, 2]}, timeout=30)
    assert cache.get_many(["a", "b", "missing"]) == {"a": "ü", "b": [1, 2]}
    assert cache.delete("k")
    assert cache.get("k", "gone") == "gone"


def test_one_client_serves_every_call_and_thread(cache):
    client = cache._cache.get_client(write=True)
    seen = []

    def use():
        cache.set("shared", 1, timeout=30)
        seen.append(cache._cache.get_client())

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(other is client for other in seen)
    assert cache.get("shared") == 1
