"""Instances, backups and jobs against the simulator: paging, parsing, and the error classes."""

from datetime import UTC, datetime, timedelta

import pytest

from backups.cloud import (
    CloudBackup,
    CreatedBackup,
    InstanceBusy,
    InstanceNotFound,
    InvalidRequest,
)
from backups.cloud import client as client_module

pytestmark = pytest.mark.django_db


def test_list_instances_reads_every_page_and_keeps_cassandra(client, simulator, monkeypatch):
    monkeypatch.setattr(client_module, "INSTANCES_PAGE", 2)
    cassandra = {simulator.add_instance(f"cass-{n}")["id"] for n in range(5)}
    simulator.add_instance("mongo-1", datastore_type="mongodb")
    simulator.add_instance("redis-1", datastore_type="redis")
    simulator.add_instance("elsewhere", project_id=simulator.second_project_id)

    instances = client.list_instances()

    assert {i.id for i in instances} == cassandra
    assert all(i.datastore_type == "cassandra" and i.is_available for i in instances)
    assert simulator.counters()["by_kind"]["list_instances"] == 3


def test_list_instances_of_every_type(client, simulator):
    simulator.add_instance("cass-1")
    simulator.add_instance("mongo-1", datastore_type="mongodb")

    assert {i.datastore_type for i in client.list_instances(datastore_type=None)} == {"cassandra", "mongodb"}


def test_create_backup_returns_job_and_backup_ids(client, simulator):
    instance = simulator.add_instance("cass-1")

    created = client.create_backup(instance["id"], "nightly-2024", "Nightly backup")

    assert isinstance(created, CreatedBackup)
    (stored,) = simulator.backups(instance["id"])
    assert (stored["id"], stored["job_id"]) == (created.backup_id, created.job_id)
    backup = client.get_backup(created.backup_id)
    assert backup.name == "nightly-2024"
    assert backup.description == "Nightly backup"
    assert backup.type == CloudBackup.MANUAL
    assert backup.is_building


@pytest.mark.parametrize(
    ("name", "description"),
    [("1starts-with-digit", "ok"), ("abc", "too short a name"), ("name-ok", "no <tags>"), ("name-ok", "x" * 257)],
)
def test_create_backup_rejects_invalid_input(client, simulator, name, description):
    instance = simulator.add_instance("cass-1")

    with pytest.raises(InvalidRequest) as raised:
        client.create_backup(instance["id"], name, description)

    assert raised.value.error_code == "DBS.200001"
    assert raised.value.status == 400
    assert simulator.backups() == []


def test_create_backup_of_unknown_instance(client, simulator):
    with pytest.raises(InstanceNotFound) as raised:
        client.create_backup("0123456789abcdef0123456789abcdefin06", "backup-1", "x")

    assert raised.value.error_code == "DBS.200002"
    assert raised.value.status == 404


def test_create_backup_of_a_mongodb_instance_is_refused(client, simulator):
    instance = simulator.add_instance("mongo-1", datastore_type="mongodb")

    with pytest.raises(InvalidRequest) as raised:
        client.create_backup(instance["id"], "backup-1", "x")

    assert raised.value.error_code == "DBS.280347"


@pytest.mark.parametrize("busy_code", ["DBS.201015", "DBS.200019"])
def test_create_backup_while_another_runs_is_busy(client, simulator, busy_code):
    simulator.configure(busy_error_code=busy_code, jobs_never_finish=True)
    instance = simulator.add_instance("cass-1")
    client.create_backup(instance["id"], "first-one", "x")

    with pytest.raises(InstanceBusy) as raised:
        client.create_backup(instance["id"], "second-one", "x")

    assert raised.value.error_code == busy_code
    assert raised.value.status == 403
    assert not raised.value.retryable


def test_create_backup_of_a_frozen_instance_is_busy(client, simulator):
    instance = simulator.add_instance("cass-1", status="frozen")

    with pytest.raises(InstanceBusy):
        client.create_backup(instance["id"], "backup-1", "x")


def test_job_progress_then_completion(client, simulator):
    simulator.configure(jobs_never_finish=True)
    instance = simulator.add_instance("cass-1")
    created = client.create_backup(instance["id"], "backup-1", "x")

    running = client.get_job(created.job_id)
    assert running.is_running
    assert running.name == "BackupInstance"
    assert isinstance(running.progress, int)
    assert 0 <= running.progress < 100
    assert running.instance_id == instance["id"]
    assert running.instance_name == "cass-1"
    assert running.start_time.tzinfo is not None

    simulator.finish_backup(created.backup_id)
    done = client.get_job(created.job_id)
    assert done.is_completed
    assert done.progress is None
    assert done.end_time is not None
    backup = client.get_backup(created.backup_id)
    assert backup.is_completed
    assert backup.size_kb > 0
    assert backup.end_time is not None


