"""Liveness (/healthz) and readiness (/readyz) probes for containers and load balancers.

Both answer before host validation and the HTTPS redirect, which a probe calling 127.0.0.1
over plain HTTP would otherwise trip. /healthz is cheap: this process serves and reaches its
database. /readyz asks whether the console can do its work: database, cache, broker, and a
beat heartbeat recent enough to show that scheduled work (sweeps, polls) is happening.
"""

import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse

log = logging.getLogger(__name__)

# Written by webapp.celery.beat_heartbeat; /readyz, `manage.py beat_alive` and the metrics read it.
BEAT_HEARTBEAT_KEY = "beat:heartbeat"
BROKER_TIMEOUT_SECONDS = 2


class HealthCheckMiddleware:
    """Answers /healthz: this process serves and reaches its database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return HttpResponse("ok", content_type="text/plain")
        return self.get_response(request)


def beat_heartbeat_age() -> float | None:
    """Seconds since beat's last heartbeat reached a worker, or None when there is none."""
    beat = cache.get(BEAT_HEARTBEAT_KEY)
    return None if beat is None else max(0.0, time.time() - float(beat))


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    probe = uuid.uuid4().hex
    cache.set("readyz:probe", probe, timeout=30)
    if cache.get("readyz:probe") != probe:
        raise RuntimeError("the cache did not keep a value")


def _broker() -> None:
    from kombu import Connection

    # Settings rather than the Celery app's (cached) configuration, so a test can point it elsewhere.
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=BROKER_TIMEOUT_SECONDS,
        transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    ) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=1, timeout=BROKER_TIMEOUT_SECONDS)


def _beat() -> None:
    age = beat_heartbeat_age()
    if age is None or age > settings.BEAT_HEARTBEAT_MAX_AGE_SECONDS:
        raise RuntimeError("no recent beat heartbeat" if age is None else f"last beat heartbeat {age:.0f} s ago")


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "beat": _beat}


def readiness() -> dict[str, str]:
    """Each check's verdict: "ok" or "failed". Exception texts are logged by type only, and
    never answered: a broker or database error may carry its URL, password included."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure of a dependency makes the console not ready
            detail = str(error) if name == "beat" else type(error).__name__  # the beat's own words only
            log.warning("readiness check %s failed: %s", name, detail)
            results[name] = "failed"
        else:
            results[name] = "ok"
    return results


class ReadinessMiddleware:
    """Answers /readyz: 200 with every check "ok", or 503 naming the ones that failed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/readyz":
            results = readiness()
            ready = all(value == "ok" for value in results.values())
            response = JsonResponse(results, status=200 if ready else 503, headers={"Cache-Control": "no-store"})
            # Each failed check is logged above as a warning; not also an ERROR per probe from
            # django.request (a probe every few seconds while beat is down).
            response._has_been_logged = True
            return response
        return self.get_response(request)
