"""One IAM token per IAM user and project, however many processes need it at the same moment.

The processes here are real (spawned, each with its own Django and its own client) and share
the test run's cache: files on the default run, Redis when TEST_CACHE_URL says so. They call the
simulator over HTTP; its counters say how many tokens were asked for.
"""

import itertools
import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache.backends.locmem import LocMemCache

from backups.cloud import CachedToken, CloudUnavailable, DjangoCacheTokenStore

pytestmark = pytest.mark.django_db

PROCESSES = 6
# What a process started here may take to import Django on a busy two-core machine, and more.
START_SECONDS = 60
spawn = multiprocessing.get_context("spawn")
_names = itertools.count()


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    import django

    django.setup()


def _list_instances(credentials, ready, results) -> None:
    """In a fresh process: wait at ``ready`` with the others, then make one real cloud call."""
    _django()
    from backups.cloud import GeminiDBClient

    client = GeminiDBClient(credentials, timeout=5.0)
    ready.wait(START_SECONDS)
    try:
        names = [instance.name for instance in client.list_instances()]
        results.put((os.getpid(), time.time(), names))
    except Exception as error:  # reported to the test, which fails with it
        results.put((os.getpid(), time.time(), repr(error)))
    finally:
        client.close()


def _die_holding_the_lock(token_key, lock_seconds, locked_at) -> None:
    """In a fresh process: take the token lock, then die the hardest way, never releasing it."""
    _django()

    def killed_while_fetching():
        locked_at.value = time.time()
        os.kill(os.getpid(), signal.SIGKILL)

    DjangoCacheTokenStore(lock_seconds=lock_seconds).get_or_issue(
        token_key, killed_while_fetching, valid_for=timedelta(0)
    )


def _run_together(credentials, count):
    """Start ``count`` processes, release them at one moment, and return what each saw."""
    ready = spawn.Barrier(count, timeout=START_SECONDS)
    results = spawn.Queue()
    processes = [spawn.Process(target=_list_instances, args=(credentials, ready, results)) for _ in range(count)]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=START_SECONDS + 30) for _ in processes]
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    return outcomes


def test_processes_starting_together_ask_iam_for_one_token(credentials, simulator):
    simulator.add_instance("cass-1")

    outcomes = _run_together(credentials, PROCESSES)

    assert [names for _, _, names in outcomes] == [["cass-1"]] * PROCESSES
    counters = simulator.counters()["by_kind"]
    assert counters["list_instances"] == PROCESSES
    assert counters["token"] == 1


def test_a_holder_that_dies_delays_the_others_only_until_its_lock_lapses(make_client, credentials, simulator):
    simulator.add_instance("cass-1")
    token_key = make_client()._token_key
    lock_seconds = 3
    locked_at = spawn.Value("d", 0.0)
    holder = spawn.Process(target=_die_holding_the_lock, args=(token_key, lock_seconds, locked_at))
    # The others start while the dead holder's lock is still there: spawn them first, as
    # starting takes longer than the lock lives, and release them once it is taken.
    ready = spawn.Barrier(PROCESSES + 1, timeout=START_SECONDS)
    results = spawn.Queue()
    others = [spawn.Process(target=_list_instances, args=(credentials, ready, results)) for _ in range(PROCESSES)]
    for process in others:
        process.start()
    holder.start()
    holder.join(START_SECONDS)
    assert holder.exitcode == -signal.SIGKILL
    ready.wait()
    try:
        outcomes = [results.get(timeout=START_SECONDS) for _ in others]
    finally:
        for process in others:
            process.join(10)
            if process.is_alive():
                process.kill()

    assert [names for _, _, names in outcomes] == [["cass-1"]] * PROCESSES
    # Nobody went on without the lock (then each would have asked IAM): one token, fetched by
    # whoever took the lock once it lapsed, and not before.
    assert simulator.counters()["by_kind"]["token"] == 1
    assert min(finished for _, finished, _ in outcomes) >= locked_at.value + lock_seconds - 0.1


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _token(value, hours=1):
    return CachedToken(value, datetime.now(UTC) + timedelta(hours=hours))


def _never_called():
    raise AssertionError("asked IAM although another process was fetching the token")


def _stores(**options):
    """Two stores on one cache, as two processes see it: the holder's, and a waiter's on a fake clock."""
    shared = LocMemCache(f"token-lock-{next(_names)}", {})
    clock = FakeClock()
    waiter = DjangoCacheTokenStore(shared, sleep=clock.sleep, clock=clock, **options)
    return DjangoCacheTokenStore(shared), waiter, clock


def test_a_waiter_takes_the_token_the_holder_stores():
    holder, waiter, clock = _stores()
    fetched = _token("fetched-by-the-holder")

    def holder_stores_it_meanwhile(seconds):
        clock.sleep(seconds)
        if len(clock.sleeps) == 2:
            holder.set("key", fetched)

    waiter.sleep = holder_stores_it_meanwhile
    with holder._lock("key") as held:
        assert held
        token = waiter.get_or_issue("key", _never_called, valid_for=timedelta(minutes=10))

    assert token == fetched
    assert clock.sleeps == [waiter.poll_seconds] * 2


def test_a_token_about_to_expire_is_renewed_by_one_process_while_the_others_wait():
    holder, waiter, clock = _stores()
    holder.set("key", _token("old", hours=0.1))
    renewed = _token("renewed")

    def holder_stores_it_meanwhile(seconds):
        clock.sleep(seconds)
        holder.set("key", renewed)

    waiter.sleep = holder_stores_it_meanwhile
    with holder._lock("key"):
        token = waiter.get_or_issue("key", _never_called, valid_for=timedelta(minutes=10))

    assert token == renewed


def test_a_waiter_never_waits_longer_than_its_limit():
    holder, waiter, clock = _stores(wait_seconds=2)

    with holder._lock("key"):  # held, and never lets go within the wait
        token = waiter.get_or_issue("key", lambda: _token("own"), valid_for=timedelta(0))

    assert token.value == "own"
    assert 2 <= sum(clock.sleeps) <= 2 + waiter.poll_seconds
    assert waiter.get("key") == token


def test_the_lock_is_let_go_after_a_fetch_that_failed():
    holder, waiter, clock = _stores()

    def iam_unavailable():
        raise CloudUnavailable("POST /v3/auth/tokens: no answer")

    with pytest.raises(CloudUnavailable):
        holder.get_or_issue("key", iam_unavailable, valid_for=timedelta(0))
    token = waiter.get_or_issue("key", lambda: _token("next"), valid_for=timedelta(0))

    assert token.value == "next"
    assert clock.sleeps == []
