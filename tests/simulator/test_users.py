"""More projects and IAM users than the starting account's, each user with its own gateway limit."""

import requests

from tests.fixtures.simulator import password_auth


def _token(simulator, user, password, project_id):
    response = requests.post(
        f"{simulator.url}/v3/auth/tokens",
        json=password_auth(user, password, simulator.domain, project_id),
        timeout=10,
    )
    return response


def _instances(simulator, project_id, token):
    return simulator.api("GET", f"/v3/{project_id}/instances", token)


def test_a_new_user_signs_in_to_its_own_project_only(simulator):
    fields = simulator.add_project("eu-de_team2", "team2-console", "team2-password")
    project_id = fields["project_id"]

    issued = _token(simulator, "team2-console", "team2-password", project_id)
    to_demo_project = _token(simulator, "team2-console", "team2-password", simulator.project_id)
    demo_user_to_it = _token(simulator, simulator.username, simulator.password, project_id)
    wrong_password = _token(simulator, "team2-console", "demo-password", project_id)

    assert issued.status_code == 201
    body = issued.json()["token"]
    assert body["user"]["name"] == "team2-console"
    assert body["project"]["id"] == project_id
    assert body["project"]["name"] == "eu-de_team2"
    assert _instances(simulator, project_id, issued.headers["X-Subject-Token"]).status_code == 200
    assert [to_demo_project.status_code, demo_user_to_it.status_code, wrong_password.status_code] == [401, 401, 401]
    assert to_demo_project.json()["error"]["message"] == "The user has no access to the requested project."


def test_the_gateway_counts_each_users_calls_apart(simulator):
    simulator.configure(rate_limit_per_minute=2)
    fields = simulator.add_project("eu-de_team2", "team2-console", "team2-password")
    project_id = fields["project_id"]
    demo_token = simulator.token()
    team_token = _token(simulator, "team2-console", "team2-password", project_id).headers["X-Subject-Token"]

    demo = [_instances(simulator, simulator.project_id, demo_token).status_code for _ in range(3)]
    team = [_instances(simulator, project_id, team_token).status_code for _ in range(2)]

    assert demo == [200, 200, 429]
    assert team == [200, 200]


def test_a_user_may_have_a_limit_of_its_own(simulator):
    fields = simulator.add_project("eu-de_team2", "team2-console", "team2-password", rate_limit_per_minute=1)
    project_id = fields["project_id"]
    token = _token(simulator, "team2-console", "team2-password", project_id).headers["X-Subject-Token"]

    answers = [_instances(simulator, project_id, token).status_code for _ in range(2)]
    demo_unlimited = [_instances(simulator, simulator.project_id, simulator.token()).status_code for _ in range(3)]

    assert answers == [200, 429]
    assert demo_unlimited == [200, 200, 200]
    assert "limit:1" in _instances(simulator, project_id, token).json()["error_msg"]


def test_counters_tell_each_projects_calls(simulator):
    simulator.configure(rate_limit_per_minute=1)
    fields = simulator.add_project("eu-de_team2", "team2-console", "team2-password")
    project_id = fields["project_id"]
    token = _token(simulator, "team2-console", "team2-password", project_id).headers["X-Subject-Token"]
    _instances(simulator, project_id, token)
    _instances(simulator, project_id, token)
    simulator.api("GET", f"/v3.1/{simulator.project_id}/backups", simulator.token())

    by_project = simulator.counters()["by_project"]

    assert by_project[project_id] == {"by_kind": {"list_instances": 2}, "by_status": {"200": 1, "429": 1}}
    assert by_project[simulator.project_id] == {"by_kind": {"list_backups": 1}, "by_status": {"200": 1}}


def test_added_projects_and_users_are_listed_and_gone_after_reset(simulator):
    fields = simulator.add_project("eu-de_team2", "team2-console", "team2-password")
    state = simulator.state()
    assert {"id": fields["project_id"], "name": "eu-de_team2"} in state["projects"]
    user = next(u for u in state["users"] if u["name"] == "team2-console")
    assert user["project_ids"] == [fields["project_id"]]
    assert "password" not in user

    state = simulator.reset()

    assert fields["project_id"] not in [p["id"] for p in state["projects"]]
    assert [u["name"] for u in state["users"]] == [simulator.username]


def test_bad_projects_and_users_are_refused(simulator):
    simulator.add_project("eu-de_team2", "team2-console", "team2-password")

    def post(path, body):
        response = requests.post(f"{simulator.url}/_sim/{path}", json=body, timeout=10)
        return response.status_code, response.json()["error"]

    assert post("projects", {"name": "eu-de_team2"})[0] == 400
    assert post("projects", {"name": ""})[0] == 400
    assert post("users", {"name": "team2-console", "password": "x", "project_ids": []})[0] == 400
    status, error = post("users", {"name": "team3", "password": "x", "project_ids": ["nope"]})
    assert (status, error) == (400, "unknown project_id 'nope'")
    assert post("users", {"name": "team3", "password": "x", "project_ids": [], "rate_limit_per_minute": -1})[0] == 400
    assert post("users", {"name": "team3", "password": "x", "project_ids": [], "role": "admin"})[0] == 400
