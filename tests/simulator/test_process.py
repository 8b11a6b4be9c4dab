"""The simulator as a program: command line, start-up line, log hygiene and clean shutdown."""

import signal
import subprocess
import sys

import requests

from tests.fixtures.simulator import REPO_ROOT, SimulatorHandle, start_simulator


def test_cli_flags_set_the_starting_config_and_sigterm_stops_it_cleanly(tmp_path):
    log_path = tmp_path / "simulator.log"
    started = start_simulator(
        "--world", "empty", "--no-backup-jobs", "--rate-limit", "60", "--token-ttl", "600",
        "--job-seconds", "7", "--failure-rate", "0.5", "--latency-ms", "5", "--seed", "3",
        log_path=log_path,
    )  # fmt: skip
    try:
        handle = SimulatorHandle(started.url)
        config = handle.state()["config"]
        token = handle.token()
        listed = handle.api("GET", f"/v3/{handle.project_id}/instances", token)
    finally:
        started.process.send_signal(signal.SIGTERM)
        exit_code = started.process.wait(timeout=5)
        started.stop()

    assert started.url.startswith("http://127.0.0.1:")
    assert config["backup_jobs_listed"] is False
    assert (config["rate_limit_per_minute"], config["token_ttl"], config["latency_ms"]) == (60, 600, 5)
    assert (config["job_seconds"], config["failure_rate"]) == (7, 0.5)
    assert listed.status_code == 200
    assert exit_code == 0
    log = log_path.read_text()
    assert f"/v3/{handle.project_id}/instances" in log
    assert token not in log
    assert handle.password not in log


def test_sigint_stops_it_too(tmp_path):
    started = start_simulator("--world", "empty", log_path=tmp_path / "simulator.log")

    started.process.send_signal(signal.SIGINT)

    assert started.process.wait(timeout=5) == 0
    started.stop()


def test_invalid_flag_values_are_refused_at_start():
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--port", "0", "--failure-rate", "2"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )

    assert result.returncode == 2
    assert "failure_rate" in result.stderr
    assert result.stdout == ""


def test_every_answer_is_json_with_a_request_id(simulator):
    responses = [
        requests.get(f"{simulator.url}/_sim/state", timeout=10),
        requests.get(f"{simulator.url}/nowhere", timeout=10),
        requests.post(f"{simulator.url}/v3/auth/tokens", data=b"{", timeout=10),
    ]

    assert [r.headers["Content-Type"] for r in responses] == ["application/json"] * 3
    assert len({r.headers["X-Request-Id"] for r in responses}) == 3
