"""GET /v3/{project_id}/jobs: one job's progress and outcome, and the filtered job list."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.simulator import wait_until

API_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000")


def _create(simulator, token, instance_id, name="nightly"):
    response = simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance_id}/backups",
        token,
        json={"name": name, "description": "manual backup"},
    )
    assert response.status_code == 202, response.text
    return response.json()


def _jobs(simulator, token, expected_status=200, **params):
    response = simulator.api("GET", f"/v3/{simulator.project_id}/jobs", token, params=params)
    assert response.status_code == expected_status, response.text
    return response.json()


def _job(simulator, token, job_id):
    [job] = _jobs(simulator, token, id=job_id)["jobs"]
    return job


def _ended(job):
    """The job if it has ended, else None (for ``wait_until``)."""
    return job if job["status"] != "Running" else None


def _query_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_job_runs_with_rising_progress_then_completes(simulator):
    simulator.configure(job_seconds=1.5)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"])

    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        job = _job(simulator, token, created["job_id"])
        seen.append(job)
        if job["status"] != "Running":
            break
        time.sleep(0.1)

    running, final = seen[:-1], seen[-1]
    progress = [int(job["progress"].rstrip("%")) for job in running]
    assert len(running) >= 3
    assert all(re.fullmatch(r"\d{1,2}%", job["progress"]) for job in running)
    assert progress == sorted(progress)
    assert progress[-1] > progress[0]
    assert final["status"] == "Completed"
    assert final["progress"] == ""
    assert final["fail_reason"] == ""
    assert final["name"] == "BackupInstance"
    assert final["instance"] == {"id": instance["id"], "name": "orders-prod"}
    assert API_TIME.fullmatch(final["start_time"])
    assert API_TIME.fullmatch(final["end_time"])
    assert final["end_time"] >= final["start_time"]


def test_failure_rate_one_makes_the_job_fail_with_a_reason(simulator):
    simulator.configure(failure_rate=1, job_seconds=0.2)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"])

    job = wait_until(lambda: _ended(_job(simulator, token, created["job_id"])))

    assert job["status"] == "Failed"
    assert job["fail_reason"]
    assert job["progress"] == ""


def test_admin_finish_ends_the_job_now(simulator):
    simulator.configure(job_seconds=600)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"])
    assert _job(simulator, token, created["job_id"])["status"] == "Running"

    simulator.finish_backup(created["backup_id"], status="FAILED", fail_reason="Node 2 stopped answering.")

    job = _job(simulator, token, created["job_id"])
    assert (job["status"], job["fail_reason"]) == ("Failed", "Node 2 stopped answering.")


def test_jobs_never_finish_holds_jobs_at_99_percent(simulator):
    # A zero-second job is past its end the moment it starts: only the setting holds it.
    simulator.configure(job_seconds=0, jobs_never_finish=True)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"])

    held = _job(simulator, token, created["job_id"])
    simulator.configure(jobs_never_finish=False)
    released = _job(simulator, token, created["job_id"])

    assert (held["status"], held["progress"]) == ("Running", "99%")
    assert released["status"] == "Completed"


def test_list_filters_by_status_and_name_newest_first(simulator):
    simulator.configure(job_seconds=600)
    token = simulator.token()
    ids = {}
    for name in ("done", "broken", "running"):
        instance = simulator.add_instance(f"instance-{name}")
        ids[name] = _create(simulator, token, instance["id"], name=name)
    simulator.finish_backup(ids["done"]["backup_id"])
    simulator.finish_backup(ids["broken"]["backup_id"], status="FAILED")

    everything = _jobs(simulator, token)
    by_status = {
        status: _jobs(simulator, token, status=status)["jobs"] for status in ("Running", "Completed", "Failed")
    }

    assert everything["total_count"] == 3
    assert [job["id"] for job in everything["jobs"]] == [ids[n]["job_id"] for n in ("running", "broken", "done")]
    assert [job["id"] for job in by_status["Running"]] == [ids["running"]["job_id"]]
    assert [job["id"] for job in by_status["Completed"]] == [ids["done"]["job_id"]]
    assert [job["id"] for job in by_status["Failed"]] == [ids["broken"]["job_id"]]
    assert _jobs(simulator, token, name="BackupInstance")["total_count"] == 3
    assert _jobs(simulator, token, name="RestartInstance")["total_count"] == 0


def test_list_pages_with_offset_and_limit(simulator):
    simulator.configure(job_seconds=0)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    for n in range(12):
        _create(simulator, token, instance["id"], name=f"backup-{n:02d}")

    first = _jobs(simulator, token, limit=10)
    second = _jobs(simulator, token, limit=10, offset=10)

    assert (first["total_count"], len(first["jobs"])) == (12, 10)
    assert (second["total_count"], len(second["jobs"])) == (12, 2)
    assert not {job["id"] for job in first["jobs"]} & {job["id"] for job in second["jobs"]}


@pytest.mark.parametrize("limit", [10, 20, 50])
def test_documented_limits_are_accepted(simulator, limit):
    assert _jobs(simulator, simulator.token(), limit=limit)["jobs"] == []


@pytest.mark.parametrize(
    "params",
    [{"limit": 5}, {"limit": 15}, {"limit": 100}, {"limit": "all"}, {"offset": -1}, {"status": "Done"}],
    ids=["limit-5", "limit-15", "limit-100", "limit-text", "negative-offset", "unknown-status"],
)
def test_invalid_list_parameters_are_400(simulator, params):
    body = _jobs(simulator, simulator.token(), expected_status=400, **params)

    assert body == {"error_code": "DBS.200001", "error_msg": "Parameter error."}


def test_time_window_filters_and_is_limited_to_30_days(simulator):
    simulator.configure(job_seconds=0)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    _create(simulator, token, instance["id"])
    now = datetime.now(UTC)

    inside = _jobs(
        simulator,
        token,
        start_time=_query_time(now - timedelta(hours=1)),
        end_time=_query_time(now + timedelta(minutes=1)),
    )
    before = _jobs(
        simulator, token, start_time=_query_time(now - timedelta(days=3)), end_time=_query_time(now - timedelta(days=2))
    )
    offset_form = _jobs(simulator, token, start_time=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+0000"))
    too_long = _jobs(simulator, token, 400, start_time=_query_time(now - timedelta(days=31)), end_time=_query_time(now))
    backwards = _jobs(simulator, token, 400, start_time=_query_time(now), end_time=_query_time(now - timedelta(days=1)))
    malformed = _jobs(simulator, token, 400, start_time="yesterday")

    assert inside["total_count"] == 1
    assert before["total_count"] == 0
    assert offset_form["total_count"] == 1
    assert too_long["error_code"] == backwards["error_code"] == malformed["error_code"] == "DBS.200001"


def test_unknown_job_id_is_an_empty_list(simulator):
    body = _jobs(simulator, simulator.token(), id="8061ceaf-b319-4315-9338-7f3de8e26f05")

    assert body == {"total_count": 0, "jobs": []}


def test_backup_jobs_can_be_hidden_like_gaussdb(simulator):
    simulator.configure(job_seconds=600, backup_jobs_listed=False)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    created = _create(simulator, token, instance["id"])

    by_id = _jobs(simulator, token, id=created["job_id"])
    listed = _jobs(simulator, token)
    backups = simulator.api(
        "GET", f"/v3.1/{simulator.project_id}/backups", token, params={"instance_id": instance["id"]}
    ).json()

    assert by_id == {"total_count": 0, "jobs": []}
    assert listed == {"total_count": 0, "jobs": []}
    assert [b["id"] for b in backups["backups"]] == [created["backup_id"]]
