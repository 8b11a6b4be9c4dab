"""Creating (restoring to) and deleting instances, and the point-in-time window, over HTTP.

creating_an_instance.rst, deleting_an_instance.rst and
querying_the_time_window_when_a_backup_can_be_restored.rst; jobs as querying_tasks_and_details.rst
names them. Time is the simulator's clock, moved on with ``advance_clock``: nothing here waits.
"""

import copy
from datetime import UTC, datetime

import pytest
import requests

PASSWORD = "Restore-Pass1"
SPEC = "geminidb.cassandra.xlarge.4"
# creating_an_instance.rst, the example response.
CREATED_KEYS = {
    "id", "name", "datastore", "created", "status", "region", "availability_zone", "vpc_id", "subnet_id",
    "security_group_id", "mode", "flavor", "backup_strategy", "ssl_option", "job_id",
}  # fmt: skip
REMOVE = object()


def _body(simulator, name="restored-orders", backup_id=None, nodes=3, size=100, project_id=None):
    network = simulator.network(project_id)
    body = {
        "name": name,
        "datastore": {"type": "cassandra", "version": "3.11", "storage_engine": "rocksDB"},
        "region": "eu-de",
        "availability_zone": "eu-de-01,eu-de-02,eu-de-03",
        "vpc_id": network["vpc_id"],
        "subnet_id": network["subnet_ids"][1],
        "security_group_id": network["security_group_id"],
        "password": PASSWORD,
        "mode": "Cluster",
        "flavor": [{"num": nodes, "storage": "ULTRAHIGH", "size": size, "spec_code": SPEC}],
    }
    if backup_id:
        body["restore_info"] = {"backup_id": backup_id}
    return body


def _create(simulator, body, project_id=None):
    project_id = project_id or simulator.project_id
    return simulator.api("POST", f"/v3/{project_id}/instances", simulator.token(project_id), json=body)


def _delete(simulator, instance_id, project_id=None):
    project_id = project_id or simulator.project_id
    return simulator.api("DELETE", f"/v3/{project_id}/instances/{instance_id}", simulator.token(project_id))


def _listed(simulator, name):
    answer = simulator.api("GET", f"/v3/{simulator.project_id}/instances", simulator.token(), params={"name": name})
    return answer.json()["instances"]


def _job(simulator, job_id):
    answer = simulator.api("GET", f"/v3/{simulator.project_id}/jobs", simulator.token(), params={"id": job_id})
    return answer.json()["jobs"][0]


def _windows(simulator, instance_id, **params):
    path = f"/v3/{simulator.project_id}/instances/{instance_id}/backups/restorable-time-periods"
    return simulator.api("GET", path, simulator.token(), params=params)


def _completed_backup(simulator, instance_id, name="nightly"):
    created = simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance_id}/backups",
        simulator.token(),
        json={"name": name, "description": "manual backup"},
    ).json()
    return simulator.finish_backup(created["backup_id"])


@pytest.fixture
def source(simulator):
    """A 6-node, 500 GB instance with one completed backup."""
    instance = simulator.add_instance("orders-prod", node_count=6, volume_size_gb=500)
    return {"instance": instance, "backup": _completed_backup(simulator, instance["id"])}


def test_restore_answers_202_with_the_pages_body_and_a_creating_instance(simulator, source):
    simulator.configure(job_seconds=600)

    answer = _create(simulator, _body(simulator, backup_id=source["backup"]["id"], nodes=6, size=500))

    assert answer.status_code == 202, answer.text
    created = answer.json()
    assert set(created) == CREATED_KEYS
    assert (created["name"], created["status"], created["mode"]) == ("restored-orders", "creating", "Cluster")
    assert created["flavor"] == [{"num": "6", "size": "500", "storage": "ULTRAHIGH", "spec_code": SPEC}]
    assert created["datastore"] == {"type": "cassandra", "version": "3.11", "storage_engine": "rocksDB"}
    [listed] = _listed(simulator, "restored-orders")
    assert listed["id"] == created["id"]
    assert listed["status"] == "creating"
    assert listed["actions"] == ["CREATE", "RESTORE"]
    job = _job(simulator, created["job_id"])
    assert (job["name"], job["status"]) == ("RestoreNewInstance", "Running")
    assert job["instance"] == {"id": created["id"], "name": "restored-orders"}
    assert job["progress"].endswith("%")


