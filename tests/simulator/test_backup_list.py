"""GET /v3.1/{project_id}/backups: statuses, sizes, filters and paging."""

import re
from datetime import UTC, datetime, timedelta

import pytest

API_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000")


def _create(simulator, token, instance_id, name="nightly"):
    response = simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance_id}/backups",
        token,
        json={"name": name, "description": "before the release"},
    )
    assert response.status_code == 202, response.text
    return response.json()


def _backups(simulator, token, expected_status=200, **params):
    response = simulator.api("GET", f"/v3.1/{simulator.project_id}/backups", token, params=params)
    assert response.status_code == expected_status, response.text
    return response.json()


def test_backup_is_building_then_completed_with_a_size_in_kb(simulator):
    simulator.configure(job_seconds=600)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"])

    [building] = _backups(simulator, token)["backups"]
    simulator.finish_backup(created["backup_id"])
    [completed] = _backups(simulator, token)["backups"]

    assert building["id"] == created["backup_id"]
    assert (building["status"], building["size"], building["end_time"]) == ("BUILDING", 0, "")
    assert completed["status"] == "COMPLETED"
    assert API_TIME.fullmatch(completed["begin_time"])
    assert API_TIME.fullmatch(completed["end_time"])
    used_kb = float(instance["groups"][0]["volume"]["used"]) * 1024 * 1024
    assert 0 < completed["size"] <= used_kb
    assert completed["type"] == "Manual"
    assert completed["name"] == "nightly"
    assert completed["description"] == "before the release"
    assert (completed["instance_id"], completed["instance_name"]) == (instance["id"], "orders-prod")
    assert completed["datastore"] == {"type": "cassandra", "version": "3.11"}


def test_failed_backup_is_failed_with_no_size(simulator):
    simulator.configure(job_seconds=600)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"])

    simulator.finish_backup(created["backup_id"], status="FAILED")

    [failed] = _backups(simulator, token)["backups"]
    assert (failed["status"], failed["size"]) == ("FAILED", 0)
    assert API_TIME.fullmatch(failed["end_time"])


def test_filters_by_instance_backup_id_and_type(simulator):
    simulator.configure(job_seconds=0)
    token = simulator.token()
    first = simulator.add_instance("first")
    second = simulator.add_instance("second")
    a = _create(simulator, token, first["id"], "first-a")
    b = _create(simulator, token, first["id"], "first-b")
    c = _create(simulator, token, second["id"], "second-a")

    def names(**params):
        return [backup["name"] for backup in _backups(simulator, token, **params)["backups"]]

    assert names() == ["second-a", "first-b", "first-a"]
    assert names(instance_id=first["id"]) == ["first-b", "first-a"]
    assert names(backup_id=b["backup_id"]) == ["first-b"]
    assert names(backup_type="Manual") == ["second-a", "first-b", "first-a"]
    assert names(backup_type="Auto") == []
    assert names(datastore_type="cassandra", instance_id=second["id"]) == ["second-a"]
    assert names(type="DatabaseTable") == []
    assert names(type="Instance", backup_id=a["backup_id"]) == ["first-a"]
    assert c["backup_id"] not in {
        backup["id"] for backup in _backups(simulator, token, instance_id=first["id"])["backups"]
    }


def test_offset_and_limit(simulator):
    simulator.configure(job_seconds=0)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    for n in range(5):
        _create(simulator, token, instance["id"], f"backup-{n}")

    page = _backups(simulator, token, offset=1, limit=2)

    assert page["total_count"] == 5
    assert [backup["name"] for backup in page["backups"]] == ["backup-3", "backup-2"]


def test_begin_and_end_time_filter_together(simulator):
    simulator.configure(job_seconds=0)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    _create(simulator, token, instance["id"])
    now = datetime.now(UTC)
    stamp = "%Y-%m-%dT%H:%M:%S+0000"

    # The page's own URI example puts "+0000" unencoded in the query; it must still work.
    raw_query = (
        f"/v3.1/{simulator.project_id}/backups?begin_time={(now - timedelta(hours=1)).strftime(stamp)}"
        f"&end_time={(now + timedelta(minutes=1)).strftime(stamp)}"
    )
    inside = simulator.api("GET", raw_query, token).json()
    earlier = _backups(
        simulator,
        token,
        begin_time=(now - timedelta(days=2)).strftime(stamp),
        end_time=(now - timedelta(days=1)).strftime(stamp),
    )

    assert inside["total_count"] == 1
    assert earlier["total_count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"begin_time": "2026-01-01T00:00:00+0000"},
        {"end_time": "2026-01-01T00:00:00+0000"},
        {"begin_time": "2026-01-02T00:00:00+0000", "end_time": "2026-01-01T00:00:00+0000"},
        {"begin_time": "last week", "end_time": "2026-01-01T00:00:00+0000"},
        {"backup_type": "manual"},
        {"type": "Table"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
    ],
    ids=[
        "begin-only",
        "end-only",
        "backwards",
        "malformed",
        "type-case",
        "policy-type",
        "limit-0",
        "limit-101",
        "offset",
    ],
)
def test_invalid_parameters_are_400(simulator, params):
    body = _backups(simulator, simulator.token(), expected_status=400, **params)

    assert body == {"error_code": "DBS.200001", "error_msg": "Parameter error."}


def test_projects_see_only_their_own_backups(simulator):
    simulator.configure(job_seconds=0)
    other = simulator.add_instance("elsewhere", project_id=simulator.second_project_id)
    other_token = simulator.token(simulator.second_project_id)
    simulator.api(
        "POST",
        f"/v3/{simulator.second_project_id}/instances/{other['id']}/backups",
        other_token,
        json={"name": "nightly", "description": ""},
    )

    assert _backups(simulator, simulator.token())["total_count"] == 0
    listed = simulator.api("GET", f"/v3.1/{simulator.second_project_id}/backups", other_token).json()
    assert listed["total_count"] == 1


def test_deleted_backup_leaves_the_list_but_its_job_stays(simulator):
    simulator.configure(job_seconds=0)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"])

    simulator.delete_backup(created["backup_id"])

    assert _backups(simulator, token)["total_count"] == 0
    jobs = simulator.api("GET", f"/v3/{simulator.project_id}/jobs", token, params={"id": created["job_id"]})
    assert jobs.json()["total_count"] == 1
