"""The access app's middleware: the audit trail's client address."""

from axes.helpers import get_client_ip_address
from django.http import HttpRequest, HttpResponse

from access.services.audit import client_ip


class AuditContextMiddleware:
    """Makes the client's address (found as django-axes finds it) known to `record`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with client_ip(get_client_ip_address(request)):
            return self.get_response(request)
