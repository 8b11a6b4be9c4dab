"""The API tokens page in German. The API's own answers (JSON error codes and bodies) are for
machines and stay English: tests/api/test_auth.py holds them."""

import pytest
from django.urls import reverse

from tests.access.conftest import World, text

pytestmark = pytest.mark.django_db
URL = reverse("tokens:list")
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}


def test_the_tokens_page_speaks_german(world: World):
    page = text(world.client("operator").get(URL, **GERMAN))
    assert "Sie haben keine API-Tokens." in page
    assert "Betrachter: nur lesen" in page
    assert "eu-de_alpha · Sie sind Operator" in page
    assert "Token erstellen" in page
    assert "Make a token" not in page


def test_a_token_made_on_a_german_page_is_explained_in_german(world: World):
    client = world.client("operator")
    page = text(client.post(URL, {"name": "", "role": "viewer", "expires_in_days": "90"}, **GERMAN))
    assert "Geben Sie dem Token einen Namen, der sagt, wo es verwendet wird." in page
    assert "Wählen Sie mindestens ein Projekt." in page

    made = text(
        client.post(
            URL, {"name": "ci", "role": "viewer", "projects": [world.project.pk], "expires_in_days": "never"}, **GERMAN
        )
    )
    assert "Kopieren Sie dieses Token jetzt" in made
    assert "ci: Betrachter in eu-de_alpha, ohne Ablauf." in made
    assert "Zuletzt verwendet" in made  # a column label of the tokens table
