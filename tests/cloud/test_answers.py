"""What the client takes from an endpoint's answer, over real HTTP: at most
OUTBOUND_MAX_RESPONSE_BYTES, and an error message only in the cloud's own shape, so another
service's page, JSON or reason phrase never becomes the text a person reads."""

from dataclasses import replace

import pytest

from backups.cloud import AmbiguousRequest, AuthenticationFailed, Forbidden, ServerBusy
from backups.cloud.answers import MESSAGE_LIMIT, AnswerTooLarge

from .stub import Answer, StubServer, fake_cloud

LIMIT = 64 * 1024
SECRET = "internal-secret-3141"


@pytest.fixture
def stub():
    server = StubServer()
    yield server
    server.stop()


@pytest.fixture
def small_limit(settings):
    settings.OUTBOUND_MAX_RESPONSE_BYTES = LIMIT


def at(credentials, url):
    return replace(credentials, iam_endpoint=url, geminidb_endpoint=url)


@pytest.mark.parametrize("content_length", [True, False], ids=["declared", "streamed"])
def test_an_answer_longer_than_the_limit_is_refused(make_client, credentials, stub, small_limit, content_length):
    padding = "x" * (LIMIT * 4)
    token = {"token": {"expires_at": "2099-01-01T00:00:00Z", "padding": padding}}

    def answer(received):
        if received.path.startswith("/v3/auth/tokens"):
            body = Answer.json(201, token, headers={"X-Subject-Token": "stub-token"})
            body.content_length = content_length
            return body
        return fake_cloud(received)

    stub.answer = answer
    client = make_client(credentials=at(credentials, stub.url))

    with pytest.raises(AnswerTooLarge) as raised:
        client.list_instances()

    assert str(raised.value) == (
        f"the endpoint's answer was refused: the answer is larger than {LIMIT} bytes, more than the console reads "
        "(HTTP 201)"
    )
    assert not raised.value.retryable
    assert len(stub.requests) == 1


def test_an_answer_within_the_limit_is_read(make_client, credentials, stub, small_limit):
    stub.answer = fake_cloud
    assert make_client(credentials=at(credentials, stub.url)).list_instances() == []


def test_too_long_an_answer_to_a_create_is_ambiguous(make_client, credentials, simulator, stub, small_limit):
    stub.always(Answer.json(202, {"job_id": "j", "backup_id": "b", "padding": "x" * (LIMIT * 2)}))
    client = make_client(credentials=replace(credentials, geminidb_endpoint=stub.url))

    with pytest.raises(AmbiguousRequest):
        client.create_backup("0123456789abcdef0123456789abcdefin06", "backup-1", "x")

    assert len(stub.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        Answer(403, f"<html><h1>Admin panel</h1><p>{SECRET}</p></html>".encode(), {"Content-Type": "text/html"}),
        Answer(403, b"", reason=f"Forbidden {SECRET}"),
        Answer.json(403, {"error_msg": SECRET}),
        Answer.json(403, {"error_code": "not a code", "error_msg": SECRET}),
        Answer.json(403, {"error_code": ["DBS.280032"], "error_msg": SECRET}),
        Answer.json(403, {"error": {"message": SECRET}}),
        Answer.json(403, {"error": {"code": 500, "message": SECRET}}),
        Answer.json(403, {"error": {"code": 403, "message": ["list", SECRET]}}),
        Answer(403, b"", {"X-Request-Id": f"<b>{SECRET}</b>"}),
    ],
    ids=["html", "reason", "no-code", "bad-code", "list-code", "no-status", "wrong-status", "list-msg", "request-id"],
)
def test_an_error_from_something_else_is_told_in_our_words(make_client, credentials, simulator, stub, answer):
    stub.always(answer)
    client = make_client(credentials=replace(credentials, geminidb_endpoint=stub.url))

    with pytest.raises(Forbidden) as raised:
        client.list_instances()

    assert SECRET not in str(raised.value)
    assert raised.value.error_msg == "the endpoint answered Forbidden, without an error message from the cloud"
    assert raised.value.error_code is None
    assert raised.value.request_id is None


def test_an_unknown_status_is_told_in_our_words(make_client, credentials, simulator, stub):
    stub.always(Answer(599, SECRET.encode(), reason=SECRET))
    client = make_client(credentials=replace(credentials, geminidb_endpoint=stub.url))

    with pytest.raises(ServerBusy) as raised:
        client.list_instances()

    assert str(raised.value) == "the endpoint answered HTTP 599, without an error message from the cloud (HTTP 599)"


def test_the_clouds_own_error_is_kept_but_cut_short(make_client, credentials, simulator, stub):
    long_message = "The instance is frozen. " * 100
    stub.always(
        Answer.json(
            403,
            {"error_code": "DBS.280032", "error_msg": long_message},
            headers={"X-Request-Id": "5c3d1e8a9f0b4c2d8e7f6a5b4c3d2e1f"},
        )
    )
    client = make_client(credentials=replace(credentials, geminidb_endpoint=stub.url))

    with pytest.raises(Forbidden) as raised:
        client.list_instances()

    assert raised.value.error_code == "DBS.280032"
    assert raised.value.error_msg == " ".join(long_message.split())[:MESSAGE_LIMIT]
    assert len(raised.value.error_msg) == MESSAGE_LIMIT
    assert raised.value.request_id == "5c3d1e8a9f0b4c2d8e7f6a5b4c3d2e1f"


def test_iams_keystone_error_is_kept(make_client, credentials, stub):
    message = "The username or password is wrong."
    stub.always(Answer.json(401, {"error": {"code": 401, "title": "Unauthorized", "message": message}}))
    client = make_client(credentials=at(credentials, stub.url))

    with pytest.raises(AuthenticationFailed) as raised:
        client.list_instances()

    assert raised.value.error_msg == message


@pytest.mark.parametrize("length", ["²", "-1", "1e9"])
def test_a_crafted_content_length_is_ignored(make_client, credentials, stub, length):
    def answer(received):
        crafted = fake_cloud(received)
        crafted.headers["Content-Length"] = length
        crafted.content_length = False
        return crafted

    stub.answer = answer
    assert make_client(credentials=at(credentials, stub.url)).list_instances() == []


def test_a_declared_length_over_the_limit_is_refused_before_reading(make_client, credentials, stub):
    def answer(received):
        declared = fake_cloud(received)
        declared.headers["Content-Length"] = "9" * 40
        declared.content_length = False
        return declared

    stub.answer = answer
    with pytest.raises(AnswerTooLarge):
        make_client(credentials=at(credentials, stub.url)).list_instances()
