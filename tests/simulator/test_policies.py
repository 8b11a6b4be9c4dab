"""The automated backup policy APIs over real HTTP (querying_an_automated_backup_policy.rst,
configuring_an_automated_backup_policy.rst)."""

import pytest


def _path(simulator, instance_id, version="v3"):
    return f"/{version}/{simulator.project_id}/instances/{instance_id}/backups/policy"


def _put(simulator, instance_id, policy, token=None):
    token = token or simulator.token()
    return simulator.api("PUT", _path(simulator, instance_id), token, json={"backup_policy": policy})


def _get(simulator, instance_id, token=None, **params):
    token = token or simulator.token()
    return simulator.api("GET", _path(simulator, instance_id, "v3.1"), token, params=params)


def test_a_new_instance_has_a_daily_policy_kept_seven_days(simulator):
    instance = simulator.add_instance("orders-prod")

    response = _get(simulator, instance["id"])

    assert response.status_code == 200
    assert response.json() == {
        "backup_policy": {
            "keep_days": 7,
            "start_time": instance["backup_strategy"]["start_time"],
            "period": "1,2,3,4,5,6,7",
            "incremental_period": None,
            "differential_period": None,
        }
    }


def test_put_answers_204_without_a_body_and_get_reads_it_back(simulator):
    instance = simulator.add_instance("orders-prod")

    response = _put(simulator, instance["id"], {"keep_days": 14, "start_time": "23:15-00:15", "period": "5,1,3"})
    policy = _get(simulator, instance["id"]).json()["backup_policy"]
    listed = simulator.api("GET", f"/v3/{simulator.project_id}/instances", simulator.token()).json()

    assert response.status_code == 204
    assert response.content == b""
    assert (policy["keep_days"], policy["start_time"], policy["period"]) == (14, "23:15-00:15", "1,3,5")
    assert listed["instances"][0]["backup_strategy"] == {"start_time": "23:15-00:15", "keep_days": 14}


def test_keep_days_zero_turns_the_policy_off_without_window_or_days(simulator):
    instance = simulator.add_instance("orders-prod")

    response = _put(simulator, instance["id"], {"keep_days": 0})
    policy = _get(simulator, instance["id"]).json()["backup_policy"]

    assert response.status_code == 204
    assert policy == {"keep_days": 0, "incremental_period": None, "differential_period": None}


def test_keep_days_zero_ignores_a_window_and_days_it_does_not_need(simulator):
    instance = simulator.add_instance("orders-prod")

    assert _put(simulator, instance["id"], {"keep_days": 0, "start_time": "nonsense", "period": "9"}).status_code == 204


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        ({"keep_days": 36, "start_time": "01:00-02:00", "period": "1"}, "DBS.280214"),
        ({"keep_days": -1}, "DBS.280214"),
        ({"keep_days": "7", "start_time": "01:00-02:00", "period": "1"}, "DBS.200001"),
        ({"keep_days": True}, "DBS.200001"),
        ({"start_time": "01:00-02:00", "period": "1"}, "DBS.200001"),
        ({"keep_days": 7, "period": "1"}, "DBS.280067"),
        ({"keep_days": 7, "start_time": "1:00-2:00", "period": "1"}, "DBS.280067"),
        ({"keep_days": 7, "start_time": "01:10-02:10", "period": "1"}, "DBS.280067"),
        ({"keep_days": 7, "start_time": "24:00-01:00", "period": "1"}, "DBS.280067"),
        ({"keep_days": 7, "start_time": "01:00-03:00", "period": "1"}, "DBS.280416"),
        ({"keep_days": 7, "start_time": "01:00-02:30", "period": "1"}, "DBS.280416"),
        ({"keep_days": 7, "start_time": "01:00-02:00"}, "DBS.280251"),
        ({"keep_days": 7, "start_time": "01:00-02:00", "period": ""}, "DBS.280251"),
        ({"keep_days": 7, "start_time": "01:00-02:00", "period": "0,1"}, "DBS.280251"),
        ({"keep_days": 7, "start_time": "01:00-02:00", "period": "1, 2"}, "DBS.280251"),
        ({"keep_days": 7, "start_time": "01:00-02:00", "period": "1,1"}, "DBS.280251"),
        ({"keep_days": 6, "start_time": "01:00-02:00", "period": "1,2,3,4,5,6"}, "DBS.280215"),
    ],
)
def test_put_refuses_what_the_page_rules_out_with_its_codes(simulator, policy, code):
    instance = simulator.add_instance("orders-prod")

    response = _put(simulator, instance["id"], policy)

    assert response.status_code == 400
    assert response.json()["error_code"] == code
    assert response.json()["error_msg"]
    assert _get(simulator, instance["id"]).json()["backup_policy"]["keep_days"] == 7


def test_short_retention_is_accepted_with_every_day(simulator):
    instance = simulator.add_instance("orders-prod")

    response = _put(simulator, instance["id"], {"keep_days": 1, "start_time": "00:45-01:45", "period": "7,6,5,4,3,2,1"})

    assert response.status_code == 204
    assert _get(simulator, instance["id"]).json()["backup_policy"]["period"] == "1,2,3,4,5,6,7"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"backup_policy": 7}'])
def test_put_refuses_a_body_that_is_no_policy_object(simulator, body):
    instance = simulator.add_instance("orders-prod")

    response = simulator.api("PUT", _path(simulator, instance["id"]), simulator.token(), data=body)

    assert (response.status_code, response.json()["error_code"]) == (400, "DBS.200001")


def test_unknown_or_foreign_instances_are_404(simulator):
    elsewhere = simulator.add_instance("elsewhere", project_id=simulator.second_project_id)
    policy = {"keep_days": 7, "start_time": "01:00-02:00", "period": "1"}

    for instance_id in ("0" * 32 + "in06", elsewhere["id"]):
        got, put = _get(simulator, instance_id), _put(simulator, instance_id, policy)
        assert (got.status_code, got.json()["error_code"]) == (404, "DBS.200002")
        assert (put.status_code, put.json()["error_code"]) == (404, "DBS.200002")


def test_only_cassandra_instances_have_this_policy(simulator):
    mongo = simulator.add_instance("mongo-1", datastore_type="mongodb")

    assert _get(simulator, mongo["id"]).json()["error_code"] == "DBS.280347"


def test_the_policy_apis_need_a_token_of_the_project(simulator):
    instance = simulator.add_instance("orders-prod")
    other = simulator.token(simulator.second_project_id)

    assert _get(simulator, instance["id"], token="bogus").status_code == 401
    assert _put(simulator, instance["id"], {"keep_days": 0}, token=other).status_code == 403
    assert simulator.counters()["by_kind"]["get_backup_policy"] == 1


def test_get_takes_the_type_parameter(simulator):
    instance = simulator.add_instance("orders-prod")

    assert _get(simulator, instance["id"], type="Instance").json()["backup_policy"]["keep_days"] == 7
    assert _get(simulator, instance["id"], type="DatabaseTable").json()["backup_policy"]["keep_days"] == 0
    assert _get(simulator, instance["id"], type="Table").json()["error_code"] == "DBS.200001"


def test_the_policy_paths_answer_only_their_documented_versions(simulator):
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()

    wrong_get = simulator.api("GET", _path(simulator, instance["id"], "v3"), token)
    wrong_put = simulator.api("PUT", _path(simulator, instance["id"], "v3.1"), token, json={})

    assert (wrong_get.status_code, wrong_put.status_code) == (404, 404)
    assert wrong_get.json()["error_code"] == "APIG.0101"
