"""Invitations. On a project's team page its admins invite someone by email, and send an
invitation again or revoke it; the invitee opens the link (signed out, or signed in with the
account the invitation is for) and joins. Nobody but the invitee ever sees the link."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from access.decorators import login_required
from access.forms import InvitationAcceptForm, InvitationForm
from access.models import Invitation
from access.selectors.accounts import proven_email_owner
from access.selectors.invitations import acceptance_refusal, invitation_for_token, team_invitation
from access.services import invitations as invitation_services
from access.views.team import first_message, managed_project, team_context, team_url
from webapp.htmx import wants_fragment

# Accepting signs the new account in; the session remembers the backend by this path.
SIGN_IN_BACKEND = "access.backends.ConsoleBackend"


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@login_required
@require_POST
def invitation_send(request: HttpRequest, pk: int) -> HttpResponse:
    project = managed_project(request, pk)
    form = InvitationForm(request.POST)
    throttle = invitation_services.invitation_throttle()
    if form.is_valid() and not throttle.take(str(request.user.pk)):
        form.add_error(
            None,
            _(
                "You have sent %(limit)s invitations in the last hour, the most the console sends for one person. "
                "Try again later."
            )
            % {"limit": throttle.limit},
        )
    if form.is_valid():
        data = form.cleaned_data
        try:
            invitation = invitation_services.invitation_send(
                project=project,
                email=data["email"],
                role=data["role"],
                name=data["name"],
                by=request.user,
                base_url=_base_url(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "An invitation to join as %(role)s is on its way to %(email)s. "
                    "Its link works once, until it expires."
                )
                % {"role": invitation.get_role_display(), "email": invitation.email},
            )
            return redirect(team_url(project))
    return render(request, "access/team.html", team_context(request, project, invite_form=form))


def _invitation_change(request: HttpRequest, pk: int, invitation_pk: int, *, change, done) -> HttpResponse:
    """Resend or revoke: htmx gets the invitations section again, a plain form the team page."""
    project = managed_project(request, pk)
    invitation = team_invitation(project, invitation_pk)
    error = None
    try:
        change(invitation)
    except ValidationError as problem:
        error = first_message(problem)
    if wants_fragment(request):
        return render(request, "access/team.html#invitations", team_context(request, project, invitation_error=error))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done(invitation.email))
    return redirect(team_url(project))


@login_required
@require_POST
def invitation_resend(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    return _invitation_change(
        request,
        pk,
        invitation_pk,
        change=lambda i: invitation_services.invitation_resend(
            invitation=i, by=request.user, base_url=_base_url(request)
        ),
        done=lambda email: (
            _("A new invitation is on its way to %(email)s; the link sent before no longer works.") % {"email": email}
        ),
    )


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    return _invitation_change(
        request,
        pk,
        invitation_pk,
        change=lambda i: invitation_services.invitation_revoke(invitation=i, by=request.user),
        done=lambda email: _("The invitation to %(email)s is revoked; its link no longer works.") % {"email": email},
    )


def _no_longer_valid(request: HttpRequest, status: int = 410) -> HttpResponse:
    return render(request, "access/invitation_invalid.html", {"status": status}, status=status)


@sensitive_post_parameters("password1", "password2")
@sensitive_variables()  # the token and the password, in this frame and every one below
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link's page: open to anyone who has the link, which is the proof that they read the
    invited address's mail. A used, revoked or expired link answers 410, one that never was (or
    was replaced by a newer one) 404, with the same words."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return _no_longer_valid(request, status=404)
    if not invitation.is_usable(timezone.now()):
        return _no_longer_valid(request)
    if request.user.is_authenticated:
        return _accept_signed_in(request, invitation, token)
    context = {"invitation": invitation, "link": request.path}
    if proven_email_owner(invitation.email) is not None:
        # The address has an account: its owner signs in, and comes back here.
        return render(request, "access/invitation_accept.html", context | {"sign_in_first": True})
    form = InvitationAcceptForm(request.POST if request.method == "POST" else None, invitation=invitation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = invitation_services.invitation_accept_new_account(
                token=token,
                username=data["username"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except invitation_services.InvitationNotValid:
            return _no_longer_valid(request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            return _welcome(request, invitation.project.name, invitation.get_role_display())
    return render(request, "access/invitation_accept.html", context | {"form": form})


def _accept_signed_in(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    refusal = acceptance_refusal(invitation, request.user)
    if request.method == "POST" and refusal is None:
        try:
            membership = invitation_services.invitation_accept_existing(token=token, user=request.user)
        except invitation_services.InvitationNotValid:
            return _no_longer_valid(request)
        except ValidationError as error:
            refusal = first_message(error)
        else:
            return _welcome(request, invitation.project.name, membership.get_role_display())
    return render(
        request, "access/invitation_accept.html", {"invitation": invitation, "link": request.path, "refusal": refusal}
    )


def _welcome(request: HttpRequest, project_name: str, role: str) -> HttpResponse:
    messages.success(request, _("Welcome: you are %(role)s of %(project)s.") % {"role": role, "project": project_name})
    return redirect(reverse("backups:overview"))
