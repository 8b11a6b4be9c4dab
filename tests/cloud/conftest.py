"""Clients wired to the test simulator with short timeouts, quick retries and a roomy budget."""

import time

import pytest
from django.core.cache import cache

from backups.cloud import CloudCredentials, DjangoCacheCallBudget, GeminiDBClient, RetryPolicy

# Retries that finish in well under a second, so fault tests stay fast.
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_total_wait=2.0, throttle_wait=(0.01, 0.02))


class RecordingSleep:
    """A sleep that really sleeps (the waits are short) and remembers every wait."""

    def __init__(self):
        self.waits = []

    def __call__(self, seconds):
        self.waits.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def credentials(simulator):
    return CloudCredentials(
        iam_endpoint=simulator.url,
        geminidb_endpoint=simulator.url,
        project_id=simulator.project_id,
        domain=simulator.domain,
        user=simulator.username,
        password=simulator.password,
    )


@pytest.fixture
def fast_retry():
    return FAST_RETRY


@pytest.fixture
def sleep():
    return RecordingSleep()


@pytest.fixture
def make_client(credentials, sleep):
    """Build clients; keyword arguments override the test defaults."""
    clients = []

    def make(**overrides):
        client_credentials = overrides.pop("credentials", credentials)
        options = {
            "timeout": 2.0,
            "retry": FAST_RETRY,
            "sleep": sleep,
            "call_budget": DjangoCacheCallBudget(1000, cache=cache),
        }
        options.update(overrides)
        client = GeminiDBClient(client_credentials, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()
