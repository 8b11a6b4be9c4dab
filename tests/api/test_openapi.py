"""The OpenAPI document keeps its word: schemathesis generates requests from it (valid ones and
broken ones) and sends them over real HTTP to the live API with a real token; no answer may
be a server error or break the document (status, headers, body schema, content type)."""

import os
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from api import auth
from webapp.throttle import Throttle

# The same examples on every run (Hypothesis's advice for CI: a red build means the code changed,
# not the dice). API_FUZZ_EXPLORE=1 draws new ones each run, to look for more; what they find
# goes into the code, and the fixed examples keep it from coming back.
EXPLORE = os.environ.get("API_FUZZ_EXPLORE") == "1"

# Each operation gets valid requests and broken ones (wrong types, missing fields, values out of range).
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture
def operations(live_server, api_world, monkeypatch, transactional_db):
    # Hundreds of requests a minute from one token: not what the rate limit is tested with here.
    monkeypatch.setattr(auth, "REQUESTS", Throttle("api-fuzz", limit=1_000_000, window=60))
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    return {f"{op.method.upper()} {op.path}": op for op in (result.ok() for result in schema.get_all_operations())}


def test_every_operation_is_fuzzed(operations):
    assert set(operations) == {
        "GET /api/v1/projects",
        "GET /api/v1/instances",
        "GET /api/v1/instances/{instance_id}",
        "GET /api/v1/backups",
        "POST /api/v1/backups",
        "GET /api/v1/backups/{backup_id}",
    }


def sends_what_it_says(case) -> bool:
    """requests leaves out a query parameter whose value is None or an empty list, sends a
    one-item list as that item, and an object's keys as its values: such a broken case can
    arrive as a valid request, and its acceptance would be no failure."""
    query = case.query or {}
    if any(isinstance(value, dict) or (isinstance(value, list) and len(value) <= 1) for value in query.values()):
        return False
    sent = parse_qs(urlsplit(requests.Request("GET", "http://api/", params=query).prepare().url).query, True)
    return set(sent) == {str(name) for name in query}


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
@pytest.mark.parametrize(
    "operation",
    [
        "GET /api/v1/projects",
        "GET /api/v1/instances",
        "GET /api/v1/instances/{instance_id}",
        "GET /api/v1/backups",
        "POST /api/v1/backups",
        "GET /api/v1/backups/{backup_id}",
    ],
)
def test_the_api_answers_as_its_document_says(operations, api_world, operation, mode):
    headers = {"Authorization": f"Bearer {api_world.secrets['operator']}"}

    @given(case=operations[operation].as_strategy(generation_mode=mode).filter(sends_what_it_says))
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=not EXPLORE,
    )
    def answers_as_documented(case):
        case.call_and_validate(headers=headers)

    answers_as_documented()


def test_the_document_is_openapi_3_with_the_bearer_scheme(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert {"/api/v1/backups", "/api/v1/backups/{backup_id}", "/api/v1/instances", "/api/v1/projects"} <= set(
        document["paths"]
    )
    create = document["paths"]["/api/v1/backups"]["post"]
    assert set(create["responses"]) >= {"202", "401", "403", "404", "422", "429"}
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])


def test_the_docs_page_is_served_by_the_console_itself(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "https://" not in page  # no CDN
