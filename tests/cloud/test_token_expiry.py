"""IAM's answer is remote data: an ``expires_at`` that is not a time ("²", a year past 9999, a
number, a list) or a ``token`` that is not an object is a CloudError with our words, never a
ValueError, OverflowError or AttributeError escaping from the client. Over real HTTP, with a
fuzzed case: whatever JSON IAM puts there, the client either gets a token or a CloudError."""

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backups.cloud import CloudError
from backups.cloud.memory import MemoryTokenStore
from backups.cloud.types import parse_time

from .stub import Answer, StubServer, fake_cloud


@pytest.fixture(scope="module")
def iam():
    """IAM and GeminiDB in one stub; ``iam.token`` is what the next sign-in answers as ``token``."""
    server = StubServer()
    server.token = {"expires_at": "2099-01-01T00:00:00Z"}

    def answer(received):
        if received.path.startswith("/v3/auth/tokens"):
            return Answer.json(201, {"token": server.token}, headers={"X-Subject-Token": "stub-token"})
        return fake_cloud(received)

    server.answer = answer
    yield server
    server.stop()


@pytest.fixture
def sign_in(make_client, credentials, iam):
    def sign_in(token):
        iam.token = token
        endpoint = {"iam_endpoint": iam.url, "geminidb_endpoint": iam.url}
        client = make_client(credentials=replace(credentials, **endpoint), token_store=MemoryTokenStore())
        return client.list_instances()

    return sign_in


@pytest.mark.parametrize(
    "expires_at",
    [
        "²",
        "9999999999999-01-01",
        "9999-12-31T23:59:59-01:00",  # past datetime.max once in UTC: OverflowError
        "0001-01-01T00:00:00+01:00",
        "2023-02-30T00:00:00Z",
        "\x00",
        1700000000,
        1.5,
        True,
        ["2099-01-01T00:00:00Z"],
        {"at": "2099-01-01T00:00:00Z"},
    ],
)
def test_an_expiry_that_is_not_a_time_is_a_cloud_error(sign_in, expires_at):
    with pytest.raises(CloudError) as raised:
        sign_in({"expires_at": expires_at})

    assert type(raised.value) is CloudError
    assert not raised.value.retryable
    assert str(raised.value) == "IAM answered with a token expiry that is not a time (HTTP 201)"


@pytest.mark.parametrize("token", ["2099-01-01T00:00:00Z", ["x"], 7, None, {}])
def test_a_token_that_is_not_an_object_is_a_cloud_error(sign_in, token):
    with pytest.raises(CloudError, match="IAM answered without a token or its expiry"):
        sign_in(token)


def test_a_good_expiry_still_signs_in(sign_in):
    assert sign_in({"expires_at": "2099-01-01T00:00:00.000000Z"}) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5,
)
TIMELIKE = st.from_regex(r"\A[0-9²+\-:.TZ ]{0,40}\Z") | st.datetimes().map(datetime.isoformat) | JSON


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expires_at=TIMELIKE)
def test_fuzzed_expiry_gives_a_token_or_a_cloud_error(sign_in, expires_at):
    try:
        outcome = sign_in({"expires_at": expires_at})
    except CloudError as error:
        outcome = str(error)
    assert outcome == [] or "IAM answered with" in outcome


@given(value=TIMELIKE)
def test_parse_time_raises_only_value_error(value):
    try:
        parsed = parse_time(value)
    except ValueError:
        return
    assert parsed is None or parsed.utcoffset().total_seconds() == 0
