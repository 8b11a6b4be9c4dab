"""IAM tokens against the simulator: issued once, shared, renewed ahead of expiry and after a 401."""

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from backups.cloud import AuthenticationFailed, CachedToken, Forbidden, client_for_project

pytestmark = pytest.mark.django_db


class FixedTokenStore:
    """Always offers the same token and keeps nothing."""

    def __init__(self, token):
        self.token = token

    def get(self, key):
        return self.token

    def set(self, key, token):
        pass

    def discard(self, key, token):
        pass

    def get_or_issue(self, key, issue, *, valid_for):
        return self.token


def test_clients_share_one_token(make_client, simulator):
    first, second = make_client(), make_client()

    first.list_instances()
    second.list_instances()
    first.list_jobs()

    assert simulator.counters()["by_kind"]["token"] == 1


def test_token_is_renewed_ahead_of_expiry(make_client, simulator):
    simulator.configure(token_ttl=3)
    client = make_client(renew_before=timedelta(seconds=2))
    client.list_instances()
    client.list_instances()
    assert simulator.counters()["by_kind"]["token"] == 1

    time.sleep(1.2)  # now less than 2 s of the 3 s remain
    client.list_instances()

    counters = simulator.counters()
    assert counters["by_kind"]["token"] == 2
    assert "401" not in counters["by_status"], "renewed before the old token was refused"


def test_refused_token_is_renewed_once(client, simulator):
    client.list_instances()
    simulator.configure(expire_tokens=True)

    client.list_instances()

    counters = simulator.counters()
    assert counters["by_kind"]["token"] == 2
    assert counters["by_status"]["401"] == 1
    # The first call, the refused one and its one retry.
    assert counters["by_kind"]["list_instances"] == 3


def test_refused_token_before_a_create_is_renewed_and_the_create_sent_once(client, simulator):
    instance = simulator.add_instance("cass-1")
    client.list_instances()
    simulator.configure(expire_tokens=True)

    client.create_backup(instance["id"], "after-renewal", "token renewed on the way")

    assert len(simulator.backups(instance["id"])) == 1
    assert simulator.counters()["by_status"]["401"] == 1


def test_wrong_password_fails_without_a_retry_loop(make_client, credentials, simulator, sleep):
    client = make_client(credentials=replace(credentials, password="not-the-password"))

    with pytest.raises(AuthenticationFailed) as raised:
        client.list_instances()

    assert raised.value.status == 401
    assert "not-the-password" not in str(raised.value)
    assert simulator.counters()["by_kind"]["token"] == 1
    assert sleep.waits == []


def test_unknown_project_fails_authentication(make_client, credentials):
    client = make_client(credentials=replace(credentials, project_id="no-such-project"))

    with pytest.raises(AuthenticationFailed):
        client.list_instances()


def test_tokens_are_per_project(make_client, credentials, simulator):
    simulator.add_instance("in-first")
    simulator.add_instance("in-second", project_id=simulator.second_project_id)
    first = make_client()
    second = make_client(credentials=replace(credentials, project_id=simulator.second_project_id))

    assert [i.name for i in first.list_instances()] == ["in-first"]
    assert [i.name for i in second.list_instances()] == ["in-second"]
    assert simulator.counters()["by_kind"]["token"] == 2


def test_token_of_another_project_is_forbidden(make_client, simulator):
    other_token = CachedToken(simulator.token(simulator.second_project_id), datetime.now(UTC) + timedelta(hours=1))
    client = make_client(token_store=FixedTokenStore(other_token))

    with pytest.raises(Forbidden) as raised:
        client.list_instances()

    assert raised.value.error_code == "DBS.280032"
    assert raised.value.status == 403


def test_client_for_project_reads_the_project_fields(simulator):
    class Project:
        iam_endpoint = simulator.url
        geminidb_endpoint = simulator.url
        project_id = simulator.project_id
        iam_domain = simulator.domain
        iam_user = simulator.username
        iam_password = simulator.password

    simulator.add_instance("cass-1")
    client = client_for_project(Project(), timeout=2.0)

    assert [i.name for i in client.list_instances()] == ["cass-1"]
    assert client.credentials.password == simulator.password
    client.close()