def test_restored_instance_becomes_normal_when_its_job_completes(simulator, source):
    simulator.configure(job_seconds=600)
    created = _create(simulator, _body(simulator, backup_id=source["backup"]["id"], nodes=6, size=500)).json()

    simulator.advance_clock(3600)

    [listed] = _listed(simulator, "restored-orders")
    job = _job(simulator, created["job_id"])
    assert listed["status"] == "normal"
    assert listed["actions"] == []
    assert (job["status"], job["progress"], job["fail_reason"]) == ("Completed", "", "")


def test_the_list_shows_the_new_instances_specification(simulator, source):
    network = simulator.network()
    body = _body(simulator, backup_id=source["backup"]["id"], nodes=7, size=600)
    body["availability_zone"] = "eu-de-02"
    body["flavor"][0]["spec_code"] = "geminidb.cassandra.4xlarge.4"

    _create(simulator, body)

    [listed] = _listed(simulator, "restored-orders")
    [group] = listed["groups"]
    assert (listed["region"], listed["mode"], listed["engine"]) == ("eu-de", "Cluster", "rocksDB")
    assert (listed["vpc_id"], listed["subnet_id"]) == (network["vpc_id"], network["subnet_ids"][1])
    assert listed["security_group_id"] == network["security_group_id"]
    assert group["volume"]["size"] == "600"
    assert len(group["nodes"]) == 7
    assert {node["spec_code"] for node in group["nodes"]} == {"geminidb.cassandra.4xlarge.4"}
    assert {node["availability_zone"] for node in group["nodes"]} == {"eu-de-02"}


def test_an_empty_instance_is_created_by_a_create_instance_job(simulator):
    simulator.configure(job_seconds=600)

    created = _create(simulator, _body(simulator)).json()

    assert _job(simulator, created["job_id"])["name"] == "CreateInstance"
    assert _listed(simulator, "restored-orders")[0]["actions"] == ["CREATE"]


def test_a_bigger_backup_takes_longer_to_restore(simulator):
    small = simulator.add_instance("small-one")
    big = simulator.add_instance("big-one", volume_size_gb=2000)
    small_backup = _completed_backup(simulator, small["id"])
    big_backup = _completed_backup(simulator, big["id"])
    simulator.configure(job_seconds=0, restore_seconds_per_gb=100)
    sizes_gb = {b["id"]: b["size"] / 1024 / 1024 for b in _backups_listed(simulator)}
    assert sizes_gb[big_backup["id"]] > sizes_gb[small_backup["id"]]

    first = _create(simulator, _body(simulator, "from-small", small_backup["id"])).json()
    second = _create(simulator, _body(simulator, "from-big", big_backup["id"], size=2000)).json()
    simulator.advance_clock(sizes_gb[small_backup["id"]] * 100 + 1)

    assert _job(simulator, first["job_id"])["status"] == "Completed"
    assert _job(simulator, second["job_id"])["status"] == "Running"
    assert _listed(simulator, "from-big")[0]["status"] == "creating"
    simulator.advance_clock(sizes_gb[big_backup["id"]] * 100)
    assert _listed(simulator, "from-big")[0]["status"] == "normal"


def _backups_listed(simulator):
    return simulator.api("GET", f"/v3.1/{simulator.project_id}/backups", simulator.token()).json()["backups"]


def test_a_failing_restore_ends_createfail_with_the_jobs_reason(simulator, source):
    simulator.configure(restore_failure_rate=1, job_seconds=600)
    created = _create(simulator, _body(simulator, backup_id=source["backup"]["id"], nodes=6, size=500)).json()

    simulator.advance_clock(3600)

    job = _job(simulator, created["job_id"])
    assert _listed(simulator, "restored-orders")[0]["status"] == "createfail"
    assert job["status"] == "Failed"
    assert job["fail_reason"]


def test_a_dropped_answer_after_the_create_leaves_exactly_one_instance(simulator, source):
    simulator.configure(drop_connection_after_instance_create=1)
    body = _body(simulator, backup_id=source["backup"]["id"], nodes=6, size=500)

    with pytest.raises(requests.ConnectionError):
        _create(simulator, body)

    assert len(_listed(simulator, "restored-orders")) == 1
    assert simulator.state()["config"]["drop_connection_after_instance_create"] == 0
    assert simulator.counters()["by_status"]["dropped"] == 1


