"""Invitations for tests, made the way an admin makes them (the service), with the link's token
read back from the queued email: the only place it exists."""

import re

from access.models import CloudProject, Invitation
from access.services.invitations import invitation_send
from notifications.models import OutgoingEmail

BASE_URL = "http://testserver/"
LINK = re.compile(r"http://testserver(/invitations/([\w-]+)/)")


def link_in(email: OutgoingEmail) -> str:
    """The invitation link's path in an email."""
    return LINK.search(email.body).group(1)


def token_in(email: OutgoingEmail) -> str:
    return LINK.search(email.body).group(2)


def invite(project: CloudProject, email: str, role: str, *, by, name: str = "") -> Invitation:
    """Invite `email`; the invitation carries its link's `token` and `url` for the test."""
    invitation = invitation_send(project=project, email=email, role=role, name=name, by=by, base_url=BASE_URL)
    message = OutgoingEmail.objects.get(pk=invitation.email_message_id)
    invitation.token = token_in(message)
    invitation.url = link_in(message)
    return invitation
