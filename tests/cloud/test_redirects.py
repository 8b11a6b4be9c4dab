"""The client never follows a redirect, over real HTTP: a 307 from IAM would send the JSON body
with the IAM password to the new host, a 302 from GeminiDB the X-Auth-Token. A redirect is a
permanent error with the console's own words, and the place it points to hears nothing."""

from dataclasses import replace

import pytest

from backups.cloud import CloudError
from backups.cloud.answers import RedirectRefused

from .stub import Answer, StubServer


@pytest.fixture
def servers():
    started = []

    def start() -> StubServer:
        started.append(StubServer())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def redirecting_to(target: StubServer, status: int):
    return lambda received: Answer(status, headers={"Location": f"{target.url}{received.path}"})


@pytest.mark.parametrize("status", [307, 308, 302, 301])
def test_iam_redirect_never_sends_the_password_to_the_new_host(make_client, credentials, servers, status):
    iam, elsewhere = servers(), servers()
    iam.answer = redirecting_to(elsewhere, status)
    client = make_client(credentials=replace(credentials, iam_endpoint=iam.url))

    with pytest.raises(RedirectRefused) as raised:
        client.list_instances()

    assert elsewhere.requests == []
    [token_request] = iam.requests  # asked once: a redirect is not retried
    assert credentials.password.encode() in token_request.body
    assert not raised.value.retryable
    assert isinstance(raised.value, CloudError)
    assert raised.value.status == status
    assert str(raised.value) == (
        f"the endpoint answered with a redirect, which the console never follows (HTTP {status})"
    )
    assert elsewhere.url not in str(raised.value)


@pytest.mark.parametrize("status", [302, 303, 307])
def test_geminidb_redirect_never_forwards_the_token(make_client, credentials, simulator, servers, status):
    geminidb, elsewhere = servers(), servers()
    geminidb.answer = redirecting_to(elsewhere, status)
    client = make_client(credentials=replace(credentials, geminidb_endpoint=geminidb.url))

    with pytest.raises(RedirectRefused):
        client.list_instances()

    [listing] = geminidb.requests
    assert listing.headers.get("X-Auth-Token")  # the token went where it was meant to go, only
    assert elsewhere.requests == []


def test_a_redirected_create_is_sent_once_and_goes_nowhere_else(make_client, credentials, simulator, servers):
    geminidb, elsewhere = servers(), servers()
    geminidb.answer = redirecting_to(elsewhere, 307)
    client = make_client(credentials=replace(credentials, geminidb_endpoint=geminidb.url))

    with pytest.raises(RedirectRefused):
        client.create_backup("0123456789abcdef0123456789abcdefin06", "backup-1", "x")

    assert [r.method for r in geminidb.requests] == ["POST"]
    assert elsewhere.requests == []
