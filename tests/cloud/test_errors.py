"""Error answers are sorted into classes by code first, then by HTTP status."""

import pytest

from backups.cloud import (
    AmbiguousRequest,
    AuthenticationFailed,
    CloudError,
    CloudUnavailable,
    Forbidden,
    InstanceBusy,
    InstanceNotFound,
    InvalidRequest,
    ServerBusy,
    Throttled,
)
from backups.cloud.errors import error_class, parse_error_body

# tests/conftest.py resets the cache around every test, and the cache may be a database table.
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "DBS.200001", InvalidRequest),
        (400, "DBS.280277", InvalidRequest),
        (400, None, InvalidRequest),
        (404, "DBS.200002", InstanceNotFound),
        (403, "DBS.201028", InstanceNotFound),
        (400, "DBS.201501", InstanceNotFound),
        (404, None, InstanceNotFound),
        (403, "DBS.201015", InstanceBusy),
        (403, "DBS.200019", InstanceBusy),
        (403, "DBS.200011", InstanceBusy),
        (400, "DBS.201202", InstanceBusy),
        (403, "DBS.280032", Forbidden),
        (400, "DBS.200604", Forbidden),
        (403, None, Forbidden),
        (401, "APIGW.0301", AuthenticationFailed),
        (401, None, AuthenticationFailed),
        (403, "DBS.280056", AuthenticationFailed),
        (429, "APIG.0308", Throttled),
        (429, "DBS.280443", Throttled),
        (429, None, Throttled),
        (500, "DBS.200998", ServerBusy),
        (500, "DBS.280005", ServerBusy),
        (502, None, ServerBusy),
        (503, "SOMETHING.NEW", ServerBusy),
        (500, "DBS.200165", CloudError),
        (409, None, CloudError),
        (405, "APIG.0101", CloudError),
    ],
)
def test_error_class(status, code, expected):
    assert error_class(status, code) is expected


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (CloudError, False),
        (CloudUnavailable, True),
        (AmbiguousRequest, False),
        (Throttled, True),
        (ServerBusy, True),
        (AuthenticationFailed, False),
        (Forbidden, False),
        (InvalidRequest, False),
        (InstanceNotFound, False),
        (InstanceBusy, False),
    ],
)
def test_retryable(cls, retryable):
    assert cls.retryable is retryable
    assert issubclass(cls, CloudError)


def test_parse_dbs_body():
    assert parse_error_body({"error_code": "DBS.200001", "error_msg": "Parameter error."}) == (
        "DBS.200001",
        "Parameter error.",
    )


def test_parse_iam_body_keeps_named_codes_only():
    keystone = {"error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}}
    named = {"error": {"code": "IAM.0101", "message": "The request you have made requires authentication."}}

    assert parse_error_body(keystone) == (None, "The username or password is wrong.")
    assert parse_error_body(named) == ("IAM.0101", "The request you have made requires authentication.")


@pytest.mark.parametrize("body", [None, [], "oops", {}, {"unrelated": 1}])
def test_parse_unknown_body(body):
    assert parse_error_body(body) == (None, "")


def test_str_names_code_status_and_request():
    error = InstanceBusy("Another operation is running.", status=403, error_code="DBS.201015", request_id="abc123")

    assert str(error) == "DBS.201015: Another operation is running. (HTTP 403, request abc123)"


def test_str_without_details():
    assert str(CloudUnavailable("GET /v3/p/instances: no answer (ReadTimeout)")) == (
        "GET /v3/p/instances: no answer (ReadTimeout)"
    )
    assert str(AuthenticationFailed("Wrong password.", status=401)) == "Wrong password. (HTTP 401)"


def test_throttled_carries_retry_after():
    error = Throttled("over ratelimit", retry_after=3.5, status=429, error_code="APIG.0308")

    assert error.retry_after == 3.5
    assert error.status == 429


@pytest.mark.parametrize(
    ("header", "seconds"), [("3", 3.0), ("²", None), ("\uff11\uff12", None), ("", None), ("9" * 400, 30.0)]
)
def test_a_crafted_retry_after_header_never_breaks_the_client(header, seconds):
    """Retry-After is remote text: "²" passes str.isdigit() but not float()."""
    import requests

    from backups.cloud import CloudCredentials, RetryPolicy
    from backups.cloud.transport import CloudSession

    credentials = CloudCredentials("https://iam.example", "https://gemini.example", "p", "d", "u", "pw")
    session = CloudSession(credentials, retry=RetryPolicy(max_total_wait=30.0, throttle_wait=(2.0, 2.0)))
    response = requests.Response()
    response.headers["Retry-After"] = header
    assert session._retry_after(response) == (2.0 if seconds is None else seconds)
