"""IAM password authentication and the gateway's token checks, over real HTTP."""

import re
from datetime import datetime

import pytest
import requests

from tests.fixtures.simulator import password_auth, wait_until

IAM_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def _auth(simulator, **overrides):
    values = {
        "username": simulator.username,
        "password": simulator.password,
        "domain": simulator.domain,
        "project_id": simulator.project_id,
    }
    values.update(overrides)
    return requests.post(f"{simulator.url}/v3/auth/tokens", json=password_auth(**values), timeout=10)


def _iam_seconds(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def test_password_auth_returns_201_with_the_token_in_x_subject_token(simulator):
    response = _auth(simulator)

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Request-Id"]
    token = response.headers["X-Subject-Token"]
    assert len(token) > 100
    assert token not in response.text
    body = response.json()["token"]
    assert body["methods"] == ["password"]
    assert body["project"] == {
        "id": simulator.project_id,
        "name": "eu-de_demo",
        "domain": {"id": body["user"]["domain"]["id"], "name": "demo-domain"},
    }
    assert body["user"]["name"] == "demo-user"
    assert body["user"]["domain"]["name"] == "demo-domain"


def test_token_is_valid_24_hours_by_default(simulator):
    body = _auth(simulator).json()["token"]

    assert IAM_TIME.fullmatch(body["issued_at"])
    assert IAM_TIME.fullmatch(body["expires_at"])
    assert _iam_seconds(body["expires_at"]) - _iam_seconds(body["issued_at"]) == pytest.approx(86400)


def test_token_expires_after_token_ttl(simulator):
    simulator.configure(token_ttl=1)
    issued = _auth(simulator)
    token = issued.headers["X-Subject-Token"]
    body = issued.json()["token"]
    assert _iam_seconds(body["expires_at"]) - _iam_seconds(body["issued_at"]) == pytest.approx(1)

    def instances():
        return simulator.api("GET", f"/v3/{simulator.project_id}/instances", token)

    assert instances().status_code == 200
    wait_until(lambda: instances().status_code != 200, timeout=3)
    response = instances()
    assert response.status_code == 401
    assert response.json()["error_code"] == "APIGW.0301"


def test_project_scope_can_name_the_project(simulator):
    body = password_auth(simulator.username, simulator.password, simulator.domain, simulator.project_id)
    body["auth"]["scope"] = {"project": {"name": "eu-de_analytics"}}

    response = requests.post(f"{simulator.url}/v3/auth/tokens", json=body, timeout=10)

    assert response.status_code == 201
    assert response.json()["token"]["project"]["id"] == simulator.second_project_id


@pytest.mark.parametrize(
    "overrides",
    [{"username": "someone-else"}, {"password": "wrong-password"}, {"domain": "other-domain"}],
    ids=["user", "password", "domain"],
)
def test_wrong_credentials_are_401_in_keystone_format(simulator, overrides):
    response = _auth(simulator, **overrides)

    assert response.status_code == 401
    assert "X-Subject-Token" not in response.headers
    assert response.json() == {
        "error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}
    }


def test_project_outside_the_account_is_401(simulator):
    response = _auth(simulator, project_id="ffffffffffffffffffffffffffffffff")

    assert response.status_code == 401


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"auth": {"identity": {"methods": ["token"]}}}'])
def test_malformed_auth_body_is_400(simulator, body):
    response = requests.post(f"{simulator.url}/v3/auth/tokens", data=body, timeout=10)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_a_new_token_does_not_invalidate_the_old_one(simulator):
    first = simulator.token()
    second = simulator.token()

    assert first != second
    for token in (first, second):
        assert simulator.api("GET", f"/v3/{simulator.project_id}/instances", token).status_code == 200


def test_missing_token_is_401(simulator):
    response = simulator.api("GET", f"/v3/{simulator.project_id}/instances", None)

    assert response.status_code == 401
    body = response.json()
    assert body["error_code"] == "APIGW.0301"
    assert body["error_msg"].startswith("Incorrect IAM authentication information")
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_unknown_token_is_401(simulator):
    response = simulator.api("GET", f"/v3/{simulator.project_id}/jobs", "MIIDforged")

    assert response.status_code == 401
    assert response.json()["error_code"] == "APIGW.0301"


def test_expire_tokens_makes_every_issued_token_invalid(simulator):
    tokens = [simulator.token(), simulator.token(simulator.second_project_id)]

    simulator.configure(expire_tokens=True)

    for token, project_id in zip(tokens, (simulator.project_id, simulator.second_project_id), strict=True):
        response = simulator.api("GET", f"/v3/{project_id}/instances", token)
        assert response.status_code == 401
        assert "The token must be updated" in response.json()["error_msg"]
    fresh = simulator.token()
    assert simulator.api("GET", f"/v3/{simulator.project_id}/instances", fresh).status_code == 200


def test_token_of_another_project_is_403(simulator):
    token = simulator.token(simulator.second_project_id)

    response = simulator.api("GET", f"/v3/{simulator.project_id}/instances", token)

    assert response.status_code == 403
    assert response.json() == {
        "error_code": "DBS.280032",
        "error_msg": "You do not have permission to perform this operation. "
        "Contact the administrator to obtain permission.",
    }


def test_domain_scoped_token_cannot_call_project_apis(simulator):
    body = password_auth(simulator.username, simulator.password, simulator.domain, simulator.project_id)
    body["auth"]["scope"] = {"domain": {"name": simulator.domain}}
    response = requests.post(f"{simulator.url}/v3/auth/tokens", json=body, timeout=10)
    assert response.status_code == 201
    assert "project" not in response.json()["token"]

    api = simulator.api("GET", f"/v3/{simulator.project_id}/jobs", response.headers["X-Subject-Token"])

    assert api.status_code == 403


def test_unknown_path_is_404_from_the_gateway(simulator):
    response = simulator.api("GET", f"/v3/{simulator.project_id}/flavors", simulator.token())

    assert response.status_code == 404
    assert response.json()["error_code"] == "APIG.0101"
