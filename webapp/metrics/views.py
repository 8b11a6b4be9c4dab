"""GET /metrics: the Prometheus text format, for whoever holds METRICS_TOKEN.

Without METRICS_TOKEN the endpoint does not exist (404), and a missing or wrong bearer token
gets the same 404: as elsewhere in the console, nobody learns what they may not see.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from . import LIVE, multiprocess_dir
from .collector import DatabaseCollector


class _Live:
    """This process's live metrics, when they are not shared through files."""

    def collect(self):
        return LIVE.collect()


def scrape() -> bytes:
    """The exposition of every metric: the live ones (summed over processes in multiprocess
    mode) and the database gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if directory := multiprocess_dir():
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Live())
    registry.register(DatabaseCollector())
    return generate_latest(registry)


def _authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


# Any method but GET is refused below, after the token (a POST without a CSRF token is refused
# before, by the middleware, as everywhere: no page is exempt).
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
