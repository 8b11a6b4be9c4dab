"""Personal access tokens at the API's door: what makes one stop working at once, what a
token may do as its owner's role changes, and the per-token rate limit."""

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from access.models import Membership
from api import auth
from api.models import ApiToken
from api.services.tokens import token_revoke
from webapp import throttle
from webapp.throttle import Throttle

pytestmark = pytest.mark.django_db


def token_of(secret: str) -> ApiToken:
    return ApiToken.objects.get(token_hash=ApiToken.hash(secret))


def refused(response, words: str):
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert words in body["message"]
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_without_a_token_the_api_says_how_to_send_one(client):
    refused(client.get("/api/v1/backups"), "Authorization: Bearer")
    refused(client.get("/api/v1/backups", HTTP_AUTHORIZATION="Basic b3NjYXI6cHc="), "Authorization: Bearer")


def test_a_session_is_not_a_token(api_world):
    signed_in = api_world.world.client("operator")
    refused(signed_in.get("/api/v1/projects"), "Authorization: Bearer")


def test_a_mistyped_token_is_refused(client):
    refused(client.get("/api/v1/backups", HTTP_AUTHORIZATION="Bearer gdbc_not-a-token"), "not valid")


def test_a_revoked_token_stops_working_at_once(api_world):
    secret = api_world.secrets["operator"]
    assert api_world.client("operator").get("/api/v1/projects").status_code == 200

    token_revoke(token=token_of(secret), by=api_world.world.users["operator"])

    refused(api_world.client("operator").get("/api/v1/projects"), "revoked")


def test_an_expired_token_says_so(api_world):
    token_of(api_world.secrets["operator"]).__class__.objects.filter(
        token_hash=ApiToken.hash(api_world.secrets["operator"])
    ).update(expires_at=timezone.now() - timedelta(seconds=1))

    refused(api_world.client("operator").get("/api/v1/projects"), "expired")


def test_a_deactivated_owner_s_tokens_stop_at_once(api_world):
    operator = api_world.world.users["operator"]
    operator.is_active = False
    operator.save()

    refused(api_world.client("operator").get("/api/v1/projects"), "deactivated")
    refused(api_world.client("read_only").get("/api/v1/projects"), "deactivated")


def test_a_removed_owner_s_tokens_are_gone_with_them(api_world):
    api_world.world.users["operator"].delete()

    refused(api_world.client("operator").get("/api/v1/projects"), "not valid")
    assert not ApiToken.objects.filter(token_hash=ApiToken.hash(api_world.secrets["operator"])).exists()


def test_a_token_follows_its_owner_out_of_a_project(api_world):
    world = api_world.world
    client = api_world.client("operator")
    Membership.objects.filter(user=world.users["operator"], project=world.project).delete()

    assert client.get("/api/v1/projects").json()["items"] == []
    assert client.get(f"/api/v1/backups/{world.backup.pk}").status_code == 404


def test_a_token_never_does_more_than_its_owner_does_today(api_world):
    world = api_world.world
    Membership.objects.filter(user=world.users["operator"], project=world.project).update(role="viewer")

    response = api_world.client("operator").post(
        "/api/v1/backups", {"instance": api_world.free_instance.pk, "name": "deploy-1"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "Operator or Admin" in response.json()["message"]


def test_the_last_use_is_recorded_once_a_minute(api_world, django_assert_num_queries):
    secret = api_world.secrets["viewer"]
    assert token_of(secret).last_used_at is None
    client = api_world.client("viewer")

    client.get("/api/v1/projects")
    used = token_of(secret).last_used_at
    assert used is not None
    client.get("/api/v1/projects")
    assert token_of(secret).last_used_at == used

    ApiToken.objects.filter(pk=token_of(secret).pk).update(last_used_at=used - timedelta(minutes=2))
    client.get("/api/v1/projects")
    assert token_of(secret).last_used_at > used


def test_only_a_hash_of_the_token_is_stored(api_world):
    secret = api_world.secrets["operator"]
    token = token_of(secret)
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert not any(secret in value for value in stored)
    assert token.prefix == secret[: len(token.prefix)]
    assert len(token.prefix) < 16


def test_past_the_limit_a_token_waits_and_others_do_not(api_world, monkeypatch):
    monkeypatch.setattr(auth, "REQUESTS", Throttle("api-token-test", limit=3, window=60))
    # The windows start on the clock's minutes: one starting between the 3rd and 4th request
    # would count afresh. Time stands still here, 5 s into a window.
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: 29_000_000 * 60 + 5.0))
    client = api_world.client("operator")
    assert [client.get("/api/v1/projects").status_code for _ in range(3)] == [200, 200, 200]

    response = client.get("/api/v1/projects")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert api_world.client("viewer").get("/api/v1/projects").status_code == 200


def test_a_token_never_reaches_the_log(api_world, caplog):
    caplog.set_level(logging.DEBUG)
    for who in ("operator", "viewer"):
        api_world.client(who).get("/api/v1/backups/999999")
        api_world.client(who).get("/api/v1/backups", {"status": "nonsense"})
    revoked = api_world.secrets["operator"]
    token_revoke(token=token_of(revoked), by=api_world.world.users["operator"])
    api_world.client("operator").get("/api/v1/projects")

    assert caplog.records  # the 404, 422 and 401 are logged
    for secret in (api_world.secrets["operator"], api_world.secrets["viewer"]):
        assert secret not in caplog.text
        assert secret[len("gdbc_") :] not in caplog.text
