"""The simulator's answers have the keys of the reference pages' example responses.

The key sets are copied by hand from /work/shared/reference/geminidb-api/. Where the simulator
adds a key, it is one the page's response table documents and its example leaves out.
"""

import re

import requests

from tests.fixtures.simulator import password_auth

# iam_obtaining_a_user_token_through_password_authentication.rst, example response (a domain-
# scoped token; a project-scoped one has "project" instead of "domain", Table 3).
TOKEN_KEYS = {"methods", "expires_at", "issued_at", "user", "domain", "catalog", "roles"}
TOKEN_USER_KEYS = {"domain", "id", "name", "password_expires_at"}
TOKEN_PROJECT_KEYS = {"domain", "id", "name"}  # Table 7
CATALOG_KEYS = {"type", "id", "name", "endpoints"}
ENDPOINT_KEYS = {"url", "region", "region_id", "interface", "id"}

# querying_instances_and_details.rst, example response.
INSTANCE_KEYS = {
    "id", "name", "status", "port", "mode", "region", "datastore", "engine", "created", "updated",
    "db_user_name", "vpc_id", "subnet_id", "security_group_id", "backup_strategy", "pay_mode",
    "maintenance_window", "groups", "enterprise_project_id", "time_zone", "actions",
}  # fmt: skip
INSTANCE_DATASTORE_KEYS = {"type", "version", "patch_available"}
GROUP_KEYS = {"id", "status", "volume", "nodes"}
NODE_KEYS = {"id", "name", "status", "subnet_id", "private_ip", "spec_code", "availability_zone"}

# creating_a_manual_backup.rst, example response.
CREATE_KEYS = {"job_id", "backup_id"}

# querying_tasks_and_details.rst, example response.
JOB_LIST_KEYS = {"total_count", "jobs"}
JOB_KEYS = {"id", "name", "status", "start_time", "end_time", "progress", "instance", "fail_reason"}

# querying_backups_v3.1.rst, example response.
BACKUP_LIST_KEYS = {"total_count", "backups"}
BACKUP_KEYS = {
    "id", "name", "instance_id", "instance_name", "datastore", "type", "begin_time", "end_time",
    "status", "size", "description", "database_tables", "deletable",
}  # fmt: skip

# returned_values.rst, error response.
ERROR_KEYS = {"error_code", "error_msg"}


def test_token_has_the_keys_of_the_iam_example(simulator):
    body = password_auth(simulator.username, simulator.password, simulator.domain, simulator.project_id)
    body["auth"]["scope"] = {"domain": {"name": simulator.domain}}
    domain_token = requests.post(f"{simulator.url}/v3/auth/tokens", json=body, timeout=10).json()["token"]
    project_token = requests.post(
        f"{simulator.url}/v3/auth/tokens",
        json=password_auth(simulator.username, simulator.password, simulator.domain, simulator.project_id),
        timeout=10,
    ).json()["token"]

    assert set(domain_token) == TOKEN_KEYS
    assert set(project_token) == TOKEN_KEYS - {"domain"} | {"project"}
    assert set(project_token["project"]) == TOKEN_PROJECT_KEYS
    assert set(project_token["user"]) == TOKEN_USER_KEYS
    assert {frozenset(entry) for entry in project_token["catalog"]} == {frozenset(CATALOG_KEYS)}
    assert set(project_token["catalog"][0]["endpoints"][0]) == ENDPOINT_KEYS


def test_instance_has_the_keys_of_the_instances_example(simulator):
    simulator.add_instance("orders-prod")
    response = simulator.api("GET", f"/v3/{simulator.project_id}/instances", simulator.token())

    [instance] = response.json()["instances"]
    [group] = instance["groups"]
    assert set(response.json()) == {"instances", "total_count"}
    assert set(instance) == INSTANCE_KEYS
    # whole_version: Table 6, "available only to GeminiDB Cassandra".
    assert set(instance["datastore"]) == INSTANCE_DATASTORE_KEYS | {"whole_version"}
    assert set(instance["backup_strategy"]) == {"start_time", "keep_days"}
    assert set(group) == GROUP_KEYS
    assert set(group["volume"]) == {"size", "used"}
    # support_reduce: Table 10.
    assert {frozenset(node) for node in group["nodes"]} == {frozenset(NODE_KEYS | {"support_reduce"})}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", instance["created"])
    assert (instance["engine"], instance["db_user_name"], instance["mode"]) == ("rocksDB", "rwuser", "Cluster")


def test_create_job_and_backup_have_the_keys_of_their_examples(simulator):
    simulator.configure(job_seconds=600)
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()

    created = simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance['id']}/backups",
        token,
        json={"name": "backup-4f57", "description": "manual backup"},
    ).json()
    jobs = simulator.api("GET", f"/v3/{simulator.project_id}/jobs", token, params={"id": created["job_id"]}).json()
    backups = simulator.api("GET", f"/v3.1/{simulator.project_id}/backups", token).json()

    assert set(created) == CREATE_KEYS
    assert set(jobs) == JOB_LIST_KEYS
    assert set(jobs["jobs"][0]) == JOB_KEYS
    assert set(jobs["jobs"][0]["instance"]) == {"id", "name"}
    assert set(backups) == BACKUP_LIST_KEYS
    assert set(backups["backups"][0]) == BACKUP_KEYS
    assert set(backups["backups"][0]["datastore"]) == {"type", "version"}


def test_service_errors_have_the_keys_of_the_error_example(simulator):
    response = simulator.api("GET", f"/v3/{simulator.project_id}/jobs", simulator.token(), params={"limit": 7})

    assert set(response.json()) == ERROR_KEYS
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Request-Id"]
