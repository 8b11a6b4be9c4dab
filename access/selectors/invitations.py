"""Invitations: the ones waiting in a project (its team page), the one a link stands for, and
whether a signed-in person may accept it for their own account."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from access.models import CloudProject, Invitation, ProvenEmail
from access.selectors.accounts import proven_email_owner


def team_invitations(project: CloudProject) -> list[Invitation]:
    """Invitations neither accepted nor revoked (expired ones too: they can be sent again),
    newest first, with their inviter and delivery. One query."""
    return list(
        Invitation.objects.filter(project=project, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by", "email_message")
        .order_by("-created_at", "-pk")
    )


def team_invitation(project: CloudProject, pk: int) -> Invitation:
    """One invitation of the project; 404 for another project's."""
    return get_object_or_404(Invitation.objects.select_related("project"), pk=pk, project=project)


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link stands for, whatever its state; None for a token that is no link
    (made up, mistyped, or replaced when the invitation was sent again)."""
    return (
        Invitation.objects.select_related("project", "invited_by")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )


def acceptance_refusal(invitation: Invitation, user) -> str | None:
    """Why `user`, signed in, may not accept `invitation` for their own account; None if they may.

    Their account must be the one that proved the invited address, or, when nobody has proved
    it yet, one that has proven no address and carries exactly this one: holding the link is
    then the proof, and accepting records it.
    """
    owner = proven_email_owner(invitation.email)
    if owner is not None:
        if owner.pk == user.pk:
            return None
        return _(
            "This invitation is for %(email)s, which belongs to another account. "
            "Sign out, and sign in with that account."
        ) % {"email": invitation.email}
    if ProvenEmail.objects.filter(user=user).exists() or user.email.strip().lower() != invitation.email:
        return _(
            "This invitation is for %(email)s, and you are signed in as %(user)s. "
            "Sign out to accept it with a new account of your own."
        ) % {"email": invitation.email, "user": user.get_username()}
    return None
