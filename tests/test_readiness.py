"""/readyz: the database, the cache, the broker and beat's heartbeat; `beat_alive` for beat's container."""

import time

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from tests.fixtures.worker import WORKER_ENV, Worker, purge_broker, wait_for
from webapp.health import BEAT_HEARTBEAT_KEY

DEAD_BROKER = "redis://:not-a-real-password@127.0.0.1:1/0"


@pytest.fixture
def ticking_worker(transactional_db, tmp_path):
    """A real worker with beat, its heartbeat every half second."""
    purge_broker()
    worker = Worker(tmp_path, env={**WORKER_ENV, "BEAT_HEARTBEAT_SECONDS": "0.5"})
    worker.start()
    yield worker
    worker.stop()
    purge_broker()


def heartbeat_seen():
    """the first beat heartbeat"""
    return cache.get(BEAT_HEARTBEAT_KEY)


@pytest.mark.integration
def test_ready_while_beat_ticks_and_not_once_it_stops(client, settings, ticking_worker):
    wait_for(heartbeat_seen, worker=ticking_worker)
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "ok", "beat": "ok"}
    call_command("beat_alive")

    ticking_worker.stop()
    settings.BEAT_HEARTBEAT_MAX_AGE_SECONDS = 1
    time.sleep(1.5)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "ok", "beat": "failed"}
    with pytest.raises(CommandError, match="old"):
        call_command("beat_alive")


@pytest.mark.django_db
def test_no_heartbeat_at_all_is_not_ready(client):
    assert client.get("/readyz").json()["beat"] == "failed"
    with pytest.raises(CommandError, match="No beat heartbeat"):
        call_command("beat_alive")


@pytest.mark.django_db
def test_a_dead_broker_is_named_without_its_url(client, settings):
    cache.set(BEAT_HEARTBEAT_KEY, time.time())
    settings.CELERY_BROKER_URL = DEAD_BROKER
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 10  # a probe must answer within its own timeout
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "failed", "beat": "ok"}
    assert b"not-a-real-password" not in response.content
    assert b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_readyz_answers_before_host_validation_and_https_redirect(client, settings):
    cache.set(BEAT_HEARTBEAT_KEY, time.time())
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/readyz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_healthz_stays_cheap_whatever_beat_does(client, settings):
    settings.CELERY_BROKER_URL = DEAD_BROKER
    assert client.get("/healthz").status_code == 200