def test_the_same_name_twice_makes_two_instances_as_the_page_allows(simulator):
    # creating_an_instance.rst: "Instance name, which can be the same as an existing instance name."
    assert _create(simulator, _body(simulator)).status_code == 202
    assert _create(simulator, _body(simulator)).status_code == 202

    assert len(_listed(simulator, "restored-orders")) == 2


def _changed(body, path, value):
    body = copy.deepcopy(body)
    *parents, last = path
    target = body
    for key in parents:
        target = target[key]
    if value is REMOVE:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        (("name",), "abc", "DBS.280234"),
        (("name",), "1-starts-with-a-digit", "DBS.280234"),
        (("name",), "a" * 65, "DBS.280234"),
        (("name",), "has space", "DBS.280234"),
        (("name",), REMOVE, "DBS.200001"),
        (("datastore",), REMOVE, "DBS.280269"),
        (("datastore", "type"), "mongodb", "DBS.280235"),
        (("datastore", "version"), "4.0", "DBS.280236"),
        (("datastore", "storage_engine"), "innodb", "DBS.280122"),
        (("region",), "eu-nl", "DBS.200024"),
        (("availability_zone",), "eu-de-04", "DBS.280244"),
        (("availability_zone",), "eu-de-01,eu-de-02", "DBS.280244"),
        (("vpc_id",), "00000000-0000-0000-0000-000000000000", "DBS.280247"),
        (("subnet_id",), "00000000-0000-0000-0000-000000000000", "DBS.280248"),
        (("security_group_id",), "00000000-0000-0000-0000-000000000000", "DBS.280249"),
        (("password",), "Short-1", "DBS.280465"),
        (("password",), "A" * 16 + "a" * 16 + "-1", "DBS.280465"),
        (("password",), "no-capitals-1", "DBS.280465"),
        (("password",), "No-Digits-Here", "DBS.280465"),
        (("password",), "NoSpecials123", "DBS.280465"),
        (("password",), "Bad$Char-123", "DBS.280200"),
        (("password",), REMOVE, "DBS.200001"),
        (("mode",), "ReplicaSet", "DBS.280342"),
        (("flavor",), {"num": 3}, "DBS.200001"),
        (("flavor", 0, "num"), 2, "DBS.280123"),
        (("flavor", 0, "num"), 201, "DBS.280123"),
        (("flavor", 0, "num"), "three", "DBS.200001"),
        (("flavor", 0, "size"), 0, "DBS.280242"),
        (("flavor", 0, "size"), 12.5, "DBS.200001"),
        (("flavor", 0, "storage"), "COMMON", "DBS.280241"),
        (("flavor", 0, "spec_code"), "geminidb.cassandra.huge.1", "DBS.280239"),
        (("backup_strategy",), {"start_time": "08:10-09:10"}, "DBS.280067"),
        (("backup_strategy",), {"start_time": "08:00-10:00"}, "DBS.280416"),
        (("backup_strategy",), {"start_time": "08:00-09:00", "keep_days": 36}, "DBS.280214"),
        (("restore_info",), {"backup_id": "0" * 32 + "in06"}, "DBS.201214"),
        (("restore_info",), {}, "DBS.301024"),
        (("restore_info",), {"source_instance_id": "0" * 32 + "in06", "restore_time": 1607731200000}, "DBS.301024"),
    ],
)
def test_invalid_requests_are_refused_with_the_fields_code_and_create_nothing(simulator, path, value, code):
    simulator.add_instance("already-here")

    answer = _create(simulator, _changed(_body(simulator), path, value))

    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == code
    assert answer.json()["error_msg"]
    assert [i["name"] for i in simulator.instances()] == ["already-here"]
    assert simulator.state()["jobs"] == []


def test_valid_variants_are_accepted(simulator):
    body = _body(simulator, nodes="200", size="100")
    body["availability_zone"] = "eu-de-03"
    body["password"] = "~!@#%^*-_=+?aA1" + "x" * 17
    body["backup_strategy"] = {"start_time": "23:45-00:45", "keep_days": "0"}
    body["ssl_option"] = "1"

    answer = _create(simulator, body)

    assert answer.status_code == 202, answer.text
    assert answer.json()["backup_strategy"] == {"start_time": "23:45-00:45", "keep_days": "0"}


