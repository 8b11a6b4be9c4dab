"""The client's instance calls against the simulator over HTTP: create (restore), find by name
after an ambiguous create, delete, and the point-in-time window. Time moves by the simulator's
clock (``advance_clock``): nothing here waits."""

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from backups.cloud import (
    AmbiguousRequest,
    CreatedInstance,
    InstanceBusy,
    InstanceNotFound,
    InvalidRequest,
    Job,
    NewInstance,
)

pytestmark = pytest.mark.django_db

PASSWORD = "Restore-Pass1"


def _new(simulator, name="restored-orders", backup_id=None, nodes=3, size=100, **changes):
    network = simulator.network()
    fields = {
        "name": name,
        "password": PASSWORD,
        "region": "eu-de",
        "availability_zone": "eu-de-01,eu-de-02,eu-de-03",
        "vpc_id": network["vpc_id"],
        "subnet_id": network["subnet_ids"][0],
        "security_group_id": network["security_group_id"],
        "spec_code": "geminidb.cassandra.xlarge.4",
        "node_count": nodes,
        "volume_size_gb": size,
        "restore_backup_id": backup_id,
    }
    return NewInstance(**{**fields, **changes})


@pytest.fixture
def source(simulator, client):
    """A 6-node, 500 GB instance with one completed backup."""
    instance = simulator.add_instance("orders-prod", node_count=6, volume_size_gb=500)
    created = client.create_backup(instance["id"], "nightly", "manual backup")
    return {"instance_id": instance["id"], "backup": simulator.finish_backup(created.backup_id)}


def test_a_restore_is_followed_from_creating_to_normal(client, simulator, source):
    simulator.configure(job_seconds=600)

    created = client.create_instance(_new(simulator, backup_id=source["backup"]["id"], nodes=6, size=500))
    creating = client.get_instance(created.instance_id)
    running = client.get_job(created.job_id)
    simulator.advance_clock(3600)
    done = client.get_instance(created.instance_id)
    completed = client.get_job(created.job_id)

    assert isinstance(created, CreatedInstance)
    assert (creating.name, creating.status) == ("restored-orders", "creating")
    assert (running.name, running.instance_id) == (Job.RESTORE_NEW_INSTANCE, created.instance_id)
    assert running.is_running
    assert done.is_available
    assert completed.is_completed


def test_an_empty_instance_is_made_by_a_create_instance_job(client, simulator):
    created = client.create_instance(_new(simulator))

    assert client.get_job(created.job_id).name == Job.CREATE_INSTANCE


def test_the_instance_carries_what_a_restore_copies(client, simulator, source):
    network = simulator.network()

    instance = client.get_instance(source["instance_id"])
    copied = _new(
        simulator,
        backup_id=source["backup"]["id"],
        region=instance.region,
        availability_zone=instance.availability_zone,
        vpc_id=instance.vpc_id,
        subnet_id=instance.subnet_id,
        security_group_id=instance.security_group_id,
        spec_code=instance.spec_code,
        nodes=instance.node_count,
        size=instance.volume_size_gb,
        mode=instance.mode,
        storage_engine=instance.storage_engine,
    )

    assert (instance.region, instance.availability_zone) == ("eu-de", "eu-de-01,eu-de-02,eu-de-03")
    assert (instance.vpc_id, instance.subnet_id) == (network["vpc_id"], network["subnet_ids"][0])
    assert instance.security_group_id == network["security_group_id"]
    assert (instance.spec_code, instance.node_count, instance.volume_size_gb) == ("geminidb.cassandra.xlarge.4", 6, 500)
    assert (instance.mode, instance.storage_engine) == ("Cluster", "rocksDB")
    assert client.create_instance(copied).instance_id


def test_get_instance_is_none_for_an_unknown_id(client, simulator):
    simulator.add_instance("orders-prod")

    assert client.get_instance("0" * 32 + "in06") is None


def test_an_ambiguous_create_is_found_by_name_and_sent_once(client, simulator, source):
    simulator.configure(drop_connection_after_instance_create=1)

    with pytest.raises(AmbiguousRequest):
        client.create_instance(_new(simulator, backup_id=source["backup"]["id"], nodes=6, size=500))
    found = client.find_instance_by_name("restored-orders")

    assert found is not None
    assert found.status == "creating"
    assert [i["name"] for i in simulator.instances()] == ["orders-prod", "restored-orders"]
    assert simulator.counters()["by_kind"]["create_instance"] == 1


def test_find_instance_by_name_is_exact_and_case_sensitive(client, simulator):
    wanted = simulator.add_instance("restored-orders")
    for name in ("Restored-orders", "restored-orders-2", "xrestored-orders"):
        simulator.add_instance(name)
    simulator.add_instance("restored-docs", datastore_type="mongodb")

    assert client.find_instance_by_name("restored-orders").id == wanted["id"]
    assert client.find_instance_by_name("RESTORED-ORDERS") is None
    assert client.find_instance_by_name("restored") is None
    assert client.find_instance_by_name("restored-docs") is None


