"""Invitations: how people come into a project. A project admin names an email address and a
role; the link, which works once, goes by email (the outbox, `notifications`), and whoever
opens it chooses their own username and password. No admin ever holds a credential of
someone else's account, and an address becomes "proven", able to find its account when
someone is added by email, only when its owner has accepted an invitation sent to it.

Only the SHA-256 of a link's token is stored; the token itself lives only in the email's
body, encrypted until it is sent and blanked after. Accepting claims the invitation with a
conditional UPDATE inside the transaction that makes the account and membership, so two
people opening the same link at once make one account, and a refused attempt changes nothing.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from access.models import AuditEvent, CloudProject, Invitation, Membership, ProvenEmail
from access.selectors.accounts import username_taken
from access.selectors.invitations import acceptance_refusal
from access.services import audit
from access.services.team import lock_team
from notifications.models import OutgoingEmail
from notifications.services import outbox
from webapp.throttle import Throttle

Role = Membership.Role


class InvitationNotValid(Exception):
    """The link is unknown, used, revoked, expired or replaced by a newer one. Nothing changed."""


def _pending(**filters):
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True, **filters)


def _link_email(invitation: Invitation, *, token: str, base_url: str, by) -> OutgoingEmail:
    """Queue the email that carries the link (inside the caller's transaction)."""
    link = (settings.CONSOLE_URL or base_url).rstrip("/") + reverse("access:invitation_accept", args=[token])
    body = render_to_string(
        "access/email/invitation.txt",
        {"invitation": invitation, "link": link, "inviter": by.get_full_name() or by.get_username()},
    )
    # Rendered here, in the request of the admin who invites: in their language.
    subject = _("Invitation to %(project)s · GeminiDB Backup Console") % {"project": invitation.project.name}
    return outbox.email_queue(to=invitation.email, subject=subject, body=body)


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, Invitation.hash_token(token)


def _expiry():
    return timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)


def invitation_throttle() -> Throttle:
    """How many invitations one person may send per hour: each is an email to any address."""
    return Throttle("invitations", settings.INVITATIONS_PER_HOUR, 3600)


def invitation_send(*, project: CloudProject, email: str, role: str, name: str = "", by, base_url: str) -> Invitation:
    """Invite `email` into the project with `role`: record the invitation and queue its email.

    `base_url` is where the console is reached (the request's), unless settings.CONSOLE_URL says.
    Raises ValidationError for an invalid address or role, for an address already invited and
    waiting, and for one that a member of the project proved.
    """
    email = email.strip().lower()
    validate_email(email)
    if role not in Role.values:
        raise ValidationError(_("Unknown role %(role)r.") % {"role": role}, code="invalid")
    with transaction.atomic():
        lock_team(project.pk)  # two admins inviting the same address at once make one invitation
        if Membership.objects.filter(project=project, user__proven_email__email=email).exists():
            raise ValidationError(
                _("%(email)s is already a member of %(project)s.") % {"email": email, "project": project.name},
                code="already_member",
            )
        if _pending(project=project, email=email).exists():
            raise ValidationError(
                _("An invitation to %(email)s is already waiting. Send it again from the list to renew its link.")
                % {"email": email},
                code="pending",
            )
        token, token_hash = _new_token()
        invitation = Invitation.objects.create(
            project=project, email=email, name=name.strip(), role=role, token_hash=token_hash, invited_by=by,
            expires_at=_expiry(),
        )  # fmt: skip
        invitation.email_message = _link_email(invitation, token=token, base_url=base_url, by=by)
        invitation.save(update_fields=["email_message"])
        audit.record(
            AuditEvent.Action.INVITATION_SENT,
            actor=by,
            project=project,
            target=email,
            details={"invitation": invitation.pk, "email": email, "role": role},
        )
    return invitation


def invitation_resend(*, invitation: Invitation, by, base_url: str) -> Invitation:
    """Send a waiting invitation again with a new link and a new expiry; the old link stops
    working, and its email, if it has not left yet, is not sent."""
    token, token_hash = _new_token()
    with transaction.atomic():
        if not _pending(pk=invitation.pk).update(token_hash=token_hash, expires_at=_expiry()):
            raise ValidationError(_("This invitation was accepted or revoked meanwhile."), code="gone")
        invitation = Invitation.objects.select_related("project").get(pk=invitation.pk)
        if invitation.email_message_id:
            outbox.email_cancel(email_id=invitation.email_message_id)
        invitation.email_message = _link_email(invitation, token=token, base_url=base_url, by=by)
        invitation.save(update_fields=["email_message"])
        audit.record(
            AuditEvent.Action.INVITATION_SENT,
            actor=by,
            project=invitation.project,
            target=invitation.email,
            details={"invitation": invitation.pk, "email": invitation.email, "role": invitation.role, "resent": True},
        )
    return invitation


