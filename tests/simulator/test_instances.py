"""GET /v3/{project_id}/instances: filters, paging and what a running backup shows."""

import pytest


def _list(simulator, token, **params):
    response = simulator.api("GET", f"/v3/{simulator.project_id}/instances", token, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_datastore_type_filter_keeps_only_cassandra(simulator):
    cassandra = {simulator.add_instance(f"cassandra-{n}")["id"] for n in range(3)}
    simulator.add_instance("docs-mongo", datastore_type="mongodb")
    simulator.add_instance("cache-redis", datastore_type="redis")
    token = simulator.token()

    everything = _list(simulator, token)
    only_cassandra = _list(simulator, token, datastore_type="cassandra")

    assert everything["total_count"] == 5
    assert only_cassandra["total_count"] == 3
    assert {i["id"] for i in only_cassandra["instances"]} == cassandra
    assert {i["datastore"]["type"] for i in only_cassandra["instances"]} == {"cassandra"}


def test_offset_and_limit_page_through_newest_first(simulator):
    added = [simulator.add_instance(f"paged-{n}")["id"] for n in range(5)]
    token = simulator.token()

    pages = [_list(simulator, token, offset=offset, limit=2) for offset in (0, 2, 4)]

    assert [page["total_count"] for page in pages] == [5, 5, 5]
    assert [len(page["instances"]) for page in pages] == [2, 2, 1]
    listed = [i["id"] for page in pages for i in page["instances"]]
    assert listed == list(reversed(added))


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"offset": -1}], ids=["0", "101", "text", "offset"]
)
def test_invalid_paging_is_400_parameter_error(simulator, params):
    response = simulator.api("GET", f"/v3/{simulator.project_id}/instances", simulator.token(), params=params)

    assert response.status_code == 400
    assert response.json() == {"error_code": "DBS.200001", "error_msg": "Parameter error."}


def test_id_and_name_filters_are_exact_or_fuzzy_with_asterisk(simulator):
    orders = simulator.add_instance("orders-prod")
    simulator.add_instance("orders-staging")
    simulator.add_instance("telemetry")
    token = simulator.token()

    assert [i["name"] for i in _list(simulator, token, name="orders-prod")["instances"]] == ["orders-prod"]
    assert _list(simulator, token, name="*orders")["total_count"] == 2
    assert _list(simulator, token, name="orders")["total_count"] == 0
    assert [i["name"] for i in _list(simulator, token, id=orders["id"])["instances"]] == ["orders-prod"]
    assert _list(simulator, token, id=f"*{orders['id'][5:20]}")["total_count"] == 1


def test_vpc_and_subnet_filters(simulator):
    instance = simulator.add_instance("networked")
    token = simulator.token()

    assert _list(simulator, token, vpc_id=instance["vpc_id"])["total_count"] == 1
    assert _list(simulator, token, subnet_id=instance["subnet_id"])["total_count"] == 1
    assert _list(simulator, token, vpc_id="00000000-0000-0000-0000-000000000000")["total_count"] == 0


def test_mode_is_ignored_without_datastore_type(simulator):
    simulator.add_instance("cluster-one")
    token = simulator.token()

    assert _list(simulator, token, mode="ReplicaSet")["total_count"] == 1
    assert _list(simulator, token, mode="ReplicaSet", datastore_type="cassandra")["total_count"] == 0
    assert _list(simulator, token, mode="Cluster", datastore_type="cassandra")["total_count"] == 1


def test_projects_see_only_their_own_instances(simulator):
    simulator.add_instance("in-first")
    simulator.add_instance("in-second", project_id=simulator.second_project_id)

    first = _list(simulator, simulator.token())
    second = simulator.api(
        "GET", f"/v3/{simulator.second_project_id}/instances", simulator.token(simulator.second_project_id)
    ).json()

    assert [i["name"] for i in first["instances"]] == ["in-first"]
    assert [i["name"] for i in second["instances"]] == ["in-second"]


def test_status_and_actions_follow_the_instance(simulator):
    instance = simulator.add_instance("moving-parts")
    token = simulator.token()
    simulator.configure(job_seconds=600)

    created = simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance['id']}/backups",
        token,
        json={"name": "nightly", "description": "manual backup"},
    ).json()
    during = _list(simulator, token)["instances"][0]
    simulator.finish_backup(created["backup_id"])
    after = _list(simulator, token)["instances"][0]
    simulator.set_instance_status(instance["id"], "frozen")
    frozen = _list(simulator, token)["instances"][0]

    assert instance["actions"] == []
    assert during["status"] == "normal"
    assert during["actions"] == ["BACKUP"]
    assert after["actions"] == []
    assert frozen["status"] == "frozen"


def test_creating_instance_shows_create_action_and_creating_nodes(simulator):
    instance = simulator.add_instance("brand-new", status="creating")

    assert instance["actions"] == ["CREATE"]
    assert instance["groups"][0]["status"] == "creating"
    assert {node["status"] for node in instance["groups"][0]["nodes"]} == {"creating"}


def test_deleted_instance_disappears(simulator):
    instance = simulator.add_instance("short-lived")
    token = simulator.token()

    simulator.delete_instance(instance["id"])

    assert _list(simulator, token)["total_count"] == 0
