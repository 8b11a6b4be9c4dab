"""POST /v3/{project_id}/instances/{instance_id}/backups: validation, refusals and success."""

import re

import pytest
import requests

PARAMETER_ERROR = {"error_code": "DBS.200001", "error_msg": "Parameter error."}
ALREADY_EXISTS = {"error_code": "DBS.201201", "error_msg": "The backup already exists."}
BUSY = {
    "error_code": "DBS.201015",
    "error_msg": "This operation cannot be performed because another operation is being performed on "
    "the DB instance or the DB instance is faulty. Try again later.",
}


def _create(simulator, instance_id, body, token=None, project_id=None):
    project_id = project_id or simulator.project_id
    return simulator.api(
        "POST",
        f"/v3/{project_id}/instances/{instance_id}/backups",
        token or simulator.token(project_id),
        json=body,
    )


@pytest.fixture
def instance(simulator):
    return simulator.add_instance("orders-prod")


def test_create_answers_202_with_job_and_backup_ids(simulator, instance):
    response = _create(simulator, instance["id"], {"name": "backup-4f57", "description": "manual backup"})

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"job_id", "backup_id"}
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", body["job_id"])
    assert re.fullmatch(r"[0-9a-f]{32}in06", body["backup_id"])
    [backup] = simulator.backups(instance["id"])
    assert backup["id"] == body["backup_id"]
    assert backup["job_id"] == body["job_id"]
    assert (backup["name"], backup["status"], backup["type"]) == ("backup-4f57", "BUILDING", "Manual")


@pytest.mark.parametrize(
    "name",
    ["abcd", "a" * 64, "Backup_2026-11-28", "Z123", "a-_-"],
    ids=["4-chars", "64-chars", "mixed", "capital", "symbols"],
)
def test_valid_names_are_accepted(simulator, instance, name):
    response = _create(simulator, instance["id"], {"name": name, "description": ""})

    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    "name",
    ["abc", "a" * 65, "1abc", "-abc", "_abc", "ab cd", "ab.cd", "abcé", "", None, 1234],
    ids=["3-chars", "65-chars", "digit-first", "hyphen-first", "underscore-first", "space", "dot", "non-ascii",
         "empty", "null", "number"],
)  # fmt: skip
def test_invalid_names_are_400_parameter_error(simulator, instance, name):
    response = _create(simulator, instance["id"], {"name": name, "description": "manual backup"})

    assert response.status_code == 400
    assert response.json() == PARAMETER_ERROR
    assert simulator.backups() == []


@pytest.mark.parametrize("description", ["", "x" * 256, "nightly run (before deploy); see #42"])
def test_valid_descriptions_are_accepted(simulator, instance, description):
    response = _create(simulator, instance["id"], {"name": "nightly", "description": description})

    assert response.status_code == 202, response.text


@pytest.mark.parametrize("character", list(">!<\"&'="))
def test_each_forbidden_description_character_is_refused(simulator, instance, character):
    response = _create(simulator, instance["id"], {"name": "nightly", "description": f"before {character} after"})

    assert response.status_code == 400
    assert response.json() == PARAMETER_ERROR


@pytest.mark.parametrize(
    "body",
    [{"name": "nightly", "description": "x" * 257}, {"name": "nightly"}, {"name": "nightly", "description": None}],
    ids=["257-chars", "missing", "null"],
)
def test_description_too_long_or_missing_is_refused(simulator, instance, body):
    response = _create(simulator, instance["id"], body)

    assert response.status_code == 400
    assert response.json() == PARAMETER_ERROR


def test_body_that_is_not_json_is_400(simulator, instance):
    response = simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance['id']}/backups",
        simulator.token(),
        data=b"name=nightly",
    )

    assert response.status_code == 400
    assert response.json() == PARAMETER_ERROR


def test_unknown_instance_is_404(simulator):
    response = _create(simulator, "0" * 32 + "in06", {"name": "nightly", "description": ""})

    assert response.status_code == 404
    assert response.json() == {"error_code": "DBS.200002", "error_msg": "The DB instance does not exist."}


def test_instance_of_another_project_is_404(simulator):
    other = simulator.add_instance("elsewhere", project_id=simulator.second_project_id)

    response = _create(simulator, other["id"], {"name": "nightly", "description": ""})

    assert response.status_code == 404


@pytest.mark.parametrize("datastore_type", ["mongodb", "redis", "influxdb"])
def test_non_cassandra_instance_is_400_unsupported(simulator, datastore_type):
    other = simulator.add_instance("not-cassandra", datastore_type=datastore_type)

    response = _create(simulator, other["id"], {"name": "nightly", "description": ""})

    assert response.status_code == 400
    assert response.json() == {"error_code": "DBS.280347", "error_msg": "Unsupported database type."}


@pytest.mark.parametrize("status", ["abnormal", "creating", "frozen", "data_disk_full", "createfail", "enlargefail"])
def test_instance_not_normal_is_403_busy(simulator, status):
    busy = simulator.add_instance("not-available", status=status)

    response = _create(simulator, busy["id"], {"name": "nightly", "description": ""})

    assert response.status_code == 403
    assert response.json() == BUSY