def test_of_two_instances_with_one_name_the_oldest_is_found(client, simulator):
    first = client.create_instance(_new(simulator))
    simulator.advance_clock(60)
    client.create_instance(_new(simulator))

    assert client.find_instance_by_name("restored-orders").id == first.instance_id


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"node_count": 5}, "DBS.280123", "Invalid node number."),
        ({"volume_size_gb": 499}, "DBS.280266", "Invalid storage space."),
        ({"restore_backup_id": "0" * 32 + "in06"}, "DBS.201214", "The backup file does not exist."),
        ({"password": "weak"}, "DBS.280465", "Invalid password."),
        ({"name": "no"}, "DBS.280234", "Invalid DB instance name."),
    ],
)
def test_a_refusal_is_invalid_request_with_the_clouds_code(client, simulator, source, changes, code, message):
    new = _new(simulator, backup_id=source["backup"]["id"], nodes=6, size=500, **changes)

    with pytest.raises(InvalidRequest) as raised:
        client.create_instance(new)

    assert (raised.value.status, raised.value.error_code, raised.value.error_msg) == (400, code, message)
    assert PASSWORD not in str(raised.value)
    assert [i["name"] for i in simulator.instances()] == ["orders-prod"]


def test_a_source_that_does_not_exist_is_an_invalid_request(client, simulator):
    new = _new(simulator, restore_source_instance_id="0" * 32 + "in06", restore_time=datetime.now(UTC))

    with pytest.raises(InvalidRequest) as raised:
        client.create_instance(new)

    assert raised.value.error_code == "DBS.301024"


def test_the_password_is_never_logged_or_shown(client, simulator, simulator_process, source, caplog):
    caplog.set_level(logging.DEBUG)
    new = _new(simulator, backup_id=source["backup"]["id"], nodes=6, size=500)

    client.create_instance(new)
    simulator.configure(drop_connection_after_instance_create=1)
    with pytest.raises(AmbiguousRequest) as dropped:
        client.create_instance(new)
    simulator.configure(error_rate=1)
    with pytest.raises(AmbiguousRequest) as busy:
        client.create_instance(new)
    simulator.configure(error_rate=0)
    with pytest.raises(InvalidRequest) as refused:
        client.create_instance(replace(new, node_count=3))

    errors = [dropped.value, busy.value, refused.value]
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for text in (logged, repr(new), str(new), *(str(e) for e in errors), *(repr(e) for e in errors)):
        assert PASSWORD not in text
    assert PASSWORD not in simulator_process.log_path.read_text()
    assert f"POST /v3/{simulator.project_id}/instances -> 202" in caplog.text


def test_delete_returns_its_job_and_the_instance_goes_when_it_ends(client, simulator):
    instance = simulator.add_instance("temporary")
    simulator.configure(delete_seconds=600)

    job_id = client.delete_instance(instance["id"])
    running = client.get_job(job_id)
    still_there = client.get_instance(instance["id"])
    simulator.advance_clock(601)

    assert (running.name, running.status) == (Job.DELETE_INSTANCE, Job.RUNNING)
    assert still_there is not None
    assert client.get_instance(instance["id"]) is None
    assert client.get_job(job_id).is_completed
    with pytest.raises(InstanceNotFound):
        client.delete_instance(instance["id"])


def test_delete_while_another_job_runs_is_instance_busy(client, simulator):
    simulator.configure(job_seconds=600)
    created = client.create_instance(_new(simulator))

    with pytest.raises(InstanceBusy):
        client.delete_instance(created.instance_id)


def test_an_ambiguous_delete_can_be_sent_again(client, simulator):
    instance = simulator.add_instance("temporary")
    simulator.configure(drop_connection_after_instance_delete=1, delete_seconds=600)

    with pytest.raises(AmbiguousRequest):
        client.delete_instance(instance["id"])
    with pytest.raises(InstanceBusy):
        client.delete_instance(instance["id"])
    simulator.advance_clock(601)
    with pytest.raises(InstanceNotFound):
        client.delete_instance(instance["id"])

    assert simulator.counters()["by_kind"]["delete_instance"] == 3


def test_no_restorable_period_without_a_completed_backup(client, simulator):
    instance = simulator.add_instance("orders-prod")

    assert client.restorable_time_periods(instance["id"]) == []


def test_restorable_periods_are_aware_utc_datetimes_from_the_first_backup(client, simulator, source):
    backup_end = datetime.fromtimestamp(source["backup"]["ended_at_epoch"], tz=UTC)
    simulator.advance_clock(3600)

    [(start, end)] = client.restorable_time_periods(source["instance_id"])
    [(narrow_start, narrow_end)] = client.restorable_time_periods(
        source["instance_id"], start=backup_end + timedelta(minutes=10), end=backup_end + timedelta(minutes=20)
    )

    assert start.tzinfo is UTC
    assert abs(start - backup_end) < timedelta(milliseconds=1)
    assert end - start >= timedelta(hours=1)
    assert narrow_end - narrow_start == timedelta(minutes=10)
    assert client.restorable_time_periods(source["instance_id"], end=backup_end - timedelta(minutes=1)) == []


def test_restorable_periods_of_an_unknown_instance(client, simulator):
    with pytest.raises(InstanceNotFound):
        client.restorable_time_periods("0" * 32 + "in06")


def test_a_point_in_time_restore_inside_the_period(client, simulator, source):
    simulator.advance_clock(3600)
    [(start, end)] = client.restorable_time_periods(source["instance_id"])
    new = _new(simulator, nodes=6, size=500, restore_source_instance_id=source["instance_id"])

    created = client.create_instance(_replace_time(new, start + (end - start) / 2))
    with pytest.raises(InvalidRequest) as raised:
        client.create_instance(_replace_time(new, start - timedelta(minutes=1), name="too-early"))

    assert client.get_job(created.job_id).name == Job.RESTORE_NEW_INSTANCE
    assert raised.value.error_code == "DBS.201215"


def _replace_time(new, restore_time, **changes):
    return replace(new, restore_time=restore_time, **changes)
