"""The preferences page and the top bar's one-click switches."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from preferences.middleware import THEME_COOKIE
from preferences.models import Preference
from tests.helpers import text

pytestmark = pytest.mark.django_db

EDIT = reverse("preferences:edit")


def test_the_page_offers_the_three_choices(operator_client):
    operator_client.cookies["console_tz"] = "Europe/Berlin"
    html = text(operator_client.get(EDIT))
    assert 'name="language"' in html
    assert '<option value="Europe/Berlin">Berlin</option>' in html
    assert "The browser&#x27;s (now Europe/Berlin)" in html
    assert 'name="theme" value="dark"' in html


def test_saving_keeps_the_choices_and_applies_them_at_once(operator_client, operator):
    response = operator_client.post(EDIT, {"language": "de", "time_zone": "Asia/Tokyo", "theme": "dark"})
    assert response.status_code == 302
    assert response.url == EDIT
    preference = Preference.objects.get(user=operator)
    assert (preference.language, preference.time_zone, preference.theme) == ("de", "Asia/Tokyo", "dark")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    page = text(operator_client.get(EDIT))
    assert '<html lang="de" data-theme="dark">' in page
    assert '<meta name="color-scheme" content="dark">' in page
    # The message is in the language just chosen (the message text itself is translated by the catalogue).
    assert 'class="message message-success"' in page


def test_a_zone_that_is_none_is_refused_and_nothing_saved(operator_client):
    response = operator_client.post(EDIT, {"language": "", "time_zone": "Mars/Olympus_Mons", "theme": "auto"})
    assert response.status_code == 200
    assert "“Mars/Olympus_Mons” is not a time zone we know. Choose one from the list." in text(response)
    assert not Preference.objects.exists()


def test_an_unknown_theme_or_language_is_refused(operator_client):
    response = operator_client.post(EDIT, {"language": "fr", "time_zone": "", "theme": "pink"})
    assert response.status_code == 200
    assert not Preference.objects.exists()


def test_the_language_switch_sets_the_cookie_and_saves_it(operator_client, operator):
    response = operator_client.post(reverse("preferences:language"), {"language": "de", "next": "/history/?page=2"})
    assert response.status_code == 302
    assert response.url == "/history/?page=2"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert Preference.objects.get(user=operator).language == "de"
    assert '<html lang="de"' in text(operator_client.get(reverse("backups:history")))


def test_the_theme_switch_saves_it(operator_client, operator):
    response = operator_client.post(reverse("preferences:theme"), {"theme": "dark", "next": "/instances/"})
    assert response.url == "/instances/"
    assert response.cookies[THEME_COOKIE].value == "dark"
    assert Preference.objects.get(user=operator).theme == "dark"
    assert 'data-theme="dark"' in text(operator_client.get(reverse("backups:instances")))


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_a_switch_never_sends_anyone_elsewhere(operator_client, unsafe):
    response = operator_client.post(reverse("preferences:language"), {"language": "de", "next": unsafe})
    assert response.url == reverse("backups:overview")


def test_switches_work_before_signing_in_with_cookies_alone():
    client = Client()
    response = client.post(reverse("preferences:language"), {"language": "de", "next": reverse("login")})
    assert response.url == reverse("login")
    client.post(reverse("preferences:theme"), {"theme": "light", "next": reverse("login")})
    assert not Preference.objects.exists()
    assert '<html lang="de" data-theme="light">' in text(client.get(reverse("login")))


def test_the_switch_answers_only_posts(operator_client):
    assert operator_client.get(reverse("preferences:language")).status_code == 405


def test_the_page_needs_a_signed_in_person():
    response = Client().get(EDIT)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_top_bar_links_to_the_page(operator_client):
    html = text(operator_client.get(reverse("backups:overview")))
    assert f'<a href="{EDIT}">Preferences</a>' in html
    assert (
        '<input type="hidden" name="language" value="de"><button class="link-button" type="submit" lang="de">Deutsch'
        in html
    )


def test_the_page_speaks_german_to_a_german_browser(operator_client):
    html = text(operator_client.get(EDIT, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"))
    assert '<html lang="de"' in html
    assert "Ihre Einstellungen" in html
    assert '<label for="id_time_zone">Zeitzone</label>' in html
    assert "Die des Browsers (UTC, bis er sie mitteilt)" in html
    assert "Design: wie im System" in html
    assert 'lang="en">English</button>' in html


def test_what_each_url_answers_to_anyone():
    """As tests/access/test_matrix.py lists them: the switches and the catalogue are for everyone."""
    client = Client()
    for name in ("preferences:language", "preferences:theme"):
        assert client.get(reverse(name)).status_code == 405
        assert client.post(reverse(name)).url == reverse("backups:overview")
    catalogue = reverse("preferences:javascript_catalog", args=["en"])
    assert client.get(catalogue).status_code == 200
    assert client.post(catalogue).status_code == 405


def test_an_empty_form_is_shown_again_with_its_errors(operator_client):
    assert operator_client.post(EDIT, {}).status_code == 200
    assert not Preference.objects.exists()