def test_backup_already_running_is_403_busy_until_it_ends(simulator, instance):
    simulator.configure(job_seconds=600)
    token = simulator.token()
    first = _create(simulator, instance["id"], {"name": "first", "description": ""}, token)

    second = _create(simulator, instance["id"], {"name": "second", "description": ""}, token)
    simulator.finish_backup(first.json()["backup_id"])
    third = _create(simulator, instance["id"], {"name": "third", "description": ""}, token)

    assert first.status_code == 202
    assert second.status_code == 403
    assert second.json() == BUSY
    assert third.status_code == 202


def test_busy_code_can_be_switched_to_dbs_200019(simulator):
    simulator.configure(busy_error_code="DBS.200019")
    busy = simulator.add_instance("faulty", status="abnormal")

    response = _create(simulator, busy["id"], {"name": "nightly", "description": ""})

    assert response.status_code == 403
    assert response.json() == {
        "error_code": "DBS.200019",
        "error_msg": "Another operation is being performed on the DB instance or the DB instance is faulty.",
    }


def test_same_name_on_the_same_instance_is_400_backup_already_exists(simulator, instance):
    simulator.configure(job_seconds=0)
    token = simulator.token()

    first = _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)
    second = _create(simulator, instance["id"], {"name": "nightly", "description": "again"}, token)

    assert first.status_code == 202
    assert second.status_code == 400
    assert second.json() == ALREADY_EXISTS
    assert [b["id"] for b in simulator.backups(instance["id"])] == [first.json()["backup_id"]]
    assert simulator.counters()["by_status"] == {"201": 1, "202": 1, "400": 1}


def test_name_taken_by_a_running_backup_is_already_exists_not_busy(simulator, instance):
    simulator.configure(job_seconds=600)
    token = simulator.token()
    _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)

    same = _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)
    other = _create(simulator, instance["id"], {"name": "weekly", "description": ""}, token)

    assert (same.status_code, same.json()) == (400, ALREADY_EXISTS)
    assert (other.status_code, other.json()) == (403, BUSY)


@pytest.mark.parametrize("outcome", ["COMPLETED", "FAILED"])
def test_name_of_an_ended_backup_stays_taken(simulator, instance, outcome):
    simulator.configure(job_seconds=600)
    token = simulator.token()
    created = _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)
    simulator.finish_backup(created.json()["backup_id"], status=outcome)

    response = _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)

    assert (response.status_code, response.json()) == (400, ALREADY_EXISTS)


def test_name_of_an_automated_backup_is_taken_too(simulator, instance):
    automated = simulator.start_automated_backup(instance["id"])
    simulator.finish_backup(automated["id"])

    response = _create(simulator, instance["id"], {"name": automated["name"], "description": ""})

    assert (response.status_code, response.json()) == (400, ALREADY_EXISTS)


def test_name_of_a_deleted_backup_is_free_again(simulator, instance):
    simulator.configure(job_seconds=0)
    token = simulator.token()
    created = _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)
    simulator.delete_backup(created.json()["backup_id"])

    again = _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)

    assert again.status_code == 202, again.text


def test_same_name_on_another_instance_or_in_another_case_is_accepted(simulator, instance):
    simulator.configure(job_seconds=0)
    token = simulator.token()
    other = simulator.add_instance("orders-staging")
    _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)

    elsewhere = _create(simulator, other["id"], {"name": "nightly", "description": ""}, token)
    other_case = _create(simulator, instance["id"], {"name": "Nightly", "description": ""}, token)

    assert elsewhere.status_code == 202, elsewhere.text
    assert other_case.status_code == 202, other_case.text


def test_refusals_for_the_request_or_instance_come_before_the_name_check(simulator, instance):
    simulator.configure(job_seconds=0)
    token = simulator.token()
    _create(simulator, instance["id"], {"name": "nightly", "description": ""}, token)

    bad_description = _create(simulator, instance["id"], {"name": "nightly", "description": "a=b"}, token)
    unknown_instance = _create(simulator, "0" * 32 + "in06", {"name": "nightly", "description": ""}, token)

    assert (bad_description.status_code, bad_description.json()) == (400, PARAMETER_ERROR)
    assert unknown_instance.status_code == 404


def test_retry_after_a_dropped_create_meets_already_exists(simulator, instance):
    # The test settings' 2-second jobs: the backup is still running when the retry comes.
    token = simulator.token()
    simulator.configure(drop_connection_after_create=1)
    with pytest.raises(requests.ConnectionError):
        _create(simulator, instance["id"], {"name": "ambiguous", "description": ""}, token)

    retry = _create(simulator, instance["id"], {"name": "ambiguous", "description": ""}, token)

    assert (retry.status_code, retry.json()) == (400, ALREADY_EXISTS)
    [backup] = simulator.backups(instance["id"])
    assert (backup["name"], backup["status"]) == ("ambiguous", "BUILDING")