@pytest.mark.parametrize(
    ("nodes", "size", "code"), [(5, 500, "DBS.280123"), (6, 499, "DBS.280266")], ids=["fewer-nodes", "less-storage"]
)
def test_a_restore_needs_at_least_the_sources_nodes_and_storage(simulator, source, nodes, size, code):
    answer = _create(simulator, _body(simulator, backup_id=source["backup"]["id"], nodes=nodes, size=size))

    assert (answer.status_code, answer.json()["error_code"]) == (400, code)
    assert len(simulator.instances()) == 1


def test_the_sources_size_when_backed_up_counts_even_after_it_is_gone(simulator, source):
    simulator.delete_instance(source["instance"]["id"])

    smaller = _create(simulator, _body(simulator, backup_id=source["backup"]["id"], nodes=3, size=100))
    enough = _create(simulator, _body(simulator, backup_id=source["backup"]["id"], nodes=6, size=500))

    assert smaller.json()["error_code"] == "DBS.280123"
    assert enough.status_code == 202


@pytest.mark.parametrize("ending", ["running", "failed"])
def test_only_a_completed_backup_can_be_restored(simulator, ending):
    instance = simulator.add_instance("orders-prod")
    simulator.configure(job_seconds=600)
    created = simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance['id']}/backups",
        simulator.token(),
        json={"name": "nightly", "description": "manual backup"},
    ).json()
    if ending == "failed":
        simulator.finish_backup(created["backup_id"], status="FAILED")

    answer = _create(simulator, _body(simulator, backup_id=created["backup_id"]))

    assert (answer.status_code, answer.json()["error_code"]) == (400, "DBS.280124")


def test_another_projects_backup_is_not_found(simulator):
    other = simulator.add_instance("elsewhere", project_id=simulator.second_project_id)
    token = simulator.token(simulator.second_project_id)
    created = simulator.api(
        "POST",
        f"/v3/{simulator.second_project_id}/instances/{other['id']}/backups",
        token,
        json={"name": "nightly", "description": "manual backup"},
    ).json()
    simulator.finish_backup(created["backup_id"])

    answer = _create(simulator, _body(simulator, backup_id=created["backup_id"]))

    assert (answer.status_code, answer.json()["error_code"]) == (400, "DBS.201214")


def test_delete_answers_202_with_a_job_and_the_instance_goes_when_it_ends(simulator):
    instance = simulator.add_instance("temporary")
    simulator.configure(delete_seconds=600)

    answer = _delete(simulator, instance["id"])

    assert answer.status_code == 202
    assert set(answer.json()) == {"job_id"}
    job = _job(simulator, answer.json()["job_id"])
    assert (job["name"], job["status"]) == ("DeleteInstance", "Running")
    assert len(_listed(simulator, "temporary")) == 1
    simulator.advance_clock(601)
    assert _listed(simulator, "temporary") == []
    assert _job(simulator, answer.json()["job_id"])["status"] == "Completed"


def test_delete_is_refused_while_another_job_runs(simulator):
    simulator.configure(job_seconds=600, delete_seconds=600)
    created = _create(simulator, _body(simulator)).json()
    instance = simulator.add_instance("deleting")
    _delete(simulator, instance["id"])

    while_creating = _delete(simulator, created["id"])
    while_deleting = _delete(simulator, instance["id"])

    assert (while_creating.status_code, while_creating.json()["error_code"]) == (403, "DBS.201015")
    assert (while_deleting.status_code, while_deleting.json()["error_code"]) == (403, "DBS.201015")


def test_a_failed_restore_can_be_deleted(simulator, source):
    simulator.configure(restore_failure_rate=1)
    created = _create(simulator, _body(simulator, backup_id=source["backup"]["id"], nodes=6, size=500)).json()
    simulator.advance_clock(3600)

    answer = _delete(simulator, created["id"])

    assert answer.status_code == 202


def test_deleting_an_unknown_gone_or_foreign_instance_is_404(simulator):
    simulator.configure(delete_seconds=0)
    gone = simulator.add_instance("gone-soon")
    foreign = simulator.add_instance("foreign", project_id=simulator.second_project_id)
    _delete(simulator, gone["id"])

    answers = [_delete(simulator, instance_id) for instance_id in ("0" * 32 + "in06", gone["id"], foreign["id"])]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {a.json()["error_code"] for a in answers} == {"DBS.200002"}
    assert [i["name"] for i in simulator.instances()] == ["foreign"]


