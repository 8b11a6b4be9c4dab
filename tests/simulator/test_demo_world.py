"""The seeded demo world (``--world demo``): what a dashboard demo starts with.

These tests only read, or make calls the simulator refuses, so the shared process stays as seeded.
"""

import re
import time
from collections import Counter

import pytest


@pytest.fixture(scope="module")
def world(demo_simulator):
    """Instances and backups of both demo projects, read once through the cloud API."""
    seen = {}
    for project_id in (demo_simulator.project_id, demo_simulator.second_project_id):
        token = demo_simulator.token(project_id)
        instances = demo_simulator.api("GET", f"/v3/{project_id}/instances", token).json()["instances"]
        backups = demo_simulator.api("GET", f"/v3.1/{project_id}/backups", token).json()["backups"]
        seen[project_id] = {"token": token, "instances": instances, "backups": backups}
    return seen


def _all(world, key):
    return [item for project in world.values() for item in project[key]]


def test_demo_has_twelve_cassandra_instances_in_two_projects(world):
    cassandra = [i for i in _all(world, "instances") if i["datastore"]["type"] == "cassandra"]
    statuses = Counter(i["status"] for i in cassandra)

    assert len(cassandra) == 12
    assert all(project["instances"] for project in world.values())
    assert statuses["normal"] >= 7
    assert {"abnormal", "frozen", "creating", "data_disk_full"} <= set(statuses)
    assert all(re.fullmatch(r"[0-9a-f]{32}in06", i["id"]) for i in cassandra)
    assert {"orders-prod", "telemetry-eu", "sessions-cache"} <= {i["name"] for i in cassandra}


def test_demo_has_other_database_types_a_cassandra_dashboard_filters_out(demo_simulator, world):
    others = {i["datastore"]["type"] for i in _all(world, "instances")} - {"cassandra"}
    token = world[demo_simulator.project_id]["token"]
    filtered = demo_simulator.api(
        "GET", f"/v3/{demo_simulator.project_id}/instances", token, params={"datastore_type": "cassandra"}
    ).json()

    assert others == {"mongodb", "redis", "influxdb"}
    assert {i["datastore"]["type"] for i in filtered["instances"]} == {"cassandra"}


def test_demo_has_ten_days_of_mostly_completed_auto_and_some_manual_backups(world):
    backups = _all(world, "backups")
    statuses = Counter(b["status"] for b in backups)
    types = Counter(b["type"] for b in backups)
    cutoff = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() - 11 * 24 * 3600))

    assert len({b["instance_id"] for b in backups if b["type"] == "Auto"}) >= 5
    assert types["Manual"] >= 2
    # One seeded failure; a window that opens while the tests run may add another.
    assert statuses["FAILED"] >= 1
    assert statuses["COMPLETED"] > 0.9 * len(backups)
    assert all(b["begin_time"] > cutoff for b in backups)
    assert all(b["size"] > 0 for b in backups if b["status"] == "COMPLETED")


def test_demo_has_an_automated_backup_running_that_blocks_a_manual_one(demo_simulator, world):
    analytics = world[demo_simulator.second_project_id]
    [instance] = [i for i in analytics["instances"] if i["name"] == "metrics-rollup"]
    # Other instances' windows may be open too, depending on the time of day.
    [running] = [b for b in analytics["backups"] if b["status"] == "BUILDING" and b["instance_id"] == instance["id"]]

    response = demo_simulator.api(
        "POST",
        f"/v3/{demo_simulator.second_project_id}/instances/{instance['id']}/backups",
        analytics["token"],
        json={"name": "while-busy", "description": ""},
    )

    assert running["type"] == "Auto"
    assert instance["actions"] == ["BACKUP"]
    assert response.status_code == 403
    assert response.json()["error_code"] == "DBS.201015"


def test_demo_jobs_include_backups_and_other_operations(demo_simulator, world):
    token = world[demo_simulator.project_id]["token"]
    jobs = demo_simulator.api("GET", f"/v3/{demo_simulator.project_id}/jobs", token).json()

    names = Counter(job["name"] for job in jobs["jobs"])
    assert names["BackupInstance"] > 10
    assert {"CreateInstance", "RestartInstance"} <= set(names)
    assert jobs["jobs"][0]["status"] == "Running"


def _protection(demo_simulator, project_id, token, instance, backups, now):
    """The console's four cases, from what the cloud shows: off, unprotected, last failed, protected."""
    path = f"/v3.1/{project_id}/instances/{instance['id']}/backups/policy"
    policy = demo_simulator.api("GET", path, token).json()["backup_policy"]
    mine = [b for b in backups if b["instance_id"] == instance["id"] and b["end_time"]]
    day_ago = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(now - 24 * 3600))
    if policy["keep_days"] == 0:
        return "off"
    if not any(b["status"] == "COMPLETED" and b["end_time"] >= day_ago for b in mine):
        return "unprotected"
    if max(mine, key=lambda b: b["end_time"])["status"] == "FAILED":
        return "last failed"
    return "protected"


def test_demo_shows_every_protection_state(demo_simulator, world):
    now = demo_simulator.clock()["epoch"]
    states = {}
    for project_id, seen in world.items():
        for instance in seen["instances"]:
            if instance["datastore"]["type"] == "cassandra":
                states[instance["name"]] = _protection(
                    demo_simulator, project_id, seen["token"], instance, seen["backups"], now
                )

    assert states["sessions-cache"] == "off"
    assert states["reporting-eu"] == "unprotected"
    assert states["audit-log"] == "last failed"
    for name in ("orders-prod", "orders-staging", "telemetry-eu", "user-profiles", "clickstream-raw", "metrics-rollup"):
        assert states[name] == "protected", name


def test_demo_weekly_policy_is_read_back_as_configured(demo_simulator, world):
    project_id = demo_simulator.second_project_id
    [instance] = [i for i in world[project_id]["instances"] if i["name"] == "reporting-eu"]

    policy = demo_simulator.policy(instance["id"], project_id)

    assert policy["keep_days"] == 7
    assert len(policy["period"]) == 1
    assert policy["start_time"] == "01:00-02:00"
