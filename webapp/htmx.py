"""htmx conventions shared by every app's views (django-htmx's `request.htmx`)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request for a piece of the page (a boosted one wants the whole page)."""
    return bool(request.htmx) and not request.htmx.boosted


def render_page(
    request: HttpRequest, template: str, context: dict, *, fragment: str, status: int = 200
) -> HttpResponse:
    """The whole page, or only its `fragment` partial when htmx asks for a piece of it."""
    name = f"{template}#{fragment}" if wants_fragment(request) else template
    return render(request, name, context, status=status)
