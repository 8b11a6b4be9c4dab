"""A project's team, for its admins: add people who have an account, change roles, remove
people; site administrators also deactivate and reactivate accounts. Inviting new people is
`invitations.py`, on the same page."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from access.decorators import login_required, require
from access.forms import ROLE_HELP, InvitationForm, MemberAddForm, MemberRoleForm
from access.models import CloudProject, Membership
from access.permissions import Action, is_site_admin, project_for
from access.selectors.invitations import team_invitations
from access.selectors.team import is_admin_of, team_members, team_membership
from access.services import accounts as account_services
from access.services import team as team_services
from webapp.htmx import htmx_of, wants_fragment

Role = Membership.Role


def team_context(request: HttpRequest, project: CloudProject, **forms) -> dict:
    invitations = team_invitations(project)
    return {
        "project": project,
        "rows": team_members(project),
        "invitations": invitations,
        # While an invitation's email is on its way, its section follows it (team.html).
        "emails_in_flight": any(i.email_message and i.email_message.in_flight for i in invitations),
        "role_choices": Role.choices,
        "role_help": ROLE_HELP,
        "can_deactivate": is_site_admin(request.user),
        "add_form": forms.get("add_form") or MemberAddForm(),
        "invite_form": forms.get("invite_form") or InvitationForm(),
        "invitation_days": settings.INVITATION_VALID_DAYS,
        "error": forms.get("error"),
        "invitation_error": forms.get("invitation_error"),
    }


def managed_project(request: HttpRequest, pk: int) -> CloudProject:
    project = project_for(request.user, pk)
    require(request.user, Action.MANAGE, project)
    return project


def team_url(project: CloudProject) -> str:
    return reverse("access:team", args=[project.pk])


def _after_change(request: HttpRequest, project: CloudProject, *, error: str | None = None) -> HttpResponse:
    """htmx gets the members table again (every row's buttons may have changed); a plain form
    goes back to the team page, with the outcome as a message."""
    if wants_fragment(request):
        return render(request, "access/team.html#members", team_context(request, project, error=error))
    if error:
        messages.error(request, error)
    return redirect(team_url(project))


def _lost_access(request: HttpRequest, project: CloudProject, membership: Membership) -> HttpResponse | None:
    """After admins remove or demote themselves, the team page is no longer theirs to see."""
    if membership.user_id != request.user.pk or is_site_admin(request.user):
        return None
    if is_admin_of(request.user, project):
        return None
    url = reverse("backups:overview")
    return HttpResponseClientRedirect(url) if htmx_of(request) else redirect(url)


def first_message(error: ValidationError) -> str:
    return error.messages[0] if error.messages else _("That did not work.")


@login_required
@require_GET
def team(request: HttpRequest, pk: int) -> HttpResponse:
    project = managed_project(request, pk)
    context = team_context(request, project)
    if wants_fragment(request) and request.GET.get("part") == "invitations":
        # The invitations' delivery, polled while an email is on its way; 286 stops the polling.
        status = 200 if context["emails_in_flight"] else 286
        return render(request, "access/team.html#invitations", context, status=status)
    return render(request, "access/team.html", context)


@login_required
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add someone who has an account, by username or proven email."""
    project = managed_project(request, pk)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            membership = team_services.member_add(
                project=project, user=data["person"], role=data["role"], by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            who = membership.user.get_full_name() or membership.user.username
            messages.success(
                request,
                _("%(person)s is now %(role)s of %(project)s.")
                % {"person": who, "role": membership.get_role_display(), "project": project.name},
            )
            return redirect(team_url(project))
    return render(request, "access/team.html", team_context(request, project, add_form=form))


def _member_change(request: HttpRequest, pk: int, member_pk: int, *, change, done, left=None) -> HttpResponse:
    """What every change to one member does: find them in a project the user manages, let
    `change` call the service, and answer with the members table (htmx) or the team page.

    `done` and `left` say what happened, to others and to admins who changed themselves out
    of the team page; a ValidationError from `change` is shown instead."""
    project = managed_project(request, pk)
    membership = team_membership(project, member_pk)
    try:
        membership = change(membership) or membership
    except ValidationError as error:
        return _after_change(request, project, error=first_message(error))
    if left is not None and (lost := _lost_access(request, project, membership)):
        messages.info(request, left(membership, project))
        return lost
    if not wants_fragment(request):
        messages.success(request, done(membership, project))
    return _after_change(request, project)


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    def change(membership: Membership) -> Membership:
        form = MemberRoleForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("Choose a role: Viewer, Operator or Admin."))
        return team_services.member_role_change(membership=membership, role=form.cleaned_data["role"], by=request.user)

    return _member_change(
        request,
        pk,
        member_pk,
        change=change,
        done=lambda m, project: (
            _("%(person)s is now %(role)s.") % {"person": m.user.username, "role": m.get_role_display()}
        ),
        left=lambda m, project: (
            _("You are now %(role)s of %(project)s.") % {"role": m.get_role_display(), "project": project.name}
        ),
    )


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    return _member_change(
        request,
        pk,
        member_pk,
        change=lambda m: team_services.member_remove(membership=m, by=request.user),
        done=lambda m, project: (
            _("%(person)s is no longer a member of %(project)s.") % {"person": m.user.username, "project": project.name}
        ),
        left=lambda m, project: _("You have left %(project)s.") % {"project": project.name},
    )


@login_required
@require_POST
def member_deactivate(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Site administrators: the person can no longer sign in, anywhere in the console."""

    def change(membership: Membership) -> None:
        require(request.user, Action.DEACTIVATE, None)  # after the 404s: outsiders learn nothing
        account_services.account_deactivate(user=membership.user, by=request.user)

    return _member_change(
        request,
        pk,
        member_pk,
        change=change,
        done=lambda m, project: _("The account %(person)s is deactivated.") % {"person": m.user.username},
    )


@login_required
@require_POST
def member_reactivate(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    def change(membership: Membership) -> None:
        require(request.user, Action.DEACTIVATE, None)
        account_services.account_reactivate(user=membership.user, by=request.user)

    return _member_change(
        request,
        pk,
        member_pk,
        change=change,
        done=lambda m, project: _("The account %(person)s can sign in again.") % {"person": m.user.username},
    )
