"""Injected faults: retries for reads, never a second create, and the call budget."""

import socket
import time
from dataclasses import replace

import pytest
from django.core.cache import cache

from backups.cloud import (
    AmbiguousRequest,
    CloudUnavailable,
    DjangoCacheCallBudget,
    ServerBusy,
    Throttled,
)

pytestmark = pytest.mark.django_db


def test_server_busy_gives_up_after_bounded_retries(client, simulator, sleep, fast_retry):
    client.list_instances()  # the token first, so only GeminiDB calls fail below
    simulator.configure(error_rate=1)

    with pytest.raises(ServerBusy) as raised:
        client.list_instances()

    assert raised.value.error_code == "DBS.200998"
    assert raised.value.status == 500
    assert raised.value.request_id
    assert simulator.counters()["by_kind"]["list_instances"] == 1 + fast_retry.attempts
    assert len(sleep.waits) == fast_retry.attempts - 1


def test_reads_succeed_through_intermittent_errors(make_client, simulator, fast_retry):
    client = make_client(retry=replace(fast_retry, attempts=8))
    simulator.add_instance("cass-1")
    simulator.configure(error_rate=0.5)

    for _ in range(10):
        assert len(client.list_instances()) == 1

    assert simulator.counters()["by_status"]["500"] >= 1


def test_server_error_on_create_is_ambiguous_and_not_retried(client, simulator):
    instance = simulator.add_instance("cass-1")
    client.list_instances()
    simulator.configure(error_rate=1)

    with pytest.raises(AmbiguousRequest) as raised:
        client.create_backup(instance["id"], "backup-1", "x")

    assert raised.value.error_code == "DBS.200998"
    assert simulator.counters()["by_kind"]["create_backup"] == 1


def test_throttled_reads_wait_and_give_up(client, simulator, sleep, fast_retry):
    client.list_instances()
    simulator.configure(throttle_rate=1)

    with pytest.raises(Throttled) as raised:
        client.list_instances()

    assert raised.value.error_code == "APIG.0308"
    assert raised.value.status == 429
    low, high = fast_retry.throttle_wait
    assert len(sleep.waits) == fast_retry.attempts - 1
    assert all(low <= wait <= high for wait in sleep.waits)


def test_reads_succeed_through_intermittent_throttling(make_client, simulator, fast_retry):
    client = make_client(retry=replace(fast_retry, attempts=8))
    simulator.configure(throttle_rate=0.5)

    for _ in range(10):
        client.list_instances()

    assert simulator.counters()["by_status"]["429"] >= 1


def test_throttled_create_is_not_retried(client, simulator):
    instance = simulator.add_instance("cass-1")
    client.list_instances()
    simulator.configure(throttle_rate=1)

    with pytest.raises(Throttled):
        client.create_backup(instance["id"], "backup-1", "x")

    assert simulator.counters()["by_kind"]["create_backup"] == 1
    assert simulator.backups() == []


def test_call_budget_keeps_a_burst_under_the_gateway_limit(make_client, simulator):
    simulator.configure(rate_limit_per_minute=10)
    # The budget counts the token call too; with no time to wait, a spent budget raises.
    client = make_client(call_budget=DjangoCacheCallBudget(8, cache=cache, max_wait=0))

    held_back = []
    for _ in range(12):
        try:
            client.list_jobs()
        except Throttled as error:
            held_back.append(error)

    counters = simulator.counters()
    assert len(held_back) == 5
    assert all(error.status is None for error in held_back), "raised by the client's budget, not by a 429"
    assert "429" not in counters["by_status"]
    assert counters["by_kind"]["list_jobs"] == 7


def test_without_a_budget_the_same_burst_meets_429(make_client, simulator):
    simulator.configure(rate_limit_per_minute=10)
    client = make_client()

    for _ in range(10):
        client.list_jobs()

    with pytest.raises(Throttled) as raised:
        client.list_jobs()

    assert raised.value.status == 429
    assert simulator.counters()["by_status"]["429"] >= 1


def test_dropped_create_is_ambiguous_and_reconciled_by_name(client, simulator):
    instance = simulator.add_instance("cass-1")
    simulator.configure(drop_connection_after_create=1)

    with pytest.raises(AmbiguousRequest) as raised:
        client.create_backup(instance["id"], "nightly-7", "x")

    assert not raised.value.retryable
    found = client.find_backup_by_name(instance["id"], "nightly-7")
    assert found is not None
    (stored,) = simulator.backups(instance["id"])
    assert stored["id"] == found.id
    assert simulator.counters()["by_kind"]["create_backup"] == 1


def test_dropped_reads_are_retried(make_client, simulator, fast_retry):
    client = make_client(retry=replace(fast_retry, attempts=8))
    simulator.add_instance("cass-1")
    simulator.configure(drop_connection_rate=0.5)

    for _ in range(10):
        assert len(client.list_instances()) == 1

    assert simulator.counters()["by_status"]["dropped"] >= 1


def test_slow_reads_time_out_as_unavailable(make_client, simulator, fast_retry):
    client = make_client(timeout=0.2)
    client.list_instances()
    simulator.configure(latency_ms=500)

    started = time.monotonic()
    with pytest.raises(CloudUnavailable):
        client.list_instances()

    assert time.monotonic() - started < 0.2 * fast_retry.attempts + fast_retry.max_total_wait + 1


def test_slow_create_times_out_as_ambiguous(make_client, simulator):
    client = make_client(timeout=0.2)
    instance = simulator.add_instance("cass-1")
    client.list_instances()
    simulator.configure(latency_ms=500)

    with pytest.raises(AmbiguousRequest):
        client.create_backup(instance["id"], "slow-one", "x")

    time.sleep(0.5)  # the simulator carries the request out after its delay
    simulator.configure(latency_ms=0)
    assert client.find_backup_by_name(instance["id"], "slow-one") is not None
    assert len(simulator.backups(instance["id"])) == 1


def test_slow_token_requests_are_retried_and_no_create_is_sent(make_client, simulator, fast_retry):
    client = make_client(timeout=0.2)
    instance = simulator.add_instance("cass-1")
    simulator.configure(latency_ms=500)

    with pytest.raises(CloudUnavailable):
        client.create_backup(instance["id"], "backup-1", "x")

    time.sleep(0.5)  # let the simulator finish the last delayed token request
    counters = simulator.counters()["by_kind"]
    assert counters["token"] == fast_retry.attempts
    assert counters["create_backup"] == 0


def test_refused_connection_on_create_is_unavailable(make_client, credentials, simulator):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = make_client(credentials=replace(credentials, geminidb_endpoint=f"http://127.0.0.1:{closed_port}"))

    with pytest.raises(CloudUnavailable) as raised:
        client.create_backup("0123456789abcdef0123456789abcdefin06", "backup-1", "x")

    assert raised.value.retryable
