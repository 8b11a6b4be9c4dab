"""Fault injection, rate limiting, call counters and the admin API's own behaviour."""

import time

import pytest
import requests


def _create(simulator, token, instance_id, name="nightly"):
    return simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance_id}/backups",
        token,
        json={"name": name, "description": "manual backup"},
    )


def _instances(simulator, token):
    return simulator.api("GET", f"/v3/{simulator.project_id}/instances", token)


def test_error_rate_one_answers_500_system_busy_and_creates_nothing(simulator):
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    simulator.configure(error_rate=1)

    listed = _instances(simulator, token)
    created = _create(simulator, token, instance["id"])

    busy = {"error_code": "DBS.200998", "error_msg": "The system is busy. Try again later."}
    assert (listed.status_code, listed.json()) == (500, busy)
    assert (created.status_code, created.json()) == (500, busy)
    assert simulator.backups() == []


def test_throttle_rate_one_answers_429_apig_0308(simulator):
    token = simulator.token()
    simulator.configure(throttle_rate=1)

    response = _instances(simulator, token)

    assert response.status_code == 429
    body = response.json()
    assert body["error_code"] == "APIG.0308"
    assert "throttling threshold" in body["error_msg"]


def test_dropped_create_leaves_the_client_guessing_but_the_backup_exists(simulator):
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    simulator.configure(drop_connection_after_create=1, job_seconds=0)

    with pytest.raises(requests.ConnectionError):
        _create(simulator, token, instance["id"], name="ambiguous")
    [backup] = simulator.backups(instance["id"])
    again = _create(simulator, token, instance["id"], name="answered")

    assert backup["name"] == "ambiguous"
    assert again.status_code == 202
    assert simulator.state()["config"]["drop_connection_after_create"] == 0
    assert simulator.counters()["by_status"]["dropped"] == 1


def test_stale_backup_lists_leave_out_backups_still_being_made_then_catch_up(simulator):
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    assert _create(simulator, token, instance["id"], name="nightly").status_code == 202
    simulator.configure(stale_backup_lists=1)

    def listed():
        path = f"/v3.1/{simulator.project_id}/backups?instance_id={instance['id']}"
        return [b["name"] for b in simulator.api("GET", path, token).json()["backups"]]

    assert listed() == []  # the lagging answer: the create is not listed yet
    assert listed() == ["nightly"]  # and the next one has caught up
    assert simulator.configure()["stale_backup_lists"] == 0


def test_refused_create_is_not_dropped(simulator):
    token = simulator.token()
    simulator.configure(drop_connection_after_create=1)

    response = _create(simulator, token, "0" * 32 + "in06")

    assert response.status_code == 404
    assert simulator.state()["config"]["drop_connection_after_create"] == 1


def test_drop_connection_rate_one_drops_reads_only(simulator):
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    simulator.configure(drop_connection_rate=1)

    with pytest.raises(requests.ConnectionError):
        _instances(simulator, token)
    assert _create(simulator, token, instance["id"]).status_code == 202


def test_latency_delays_cloud_calls_but_not_the_admin_api(simulator):
    token = simulator.token()
    simulator.configure(latency_ms=300)

    started = time.monotonic()
    assert _instances(simulator, token).status_code == 200
    api_seconds = time.monotonic() - started
    started = time.monotonic()
    simulator.state()
    admin_seconds = time.monotonic() - started

    assert api_seconds >= 0.3
    assert admin_seconds < 0.3


def test_rate_limit_allows_n_calls_per_minute_per_user(simulator):
    simulator.configure(rate_limit_per_minute=3)
    first, second = simulator.token(), simulator.token(simulator.second_project_id)

    answers = [
        _instances(simulator, first).status_code,
        _instances(simulator, first).status_code,
        simulator.api("GET", f"/v3/{simulator.second_project_id}/jobs", second).status_code,
    ]
    over = _instances(simulator, first)
    token_still_issued = simulator.token()

    assert answers == [200, 200, 200]
    assert over.status_code == 429
    assert over.json()["error_code"] == "APIG.0308"
    assert "limit:3" in over.json()["error_msg"]
    assert token_still_issued


