"""Automated backup policies through the client, against the simulator over real HTTP."""

from datetime import time

import pytest

from backups.cloud import (
    AmbiguousRequest,
    BackupPolicy,
    CloudUnavailable,
    InstanceNotFound,
    InvalidRequest,
    ServerBusy,
)

pytestmark = pytest.mark.django_db


def test_get_backup_policy_reads_the_instance_policy(client, simulator):
    instance = simulator.add_instance("orders-prod")

    policy = client.get_backup_policy(instance["id"])

    assert policy == BackupPolicy(
        keep_days=7, start_time=instance["backup_strategy"]["start_time"], period="1,2,3,4,5,6,7"
    )
    assert policy.enabled
    assert policy.days == (1, 2, 3, 4, 5, 6, 7)


def test_set_backup_policy_is_read_back(client, simulator):
    instance = simulator.add_instance("orders-prod")

    client.set_backup_policy(instance["id"], BackupPolicy(keep_days=14, start_time="23:15-00:15", period="1,3,5"))

    assert client.get_backup_policy(instance["id"]) == BackupPolicy(14, "23:15-00:15", "1,3,5")
    assert simulator.counters()["by_kind"]["set_backup_policy"] == 1


def test_turning_the_policy_off_sends_keep_days_alone(client, simulator):
    instance = simulator.add_instance("orders-prod")

    # A window and days the cloud would refuse: they must not be sent when the policy is off.
    client.set_backup_policy(instance["id"], BackupPolicy(keep_days=0, start_time="bad", period="9"))
    policy = client.get_backup_policy(instance["id"])

    assert policy == BackupPolicy(keep_days=0, start_time=None, period=None)
    assert not policy.enabled
    assert (policy.days, policy.window, policy.window_hours) == ((), None, None)


def test_a_policy_the_cloud_refuses_raises_invalid_request_with_its_code(client, simulator):
    instance = simulator.add_instance("orders-prod")

    with pytest.raises(InvalidRequest) as raised:
        client.set_backup_policy(instance["id"], BackupPolicy(keep_days=3, start_time="01:00-02:00", period="1"))

    assert raised.value.error_code == "DBS.280215"
    assert client.get_backup_policy(instance["id"]).keep_days == 7


def test_unknown_instances_raise_instance_not_found(client, simulator):
    with pytest.raises(InstanceNotFound):
        client.get_backup_policy("0" * 32 + "in06")
    with pytest.raises(InstanceNotFound):
        client.set_backup_policy("0" * 32 + "in06", BackupPolicy(0, None, None))


def test_reading_the_policy_is_retried_like_every_read(client, simulator, sleep):
    instance = simulator.add_instance("orders-prod")
    simulator.configure(drop_connection_rate=1.0)

    with pytest.raises(CloudUnavailable):
        client.get_backup_policy(instance["id"])

    assert simulator.counters()["by_kind"]["get_backup_policy"] == client.retry.attempts
    assert len(sleep.waits) == client.retry.attempts - 1


def test_setting_the_policy_is_sent_once(client, simulator, sleep):
    instance = simulator.add_instance("orders-prod")
    client.get_backup_policy(instance["id"])  # a token in hand, so only the PUT is counted below
    simulator.configure(error_rate=1.0)

    with pytest.raises(ServerBusy):
        client.set_backup_policy(instance["id"], BackupPolicy(0, None, None))

    assert simulator.counters()["by_kind"]["set_backup_policy"] == 1
    assert sleep.waits == []


def test_a_lost_answer_to_the_write_is_ambiguous(make_client, simulator):
    instance = simulator.add_instance("orders-prod")
    client = make_client(timeout=(2.0, 0.2))
    client.get_backup_policy(instance["id"])
    simulator.configure(latency_ms=600)

    with pytest.raises(AmbiguousRequest):
        client.set_backup_policy(instance["id"], BackupPolicy(10, "02:00-03:00", "1,2,3,4,5,6,7"))


@pytest.mark.parametrize(
    ("start_time", "window", "hours"),
    [
        ("01:00-02:00", (time(1), time(2)), (1, 2)),
        ("23:45-00:45", (time(23, 45), time(0, 45)), (23, 0)),
    ],
)
def test_the_window_parses_into_times_and_hours(start_time, window, hours):
    policy = BackupPolicy(keep_days=7, start_time=start_time, period="7,1,3")

    assert policy.window == window
    assert policy.window_hours == hours
    assert policy.days == (1, 3, 7)


def test_from_api_reads_the_page_example_and_a_policy_that_is_off():
    example = {"keep_days": 7, "start_time": "19:00-20:00", "period": "1,2,4,5,6", "incremental_period": None}

    assert BackupPolicy.from_api(example) == BackupPolicy(7, "19:00-20:00", "1,2,4,5,6")
    assert BackupPolicy.from_api({"keep_days": 0}) == BackupPolicy(0, None, None)
    assert BackupPolicy.from_api({}) == BackupPolicy(0, None, None)