def invitation_revoke(*, invitation: Invitation, by) -> None:
    """Withdraw a waiting invitation: its link stops working. Revoking twice does nothing more."""
    with transaction.atomic():
        if not _pending(pk=invitation.pk).update(revoked_at=timezone.now()):
            current = Invitation.objects.get(pk=invitation.pk)
            if current.accepted_at is not None:
                raise ValidationError(
                    _("%(email)s has accepted this invitation already.") % {"email": current.email}, code="accepted"
                )
            return
        if invitation.email_message_id:
            outbox.email_cancel(email_id=invitation.email_message_id)
        audit.record(
            AuditEvent.Action.INVITATION_REVOKED,
            actor=by,
            project=invitation.project,
            target=invitation.email,
            details={"invitation": invitation.pk, "email": invitation.email, "role": invitation.role},
        )


def _claim(token: str, *, accepted_at) -> Invitation:
    """Mark the invitation accepted, if its link still works; only one caller ever succeeds."""
    token_hash = Invitation.hash_token(token)
    if not _pending(token_hash=token_hash, expires_at__gt=accepted_at).update(accepted_at=accepted_at):
        raise InvitationNotValid
    return Invitation.objects.select_related("project", "invited_by").get(token_hash=token_hash)


def _accepted(invitation: Invitation, user, *, role: str, new_account: bool) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    audit.record(
        AuditEvent.Action.INVITATION_ACCEPTED,
        actor=user,
        project=invitation.project,
        target=user.get_username(),
        target_user=user,
        details={"invitation": invitation.pk, "email": invitation.email, "role": role, "new_account": new_account},
    )


def _taken(username: str) -> str:
    return _("The username %(username)s is taken. Choose another.") % {"username": username}


@sensitive_variables()  # the token and password here, and the raw password in the hashers below
def invitation_accept_new_account(
    *, token: str, username: str, password: str, first_name: str = "", last_name: str = ""
):
    """Accept an invitation with a new account: the invitee's own username and password, the
    invited address as its proven email, and the invited role in the project. Returns the account.

    Raises InvitationNotValid for a link that no longer works, and ValidationError (keyed by
    field) for a taken username, a weak password, or an address that an account proved
    meanwhile (its owner signs in instead). Either way nothing is changed.
    """
    if username_taken(username):
        raise ValidationError({"username": _taken(username)}, code="taken")
    now = timezone.now()
    try:
        with transaction.atomic():
            invitation = _claim(token, accepted_at=now)
            user = get_user_model()(
                username=username, email=invitation.email, first_name=first_name, last_name=last_name
            )
            password_validation.validate_password(password, user)
            user.set_password(password)
            user.save()
            ProvenEmail.objects.create(user=user, email=invitation.email, proven_at=now)
            Membership.objects.create(user=user, project=invitation.project, role=invitation.role)
            audit.record(
                AuditEvent.Action.ACCOUNT_CREATED,
                actor=user,
                project=invitation.project,
                target=username,
                target_user=user,
                details={"invitation": invitation.pk},
            )
            _accepted(invitation, user, role=invitation.role, new_account=True)
    except IntegrityError:
        # A race lost after the checks: the same username, or the address proven by another
        # account that accepted an invitation to it a moment ago. The claim was rolled back.
        if username_taken(username):
            raise ValidationError({"username": _taken(username)}) from None
        raise ValidationError(
            _("An account has proven this address meanwhile. Sign in with it, then open the link again."),
            code="email_taken",
        ) from None
    return user


@sensitive_variables("token")
def invitation_accept_existing(*, token: str, user) -> Membership:
    """Accept an invitation for the signed-in person's own account (`acceptance_refusal` says
    when they may). Their email becomes proven if it was not; someone already in the project
    keeps their role. Raises InvitationNotValid or ValidationError; either way nothing changes."""
    now = timezone.now()
    with transaction.atomic():
        invitation = _claim(token, accepted_at=now)
        refusal = acceptance_refusal(invitation, user)
        if refusal:
            raise ValidationError(refusal, code="not_yours")
        if not ProvenEmail.objects.filter(user=user).exists():
            ProvenEmail.objects.create(user=user, email=invitation.email, proven_at=now)
        membership, _ = Membership.objects.get_or_create(
            user=user, project=invitation.project, defaults={"role": invitation.role}
        )
        _accepted(invitation, user, role=membership.role, new_account=False)
    return membership
