"""The access app's middlewares: the audit trail's client address, and the initial-password
hold (someone signed in with a password an admin chose may only change it)."""

from axes.helpers import get_client_ip_address
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from access.selectors.accounts import must_change_password
from access.services.audit import client_ip


class AuditContextMiddleware:
    """Makes the client's address (found as django-axes finds it) known to `record`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with client_ip(get_client_ip_address(request)):
            return self.get_response(request)


class InitialPasswordMiddleware:
    """Until a person has replaced the initial password an admin set, every page sends them to
    Django's password change page. Signing out stays possible."""

    ALLOWED_URL_NAMES = ("password_change", "password_change_done", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if must_change_password(request.user) and not self._allowed(request.path_info):
            url = reverse("password_change")
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return redirect(url)
        return self.get_response(request)

    def _allowed(self, path: str) -> bool:
        return any(path == reverse(name) for name in self.ALLOWED_URL_NAMES)