def test_counters_count_calls_by_kind_and_status(simulator):
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"]).json()
    _create(simulator, token, instance["id"], name="second")  # 403: the first one still runs
    _instances(simulator, None)
    simulator.api("GET", f"/v3/{simulator.project_id}/jobs", token, params={"id": created["job_id"]})
    simulator.api("GET", f"/v3/{simulator.project_id}/jobs", token)
    simulator.api("GET", f"/v3.1/{simulator.project_id}/backups", token)

    counters = simulator.counters()

    assert counters["by_kind"] == {
        "token": 1,
        "list_instances": 1,
        "create_backup": 2,
        "get_job": 1,
        "list_jobs": 1,
        "list_backups": 1,
        "get_backup_policy": 0,
        "set_backup_policy": 0,
        "create_instance": 0,
        "delete_instance": 0,
        "restorable_time_periods": 0,
    }
    assert counters["by_status"] == {"201": 1, "202": 1, "403": 1, "401": 1, "200": 3}


def test_config_returns_every_setting_and_refuses_bad_values(simulator):
    config = simulator.configure(job_seconds=5)
    unknown = requests.post(f"{simulator.url}/_sim/config", json={"jobs_seconds": 5}, timeout=10)
    out_of_range = requests.post(f"{simulator.url}/_sim/config", json={"error_rate": 2}, timeout=10)

    assert config == {
        "job_seconds": 5.0,
        "failure_rate": 0.0,
        "token_ttl": 86400,
        "rate_limit_per_minute": 0,
        "backup_jobs_listed": True,
        "latency_ms": 0,
        "error_rate": 0.0,
        "throttle_rate": 0.0,
        "drop_connection_after_create": 0,
        "drop_connection_rate": 0.0,
        "stale_backup_lists": 0,
        "jobs_never_finish": False,
        "busy_error_code": "DBS.201015",
        "automated_backups": False,
        "auto_backup_jobs_listed": True,
        "restore_seconds_per_gb": 0.02,
        "delete_seconds": 1.0,
        "restore_failure_rate": 0.0,
        "drop_connection_after_instance_create": 0,
        "drop_connection_after_instance_delete": 0,
    }
    assert unknown.status_code == out_of_range.status_code == 400
    assert "jobs_seconds" in unknown.json()["error"]
    assert simulator.state()["config"]["error_rate"] == 0


def test_reset_restores_the_starting_world(simulator):
    simulator.add_instance("orders-prod")
    token = simulator.token()
    simulator.configure(error_rate=1, job_seconds=99)

    state = simulator.reset()

    assert state["instances"] == []
    assert state["config"]["error_rate"] == 0
    assert state["config"]["job_seconds"] == 2
    assert state["counters"]["by_status"] == {}
    assert _instances(simulator, token).status_code == 401


def test_admin_errors_name_the_problem(simulator):
    missing = requests.patch(f"{simulator.url}/_sim/instances/nope", json={"status": "frozen"}, timeout=10)
    instance = simulator.add_instance("orders-prod")
    bad_status = requests.patch(
        f"{simulator.url}/_sim/instances/{instance['id']}", json={"status": "sleeping"}, timeout=10
    )
    bad_type = requests.post(
        f"{simulator.url}/_sim/instances", json={"name": "x", "datastore_type": "oracle"}, timeout=10
    )

    assert missing.status_code == 404
    assert bad_status.status_code == 400
    assert bad_type.status_code == 400
    assert "datastore_type" in bad_type.json()["error"]


def test_finishing_an_ended_backup_is_409(simulator):
    simulator.configure(job_seconds=0)
    instance = simulator.add_instance("orders-prod")
    created = _create(simulator, simulator.token(), instance["id"]).json()

    response = requests.post(f"{simulator.url}/_sim/backups/{created['backup_id']}/finish", timeout=10)

    assert response.status_code == 409
