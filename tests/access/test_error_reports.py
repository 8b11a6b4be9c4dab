"""Passwords never reach error reports.

A request that carries a password fails deep down (the HTTP call to the cloud, the password
hash), and Django's own error reporter (AdminEmailHandler, as production mails it to ADMINS)
writes its report: the POST data and the local variables of every frame, view to transport.
The password must appear in none of it, in the text or the HTML version.
"""

import logging

import pytest
import requests
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from .conftest import World
from .test_projects import cloud, connect_form, credentials_url, live_project  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

SECRET = "Sup3r-Secret-IAM-pw!"


class Boom(Exception):
    """The bug, deep in a call that holds the password."""


@pytest.fixture
def error_mails(settings):
    """Django's error reporter, as configured in production: every 500 mailed to ADMINS, with
    the HTML report (which shows each frame's variables) attached."""
    settings.ADMINS = [("Ops", "ops@example.com")]
    handler = AdminEmailHandler(include_html=True)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield mail.outbox
    logger.removeHandler(handler)


def broken_network(monkeypatch):
    """The failure comes from under requests and urllib3, whose frames hold the JSON body."""

    def fail(self, request, **kwargs):
        raise Boom(f"sending {request.method} failed")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", fail)


def report_of(outbox) -> str:
    """Every report sent: production's own mail_admins (text) and the HTML one added here."""
    assert outbox, "the failure was reported"
    return "".join(m.body + "".join(str(content) for content, _ in m.alternatives) for m in outbox)


def assert_kept_out(report: str, secret: str):
    assert "Boom" in report  # the report is a real one, with the traceback
    assert "Local Vars" in report or "Local vars" in report  # and with frame variables
    assert secret not in report


def test_connect_failure_report_holds_no_password(world: World, simulator, monkeypatch, error_mails):
    broken_network(monkeypatch)
    client = world.client("site_admin", raise_request_exception=False)
    response = client.post(reverse("access:project_connect"), connect_form(simulator, password=SECRET))
    assert response.status_code == 500
    report = report_of(error_mails)
    assert_kept_out(report, SECRET)
    assert_kept_out(report, client.cookies[settings.SESSION_COOKIE_NAME].value)  # a session is a credential too


def test_credentials_failure_report_holds_no_password(
    world: World,
    simulator,
    live_project,  # noqa: F811
    monkeypatch,
    error_mails,
):
    broken_network(monkeypatch)
    client = world.client("admin", raise_request_exception=False)
    form = {"iam_domain": simulator.domain, "iam_user": simulator.username, "password": SECRET}
    response = client.post(credentials_url(live_project), form)
    assert response.status_code == 500
    assert_kept_out(report_of(error_mails), SECRET)


def test_password_change_failure_report_holds_no_password(world: World, monkeypatch, error_mails):
    from django.contrib.auth.base_user import AbstractBaseUser

    def fail(self, raw_password):
        raise Boom("hashing failed")

    monkeypatch.setattr(AbstractBaseUser, "set_password", fail)
    client = world.client("viewer", raise_request_exception=False)
    new = "An0ther-Secret-pw!"
    form = {"old_password": "pw-for-tests", "new_password1": new, "new_password2": new}
    response = client.post(reverse("password_change"), form)
    assert response.status_code == 500
    report = report_of(error_mails)
    assert_kept_out(report, new)
    assert "pw-for-tests" not in report


def test_invitation_accept_failure_report_holds_no_password(world: World, monkeypatch, error_mails):
    from django.contrib.auth.base_user import AbstractBaseUser

    from tests.access.invitations import invite

    def fail(self, raw_password):
        raise Boom("hashing failed")

    invitation = invite(world.project, "nora@example.com", "viewer", by=world.users["admin"])
    monkeypatch.setattr(AbstractBaseUser, "set_password", fail)
    form = {"username": "nora", "password1": SECRET, "password2": SECRET}
    response = Client(raise_request_exception=False).post(invitation.url, form)
    assert response.status_code == 500
    report = report_of(error_mails)
    assert_kept_out(report, SECRET)
    # The link's token is in the request's URL, which every report names (as every access log
    # does): single use and expiry bound that, see README "Security".