def test_a_dropped_answer_after_a_delete_still_deletes(simulator):
    instance = simulator.add_instance("temporary")
    simulator.configure(drop_connection_after_instance_delete=1, delete_seconds=0)

    with pytest.raises(requests.ConnectionError):
        _delete(simulator, instance["id"])

    assert _listed(simulator, "temporary") == []


def test_no_window_without_a_completed_backup(simulator):
    instance = simulator.add_instance("orders-prod")

    answer = _windows(simulator, instance["id"])

    assert answer.status_code == 200
    assert answer.json() == {"total_count": 0, "restorable_time_periods": []}


def test_the_window_runs_from_the_oldest_completed_backup_to_now(simulator, source):
    backup_end_ms = int(source["backup"]["ended_at_epoch"] * 1000)
    simulator.advance_clock(3600)
    _completed_backup(simulator, source["instance"]["id"], name="later")

    answer = _windows(simulator, source["instance"]["id"]).json()

    [period] = answer["restorable_time_periods"]
    assert answer["total_count"] == 1
    assert period["start_time"] == backup_end_ms
    assert period["end_time"] >= backup_end_ms + 3600 * 1000
    assert len(str(period["start_time"])) == 13


def test_start_and_end_time_narrow_the_window(simulator, source):
    backup_end = source["backup"]["ended_at_epoch"]
    simulator.advance_clock(7200)
    start = _query_time(backup_end + 600)
    end = _query_time(backup_end + 1200)

    narrowed = _windows(simulator, source["instance"]["id"], start_time=start, end_time=end).json()
    before = _windows(simulator, source["instance"]["id"], end_time=_query_time(backup_end - 600)).json()
    backwards = _windows(simulator, source["instance"]["id"], start_time=end, end_time=start)

    [period] = narrowed["restorable_time_periods"]
    assert period["end_time"] - period["start_time"] == 600 * 1000
    assert before == {"total_count": 0, "restorable_time_periods": []}
    assert backwards.status_code == 400


def _query_time(epoch):
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def test_windows_of_unknown_or_non_cassandra_instances_are_refused(simulator):
    mongo = simulator.add_instance("documents", datastore_type="mongodb")

    unknown = _windows(simulator, "0" * 32 + "in06")
    not_cassandra = _windows(simulator, mongo["id"])

    assert (unknown.status_code, unknown.json()["error_code"]) == (404, "DBS.200002")
    assert (not_cassandra.status_code, not_cassandra.json()["error_code"]) == (400, "DBS.280347")


def test_point_in_time_restore_inside_the_window_is_accepted(simulator, source):
    simulator.advance_clock(3600)
    [period] = _windows(simulator, source["instance"]["id"]).json()["restorable_time_periods"]
    body = _body(simulator, nodes=6, size=500)
    body["restore_info"] = {
        "source_instance_id": source["instance"]["id"],
        "restore_time": (period["start_time"] + period["end_time"]) // 2,
    }

    answer = _create(simulator, body)

    assert answer.status_code == 202, answer.text
    assert _job(simulator, answer.json()["job_id"])["name"] == "RestoreNewInstance"


@pytest.mark.parametrize("when", ["before", "after"])
def test_point_in_time_restore_outside_the_window_is_refused(simulator, source, when):
    [period] = _windows(simulator, source["instance"]["id"]).json()["restorable_time_periods"]
    restore_time = period["start_time"] - 1 if when == "before" else period["end_time"] + 3_600_000
    body = _body(simulator, nodes=6, size=500)
    body["restore_info"] = {"source_instance_id": source["instance"]["id"], "restore_time": restore_time}

    answer = _create(simulator, body)

    assert (answer.status_code, answer.json()["error_code"]) == (400, "DBS.201215")


def test_point_in_time_restore_needs_a_cluster_instance(simulator):
    mongo = simulator.add_instance("documents", datastore_type="mongodb")
    body = _body(simulator)
    body["restore_info"] = {"source_instance_id": mongo["id"], "restore_time": 1607731200000}

    answer = _create(simulator, body)

    assert (answer.status_code, answer.json()["error_code"]) == (400, "DBS.301024")
