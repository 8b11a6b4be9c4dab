"""htmx conventions shared by every app's views (django-htmx's `request.htmx`)."""

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it (its documented pattern for type checkers)."""

    htmx: HtmxDetails


def htmx_of(request: HttpRequest) -> HtmxDetails:
    """`request.htmx`, typed: the middleware (in every settings) sets it on every request."""
    return cast(HtmxHttpRequest, request).htmx


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request for a piece of the page (a boosted one wants the whole page)."""
    htmx = htmx_of(request)
    return bool(htmx) and not htmx.boosted


def render_page(
    request: HttpRequest, template: str, context: dict, *, fragment: str, status: int = 200
) -> HttpResponse:
    """The whole page, or only its `fragment` partial when htmx asks for a piece of it."""
    name = f"{template}#{fragment}" if wants_fragment(request) else template
    return render(request, name, context, status=status)