def test_failed_job_carries_its_reason(client, simulator):
    simulator.configure(jobs_never_finish=True)
    instance = simulator.add_instance("cass-1")
    created = client.create_backup(instance["id"], "backup-1", "x")

    simulator.finish_backup(created.backup_id, status="FAILED", fail_reason="Disk on fire.")

    job = client.get_job(created.job_id)
    assert job.is_failed
    assert job.fail_reason == "Disk on fire."
    assert client.get_backup(created.backup_id).is_failed


def test_unknown_job_is_none(client, simulator):
    assert client.get_job("6f85e061-04dd-42e7-86d6-d3b1e40aac2e") is None


def test_backup_followed_through_the_backup_list_when_jobs_are_unlisted(client, simulator):
    simulator.configure(backup_jobs_listed=False, jobs_never_finish=True)
    instance = simulator.add_instance("cass-1")
    created = client.create_backup(instance["id"], "backup-1", "x")

    assert client.get_job(created.job_id) is None
    assert client.list_jobs() == []
    assert client.get_backup(created.backup_id).is_building

    simulator.finish_backup(created.backup_id)
    assert client.get_backup(created.backup_id).is_completed


def test_list_jobs_reads_every_page_and_filters(client, simulator, monkeypatch):
    monkeypatch.setattr(client_module, "JOBS_PAGE", 10)
    simulator.configure(jobs_never_finish=True)
    created = [client.create_backup(simulator.add_instance(f"cass-{n}")["id"], f"backup-{n}", "x") for n in range(12)]
    simulator.finish_backup(created[0].backup_id)

    jobs = client.list_jobs()
    running = client.list_jobs(status="Running")
    completed = client.list_jobs(status="Completed")

    assert {j.id for j in jobs} == {c.job_id for c in created}
    assert len(running) == 11
    assert [j.id for j in completed] == [created[0].job_id]
    assert client.list_jobs(name="RestartInstance") == []


def test_list_jobs_within_a_window(client, simulator):
    instance = simulator.add_instance("cass-1")
    created = client.create_backup(instance["id"], "backup-1", "x")
    now = datetime.now(UTC)

    assert [
        j.id for j in client.list_jobs(start_time=now - timedelta(hours=1), end_time=now + timedelta(minutes=1))
    ] == [created.job_id]
    assert client.list_jobs(start_time=now - timedelta(days=2), end_time=now - timedelta(days=1)) == []
    with pytest.raises(ValueError, match="30 days"):
        client.list_jobs(start_time=now - timedelta(days=31))


def test_list_backups_get_backup_and_find_by_name(client, simulator, monkeypatch):
    monkeypatch.setattr(client_module, "BACKUPS_PAGE", 2)
    simulator.configure(job_seconds=0)
    first = simulator.add_instance("cass-1")
    second = simulator.add_instance("cass-2")
    made = {}
    for name in ("Nightly-1", "nightly-1", "weekly-1"):
        made[name] = client.create_backup(first["id"], name, "x")
    made["other"] = client.create_backup(second["id"], "Nightly-1", "x")

    everything = client.list_backups()
    of_first = client.list_backups(instance_id=first["id"], backup_type="Manual")

    assert {b.id for b in everything} == {c.backup_id for c in made.values()}
    assert {b.name for b in of_first} == {"Nightly-1", "nightly-1", "weekly-1"}
    assert client.list_backups(backup_type="Auto") == []
    assert client.get_backup(made["weekly-1"].backup_id).name == "weekly-1"
    assert client.get_backup("0000000000000000000000000000000000in06") is None
    # Exact and case-sensitive, and only the instance's own backups.
    assert client.find_backup_by_name(first["id"], "Nightly-1").id == made["Nightly-1"].backup_id
    assert client.find_backup_by_name(second["id"], "Nightly-1").id == made["other"].backup_id
    assert client.find_backup_by_name(first["id"], "nightly") is None


def test_list_backups_within_a_window(client, simulator):
    instance = simulator.add_instance("cass-1")
    created = client.create_backup(instance["id"], "backup-1", "x")
    now = datetime.now(UTC)

    assert [
        b.id for b in client.list_backups(begin_time=now - timedelta(hours=1), end_time=now + timedelta(hours=1))
    ] == [created.backup_id]
    with pytest.raises(ValueError, match="together"):
        client.list_backups(begin_time=now)
