"""The access pages and the invitation email in German: the email is written in the language
of the admin who invites (the request's), and leaves through the outbox's mail transport as it
was written, whatever language the worker runs in."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from access.models import Invitation
from notifications.services.outbox import email_send
from tests.access.invitations import token_in

from .conftest import World, text

pytestmark = pytest.mark.django_db
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def invitation_url(world: World) -> str:
    return reverse("access:invitation_send", args=[world.project.pk])


def test_an_invitation_sent_from_a_german_page_is_a_german_email(world: World):
    client = world.client("admin")
    response = client.post(
        invitation_url(world), {"email": "nora@example.com", "name": "Nora", "role": "operator"}, **GERMAN
    )
    assert response.status_code == 302
    page = text(client.get(response["Location"], **GERMAN))
    assert "Eine Einladung als Operator ist unterwegs an nora@example.com" in page

    email = Invitation.objects.get().email_message
    # The worker renders nothing: it sends what the request wrote, even with English active.
    with translation.override("en"):
        assert email_send(email_id=email.pk) is True
    [message] = mail.outbox
    assert message.subject == "Einladung zu eu-de_alpha · GeminiDB Backup Console"
    assert message.body.startswith("Hallo Nora,")
    assert "lädt Sie als Operator in das Cloud-Projekt eu-de_alpha" in message.body
    assert "Der Link funktioniert einmal und gilt bis" in message.body
    assert "invites you" not in message.body


def test_an_invitation_sent_from_an_english_page_stays_english(world: World):
    world.client("admin").post(invitation_url(world), {"email": "nora@example.com", "role": "viewer"}, **ENGLISH)
    email = Invitation.objects.get().email_message
    assert email.subject == "Invitation to eu-de_alpha · GeminiDB Backup Console"
    assert email.body.startswith("Hello,")
    assert "as Viewer" in email.body
    assert len(token_in(email)) >= 40


def test_the_team_page_speaks_german(world: World):
    page = text(world.client("admin").get(reverse("access:team", args=[world.project.pk]), **GERMAN))
    assert "Team von eu-de_alpha" in page
    assert "Jemanden per E-Mail einladen" in page
    assert "Mitglied seit" in page  # a column label of the members table
    assert '<option value="viewer">Betrachter</option>' in page
    assert "Invite someone by email" not in page


def test_a_refusal_is_german(world: World):
    client = world.client("admin")
    client.post(invitation_url(world), {"email": "nora@example.com", "role": "viewer"}, **GERMAN)
    page = text(client.post(invitation_url(world), {"email": "nora@example.com", "role": "viewer"}, **GERMAN))
    assert "Eine Einladung an nora@example.com wartet bereits." in page


def test_the_audit_trail_speaks_german(world: World):
    world.client("admin").post(invitation_url(world), {"email": "nora@example.com", "role": "viewer"}, **ENGLISH)
    page = text(world.client("admin").get(reverse("access:audit"), **GERMAN))
    assert "Audit-Protokoll" in page
    assert "Einladung gesendet" in page  # the event's action, stored as a key, shown in German
    assert ">Jede Aktion</option>" in page
