"""Poll passes (`access.pollpass`): a live poll is answered from the pass its page carries,
which is good only with the session it was issued for, while that session lasts, for a minute."""

import re
import time
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from access.models import Membership
from access.pollpass import POLL_PASS_SECONDS
from tests.factories import BackupFactory, InstanceFactory
from tests.helpers import HTMX, signed_in, text

pytestmark = pytest.mark.django_db

HISTORY = reverse("backups:history")
LIVE = reverse("backups:history_live")
POLL_PASS = re.compile(r'<input type="hidden" id="poll-pass" name="poll" value="([^"]+)"')
LIVE_INPUT = re.compile(r'<input type="hidden" name="live" value="([^"]+)">')


def open_page(client):
    html = text(client.get(HISTORY))
    return LIVE_INPUT.findall(html), POLL_PASS.search(html).group(1)


def poll(client, rows, poll_pass=None):
    return client.get(LIVE, {"live": rows, **({"poll": poll_pass} if poll_pass else {})}, **HTMX)


@pytest.fixture
def running(instance):
    return BackupFactory(instance=instance, running=True, name="still-going")


def test_a_poll_without_a_pass_signs_in_and_hands_the_page_a_new_one(
    operator_client, running, django_assert_num_queries
):
    rows, _ = open_page(operator_client)
    response = poll(operator_client, rows)
    # Nothing changed, but the page needs the pass: the answer is that input alone.
    assert response.status_code == 200
    html = text(response)
    assert "<tr" not in html
    new_pass = re.search(r'<input type="hidden" id="poll-pass" name="poll" value="([^"]+)" hx-swap-oob="true">', html)
    assert new_pass
    with django_assert_num_queries(1):  # the rows; no user, no projects
        assert poll(operator_client, rows, new_pass.group(1)).status_code == 204


@pytest.mark.parametrize("garbled", ["x", "a:b:c", "{}", "é" * 300])
def test_a_garbled_or_forged_pass_is_ignored(operator_client, running, garbled):
    rows, good = open_page(operator_client)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for bad in (garbled, forged):
        response = poll(operator_client, rows, bad)
        assert response.status_code == 200
        assert 'hx-swap-oob="true"' in text(response)  # signed in again, a fresh pass


def test_a_pass_is_good_only_with_the_session_it_was_issued_for(operator, running):
    first, second = signed_in(operator), signed_in(operator)
    rows, first_pass = open_page(first)
    assert poll(first, rows, first_pass).status_code == 204
    # The same person's other session signs in again instead.
    response = poll(second, rows, first_pass)
    assert response.status_code == 200
    assert 'id="poll-pass"' in text(response)
    # Without any session the pass is worth nothing: the sign-in page.
    anonymous = poll(Client(), rows, first_pass)
    assert anonymous.status_code == 200
    assert anonymous.headers["HX-Redirect"].startswith(reverse(settings.LOGIN_URL))


def test_signing_out_ends_the_pass_at_once(operator_client, running):
    rows, poll_pass = open_page(operator_client)
    session_cookie = operator_client.cookies[settings.SESSION_COOKIE_NAME].value
    operator_client.post(reverse("logout"))
    # Someone who kept the old cookie and the pass: the session is gone, so is the pass.
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = session_cookie
    response = poll(replay, rows, poll_pass)
    assert response.headers["HX-Redirect"].startswith(reverse(settings.LOGIN_URL))
    assert "still-going" not in text(response)


def test_a_pass_expires_after_a_minute(operator_client, running):
    rows, _ = open_page(operator_client)
    issued_long_ago = time.time() - POLL_PASS_SECONDS - 1
    with mock.patch("django.core.signing.time.time", return_value=issued_long_ago):
        _, old_pass = open_page(operator_client)
    response = poll(operator_client, rows, old_pass)
    assert response.status_code == 200
    assert 'id="poll-pass"' in text(response)


def test_a_role_taken_away_reaches_the_polls_when_the_pass_expires(operator_client, operator, project, running):
    rows, poll_pass = open_page(operator_client)
    Membership.objects.filter(user=operator, project=project).delete()
    # Within the pass's minute, the page still learns how its own rows went on...
    assert poll(operator_client, rows, poll_pass).status_code == 204
    # ...and not a moment after: signed in again, the project is not theirs any more.
    with mock.patch("django.core.signing.time.time", return_value=time.time() + POLL_PASS_SECONDS + 1):
        response = poll(operator_client, rows, poll_pass)
    assert response.status_code == 286
    assert "still-going" not in text(response)


def test_a_pass_answers_only_for_its_own_projects(operator_client, running, other_project):
    theirs = BackupFactory(instance=InstanceFactory(project=other_project), running=True, name="not-yours")
    rows, poll_pass = open_page(operator_client)
    response = poll(operator_client, [*rows, f"{theirs.pk}.unseen"], poll_pass)
    assert response.status_code == 204  # their row is simply not there
    response = poll(operator_client, [f"{theirs.pk}.unseen"], poll_pass)
    assert response.status_code == 286
    assert response.content == b""


def test_the_overview_panel_polls_with_a_pass_too(operator_client, running, django_assert_num_queries):
    html = text(operator_client.get(reverse("backups:overview")))
    poll_url = re.search(r'hx-get="([^"]+)" hx-trigger="every 5s"', html).group(1).replace("&amp;", "&")
    assert "poll=" in poll_url
    with django_assert_num_queries(1):
        assert operator_client.get(poll_url, **HTMX).status_code == 204
    # Without its pass the panel signs in and comes back whole, with a fresh pass in its URL.
    response = operator_client.get(poll_url.split("&poll=")[0], **HTMX)
    assert response.status_code == 200
    assert "poll=" in text(response)
