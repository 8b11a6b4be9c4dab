"""Automated backups follow each instance's policy, on the simulator's controllable clock."""

import time

import pytest
import requests

DAY = 24 * 3600


@pytest.fixture
def policy_simulator(simulator):
    """Automated backups on; tokens that outlive the days the tests jump over."""
    simulator.configure(automated_backups=True, token_ttl=365 * DAY)
    return simulator


def _next_window(simulator, hours_ahead=2):
    """A one-hour window that opens on the hour ``hours_ahead`` hours (rounded down) from now,
    and the seconds until it opens."""
    now = simulator.clock()["epoch"]
    opens = (now // 3600 + hours_ahead) * 3600
    start = time.gmtime(opens).tm_hour
    return f"{start:02}:00-{(start + 1) % 24:02}:00", opens - now


def _api_time(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch))


def _autos(simulator, instance_id):
    return [b for b in simulator.backups(instance_id) if b["type"] == "Auto"]


def test_the_clock_moves_forward_only_when_told(simulator):
    before = simulator.clock()

    after = simulator.advance_clock(3 * DAY)
    refused = requests.post(f"{simulator.url}/_sim/clock", json={"advance_seconds": -1}, timeout=10)

    assert after["offset_seconds"] == before["offset_seconds"] + 3 * DAY
    assert after["epoch"] - before["epoch"] >= 3 * DAY
    assert refused.status_code == 400
    simulator.reset()
    assert simulator.clock()["offset_seconds"] == 0


def test_an_automated_backup_starts_when_the_window_opens_and_completes(policy_simulator):
    instance = policy_simulator.add_instance("orders-prod")
    window, wait = _next_window(policy_simulator)
    opens = policy_simulator.clock()["epoch"] + wait
    policy_simulator.set_policy(instance["id"], 7, window, "1,2,3,4,5,6,7")

    policy_simulator.advance_clock(wait - 60)
    assert _autos(policy_simulator, instance["id"]) == []
    policy_simulator.advance_clock(61)
    [running] = _autos(policy_simulator, instance["id"])
    policy_simulator.advance_clock(3000)
    [done] = _autos(policy_simulator, instance["id"])

    assert running["status"] == "BUILDING"
    assert running["begin_time"] == _api_time(round(opens))
    assert done["status"] == "COMPLETED"
    assert done["keep_days"] == 7


def test_one_backup_per_window_and_a_day_skipped_when_not_selected(policy_simulator):
    instance = policy_simulator.add_instance("orders-prod")
    window, wait = _next_window(policy_simulator)
    opens = policy_simulator.clock()["epoch"] + wait
    first_day = time.gmtime(opens).tm_wday + 1  # ISO weekday: 1 = Monday
    skipped = first_day % 7 + 1
    days = ",".join(str(d) for d in range(1, 8) if d != skipped)
    policy_simulator.set_policy(instance["id"], 7, window, days)

    policy_simulator.advance_clock(wait + 3 * DAY + 1800)

    autos = _autos(policy_simulator, instance["id"])
    weekdays = {time.strptime(b["begin_time"][:10], "%Y-%m-%d").tm_wday + 1 for b in autos}
    assert len(autos) == 3
    assert skipped not in weekdays
    assert all(b["status"] == "COMPLETED" for b in autos[:-1])


def test_a_running_backup_holds_the_automated_one_until_it_ends_in_the_window(policy_simulator):
    instance = policy_simulator.add_instance("orders-prod")
    window, wait = _next_window(policy_simulator)
    policy_simulator.set_policy(instance["id"], 7, window, "1,2,3,4,5,6,7")
    policy_simulator.advance_clock(wait - 60)
    earlier = policy_simulator.start_automated_backup(instance["id"], seconds=600)

    policy_simulator.advance_clock(120)
    held = [b for b in _autos(policy_simulator, instance["id"]) if b["id"] != earlier["id"]]
    policy_simulator.advance_clock(1200)
    [ended] = [b for b in _autos(policy_simulator, instance["id"]) if b["id"] == earlier["id"]]
    started = [b for b in _autos(policy_simulator, instance["id"]) if b["id"] != earlier["id"]]

    assert held == []
    assert len(started) == 1
    assert started[0]["begin_time"] == ended["end_time"]


def test_automated_backups_expire_keep_days_after_they_ended(policy_simulator):
    instance = policy_simulator.add_instance("orders-prod")
    window, wait = _next_window(policy_simulator)
    policy_simulator.set_policy(instance["id"], 2, window, "1,2,3,4,5,6,7")

    policy_simulator.advance_clock(wait + 1800)
    [first] = _autos(policy_simulator, instance["id"])
    policy_simulator.advance_clock(DAY)
    two = {b["id"] for b in _autos(policy_simulator, instance["id"])}
    policy_simulator.advance_clock(DAY + 1)
    kept = {b["id"] for b in _autos(policy_simulator, instance["id"])}

    assert first["id"] in two
    assert len(two) == 2
    assert first["id"] not in kept
    assert len(kept) == 2


def test_keep_days_zero_starts_no_automated_backup(policy_simulator):
    instance = policy_simulator.add_instance("orders-prod")
    policy_simulator.set_policy(instance["id"], 0)

    policy_simulator.advance_clock(3 * DAY)

    assert _autos(policy_simulator, instance["id"]) == []


def test_instances_that_are_not_normal_get_no_automated_backup(policy_simulator):
    instance = policy_simulator.add_instance("frozen-one", status="frozen")

    policy_simulator.advance_clock(2 * DAY)

    assert _autos(policy_simulator, instance["id"]) == []


def test_no_automated_backups_while_they_are_switched_off(simulator):
    instance = simulator.add_instance("orders-prod")
    simulator.configure(token_ttl=365 * DAY)

    simulator.advance_clock(2 * DAY)

    assert _autos(simulator, instance["id"]) == []


def test_automated_backups_can_be_left_out_of_the_jobs_api(policy_simulator):
    policy_simulator.configure(auto_backup_jobs_listed=False)
    instance = policy_simulator.add_instance("orders-prod")
    window, wait = _next_window(policy_simulator)
    policy_simulator.set_policy(instance["id"], 7, window, "1,2,3,4,5,6,7")
    policy_simulator.advance_clock(wait + 1)
    token = policy_simulator.token()

    jobs = policy_simulator.api("GET", f"/v3/{policy_simulator.project_id}/jobs", token).json()
    backups = policy_simulator.api("GET", f"/v3.1/{policy_simulator.project_id}/backups", token).json()

    assert jobs["jobs"] == []
    assert [(b["type"], b["status"]) for b in backups["backups"]] == [("Auto", "BUILDING")]
    assert "progress" not in backups["backups"][0]
