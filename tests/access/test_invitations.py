"""Inviting people into a project, on its team page: the invitation and its email are recorded
together, the link exists only in the email, and admins see each invitation's delivery and can
send it again (a new link) or revoke it. Accepting the link is test_invitation_accept.py."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, Invitation, Membership, ProvenEmail
from access.services.invitations import invitation_resend, invitation_revoke, invitation_send
from notifications.models import OutgoingEmail
from tests.access.invitations import BASE_URL, invite, token_in

from .conftest import HTMX, World, text

pytestmark = pytest.mark.django_db
Role = Membership.Role
Status = OutgoingEmail.Status


def team_url(world: World, name: str = "team", *args) -> str:
    return reverse(f"access:{name}", args=[world.project.pk, *args])


def test_an_admin_invites_someone_and_the_link_goes_only_into_the_email(world: World, settings):
    client = world.client("admin")
    response = client.post(
        team_url(world, "invitation_send"), {"email": " Nora@Example.com ", "name": "Nora New", "role": "operator"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.project, invitation.email, invitation.name, invitation.role, invitation.invited_by) == (
        world.project,
        "nora@example.com",
        "Nora New",
        Role.OPERATOR,
        world.users["admin"],
    )
    expected_expiry = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)
    assert abs(invitation.expires_at - expected_expiry) < timedelta(minutes=1)
    assert (invitation.accepted_at, invitation.revoked_at) == (None, None)

    email = invitation.email_message
    assert (email.recipient, email.status, email.attempts) == ("nora@example.com", Status.PENDING, 0)
    assert email.subject == "Invitation to eu-de_alpha · GeminiDB Backup Console"
    token = token_in(email)
    assert len(token) >= 40
    assert f"http://testserver/invitations/{token}/" in email.body
    assert "Nora New" in email.body
    assert "as Operator" in email.body
    # Only the token's hash is stored; the body, which holds it, is ciphertext in the database.
    assert invitation.token_hash == Invitation.hash_token(token) != token
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM notifications_outgoingemail")
        (stored,) = cursor.fetchone()
    assert token not in stored
    assert "Nora" not in stored

    page = text(client.get(response["Location"]))
    assert "is on its way to nora@example.com" in page
    assert token not in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.INVITATION_SENT)
    assert (event.actor, event.project, event.target) == (world.users["admin"], world.project, "nora@example.com")
    assert event.details == {"invitation": invitation.pk, "email": "nora@example.com", "role": "operator"}
    assert token not in text(client.get(reverse("access:audit")))


def test_the_invitation_and_its_email_are_committed_or_rolled_back_together(world: World):
    def invite_then_fail():
        with transaction.atomic():
            invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
            assert OutgoingEmail.objects.count() == Invitation.objects.count() == 1
            raise RuntimeError("whatever made the surrounding change fail")

    with pytest.raises(RuntimeError):
        invite_then_fail()
    assert not Invitation.objects.exists()
    assert not OutgoingEmail.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.INVITATION_SENT).exists()


def test_the_email_is_handed_to_the_broker_only_after_commit(
    world: World, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr("notifications.publish.publish", lambda *task: published.append(task))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invitation = invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
        assert published == []
    assert len(callbacks) == 1
    assert published == [("notifications.tasks.send_email", invitation.email_message_id)]
    assert OutgoingEmail.objects.get().enqueued_at is not None


@pytest.mark.parametrize("email", ["not-an-address", "", "nora@"])
def test_an_invalid_address_is_refused(world: World, email):
    response = world.client("admin").post(team_url(world, "invitation_send"), {"email": email, "role": "viewer"})
    assert response.status_code == 200
    assert "Enter a valid email address" in text(response) or "This field is required" in text(response)
    assert not Invitation.objects.exists()
    with pytest.raises(ValidationError):
        invitation_send(project=world.project, email=email, role="viewer", by=world.users["admin"], base_url=BASE_URL)


def test_an_address_already_invited_or_a_members_proven_one_is_not_invited_again(world: World):
    invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
    client = world.client("admin")
    again = client.post(team_url(world, "invitation_send"), {"email": "NORA@example.com", "role": "admin"})
    assert "An invitation to nora@example.com is already waiting" in text(again)
    ProvenEmail.objects.create(user=world.member.user, email="mia@example.com", proven_at=timezone.now())
    member = client.post(team_url(world, "invitation_send"), {"email": "mia@example.com", "role": "viewer"})
    assert "mia@example.com is already a member of eu-de_alpha" in text(member)
    assert Invitation.objects.count() == 1
    # Another project may invite the same address: invitations are per project.
    invite(world.other_project, "nora@example.com", Role.VIEWER, by=world.users["outsider"])


def test_the_team_page_lists_waiting_invitations_with_their_delivery(world: World):
    queued = invite(world.project, "queued@example.com", Role.VIEWER, by=world.users["admin"])
    sent = invite(world.project, "sent@example.com", Role.OPERATOR, by=world.users["admin"], name="Sam Sent")
    failed = invite(world.project, "failed@example.com", Role.ADMIN, by=world.users["admin"])
    retrying = invite(world.project, "retrying@example.com", Role.VIEWER, by=world.users["admin"])
    expired = invite(world.project, "expired@example.com", Role.VIEWER, by=world.users["admin"])
    accepted = invite(world.project, "accepted@example.com", Role.VIEWER, by=world.users["admin"])
    OutgoingEmail.objects.filter(pk=sent.email_message_id).update(status=Status.SENT, sent_at=timezone.now())
    OutgoingEmail.objects.filter(pk=failed.email_message_id).update(
        status=Status.FAILED, attempts=6, last_error="The mail server could not be reached (ConnectionRefusedError)."
    )
    OutgoingEmail.objects.filter(pk=retrying.email_message_id).update(
        attempts=2, last_error="The mail server answered 451."
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    Invitation.objects.filter(pk=accepted.pk).update(accepted_at=timezone.now())

    html = text(world.client("admin").get(team_url(world)))

    def row(invitation) -> str:
        start = html.index(f'id="invitation-{invitation.pk}"')
        return html[start : html.index("</tr>", start)]

    assert "accepted@example.com" not in html
    assert "Queued" in row(queued)
    assert "Operator" in row(sent)
    assert "Sam Sent" in row(sent)
    assert ">Sent<" in row(sent)
    assert "Not delivered" in row(failed)
    assert "could not be reached (ConnectionRefusedError)" in row(failed)
    assert "Retrying" in row(retrying)
    assert "answered 451" in row(retrying)
    assert "Expired" in row(expired)
    for invitation in (queued, sent, failed, retrying, expired):
        assert world.users["admin"].get_full_name() in row(invitation)
        assert invitation.token not in html
    assert 'Invitations waiting <span class="count">5</span>' in html
    # Emails on their way: the section polls itself.
    assert "?part=invitations" in html


def test_the_invitations_section_polls_only_while_an_email_is_on_its_way(world: World):
    invitation = invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
    client = world.client("admin")
    poll = team_url(world) + "?part=invitations"
    response = client.get(poll, **HTMX)
    assert response.status_code == 200
    assert text(response).lstrip().startswith('<section id="invitations"')
    assert 'hx-trigger="every 3s"' in text(response)
    OutgoingEmail.objects.filter(pk=invitation.email_message_id).update(status=Status.SENT, sent_at=timezone.now())
    response = client.get(poll, **HTMX)
    assert response.status_code == 286  # htmx stops polling
    assert "hx-trigger" not in text(response)
    assert ">Sent<" in text(response)


def test_revoking_stops_the_link_and_the_email_that_has_not_left(world: World):
    invitation = invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
    client = world.client("admin")
    response = client.post(team_url(world, "invitation_revoke", invitation.pk), **HTMX)
    assert response.status_code == 200
    assert text(response).lstrip().startswith('<section id="invitations"')
    assert "nora@example.com" not in text(response)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    email = OutgoingEmail.objects.get(pk=invitation.email_message_id)
    assert (email.status, email.body) == (Status.CANCELLED, "")
    event = AuditEvent.objects.get(action=AuditEvent.Action.INVITATION_REVOKED)
    assert (event.actor, event.target, event.details["role"]) == (world.users["admin"], "nora@example.com", "viewer")
    assert client.get(invitation.url).status_code == 410
    # A second click changes nothing more.
    client.post(team_url(world, "invitation_revoke", invitation.pk))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITATION_REVOKED).count() == 1


def test_sending_again_makes_a_new_link_and_the_old_one_stops_working(world: World):
    invitation = invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client = world.client("admin")
    response = client.post(team_url(world, "invitation_resend", invitation.pk))
    assert response.status_code == 302
    assert "the link sent before no longer works" in text(client.get(response["Location"]))
    renewed = Invitation.objects.get(pk=invitation.pk)
    assert renewed.expires_at > timezone.now() + timedelta(days=6)
    assert renewed.email_message_id != invitation.email_message_id
    assert OutgoingEmail.objects.get(pk=invitation.email_message_id).status == Status.CANCELLED
    new_token = token_in(renewed.email_message)
    assert new_token != invitation.token
    assert renewed.token_hash == Invitation.hash_token(new_token)
    assert client.get(invitation.url).status_code == 404  # that token is no link any more
    anonymous = world.client("anonymous")
    assert anonymous.get(reverse("access:invitation_accept", args=[new_token])).status_code == 200
    sent = AuditEvent.objects.filter(action=AuditEvent.Action.INVITATION_SENT).order_by("id")
    assert [e.details.get("resent", False) for e in sent] == [False, True]
    for event in sent:
        assert new_token not in str(event.details)
        assert invitation.token not in str(event.details)


def test_an_accepted_invitation_can_be_neither_revoked_nor_sent_again(world: World):
    invitation = invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    with pytest.raises(ValidationError, match="accepted this invitation already"):
        invitation_revoke(invitation=invitation, by=world.users["admin"])
    with pytest.raises(ValidationError, match="accepted or revoked meanwhile"):
        invitation_resend(invitation=invitation, by=world.users["admin"], base_url=BASE_URL)
    response = world.client("admin").post(team_url(world, "invitation_resend", invitation.pk), **HTMX)
    assert "accepted or revoked meanwhile" in text(response)


def test_admins_manage_only_their_own_projects_invitations(world: World):
    theirs = invite(world.other_project, "bea@example.com", Role.VIEWER, by=world.users["outsider"])
    ours = invite(world.project, "nora@example.com", Role.VIEWER, by=world.users["admin"])
    admin = world.client("admin")
    for name in ("invitation_revoke", "invitation_resend"):
        # B's invitation through A's project URL, and A's through B's.
        assert admin.post(reverse(f"access:{name}", args=[world.project.pk, theirs.pk])).status_code == 404
        outsider = world.client("outsider")
        assert outsider.post(reverse(f"access:{name}", args=[world.other_project.pk, ours.pk])).status_code == 404
    assert Invitation.objects.filter(revoked_at__isnull=True).count() == 2
    assert "bea@example.com" not in text(admin.get(team_url(world)))


def test_invitations_one_person_sends_are_rate_limited(world: World, settings):
    """Each invitation is an email to an address someone typed: a person sends so many an hour."""
    settings.INVITATIONS_PER_HOUR = 2
    client = world.client("admin")
    for n in range(2):
        assert (
            client.post(
                team_url(world, "invitation_send"), {"email": f"p{n}@example.com", "role": "viewer"}
            ).status_code
            == 302
        )
    response = client.post(team_url(world, "invitation_send"), {"email": "p2@example.com", "role": "viewer"})
    assert response.status_code == 200
    assert "You have sent 2 invitations in the last hour" in text(response)
    assert Invitation.objects.count() == OutgoingEmail.objects.count() == 2
