"""A project's team, for its admins: add people, change roles, remove them; site administrators
also deactivate and reactivate accounts. And a person's own password change, which someone
with an initial password must do before anything else."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from backups import services
from backups.forms import ROLE_HELP, AccountCreateForm, MemberAddForm, MemberRoleForm
from backups.models import CloudProject, Membership
from backups.permissions import Action, is_site_admin, must_change_password, project_for

from .base import login_required, require, wants_fragment

Role = Membership.Role
_RANK = {Role.ADMIN: 0, Role.OPERATOR: 1, Role.VIEWER: 2}


@dataclass
class MemberRow:
    membership: Membership
    # Why this member's role cannot be lowered and they cannot be removed, or None.
    last_admin_reason: str | None

    @property
    def user(self):
        return self.membership.user


def _members(project: CloudProject) -> list[MemberRow]:
    """Admins first, then operators and viewers, by name. One query."""
    memberships = sorted(
        Membership.objects.filter(project=project).select_related("user", "user__initial_password"),
        key=lambda m: (_RANK[m.role], (m.user.get_full_name() or m.user.username).lower()),
    )
    active_admins = [m for m in memberships if m.role == Role.ADMIN and m.user.is_active]
    reason = "The last admin of a project cannot be removed or demoted: make someone else admin first."
    return [MemberRow(m, reason if active_admins == [m] else None) for m in memberships]


def _context(request: HttpRequest, project: CloudProject, **forms) -> dict:
    return {
        "project": project,
        "rows": _members(project),
        "role_choices": Role.choices,
        "role_help": ROLE_HELP,
        "can_deactivate": is_site_admin(request.user),
        "add_form": forms.get("add_form") or MemberAddForm(),
        "account_form": forms.get("account_form") or AccountCreateForm(),
        "error": forms.get("error"),
    }


def _managed_project(request: HttpRequest, pk: int) -> CloudProject:
    project = project_for(request.user, pk)
    require(request.user, Action.MANAGE, project)
    return project


def _membership(project: CloudProject, member_pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user", "project"), pk=member_pk, project=project)


def _team_url(project: CloudProject) -> str:
    return reverse("backups:team", args=[project.pk])


def _after_change(request: HttpRequest, project: CloudProject, *, error: str | None = None) -> HttpResponse:
    """htmx gets the members table again (every row's buttons may have changed); a plain form
    goes back to the team page, with the outcome as a message."""
    if wants_fragment(request):
        return render(request, "backups/team.html#members", _context(request, project, error=error))
    if error:
        messages.error(request, error)
    return redirect(_team_url(project))


def _lost_access(request: HttpRequest, project: CloudProject, membership: Membership) -> HttpResponse | None:
    """After admins remove or demote themselves, the team page is no longer theirs to see."""
    if membership.user_id != request.user.pk or is_site_admin(request.user):
        return None
    if Membership.objects.filter(user=request.user, project=project, role=Role.ADMIN).exists():
        return None
    url = reverse("backups:overview")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _first_message(error: ValidationError) -> str:
    return error.messages[0] if error.messages else "That did not work."


@login_required
@require_GET
def team(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managed_project(request, pk)
    return render(request, "backups/team.html", _context(request, project))


@login_required
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an existing account (`kind=existing`) or create one with an initial password (`kind=new`)."""
    project = _managed_project(request, pk)
    new_account = request.POST.get("kind") == "new"
    form = AccountCreateForm(request.POST) if new_account else MemberAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if new_account:
                membership = services.member_add_new_account(
                    project=project,
                    role=data["role"],
                    by=request.user,
                    username=data["username"],
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    initial_password=data["initial_password"],
                )
            else:
                membership = services.member_add(
                    project=project, user=data["person"], role=data["role"], by=request.user
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            who = membership.user.get_full_name() or membership.user.username
            note = " They must choose their own password when they first sign in." if new_account else ""
            messages.success(request, f"{who} is now {membership.get_role_display()} of {project.name}.{note}")
            return redirect(_team_url(project))
    forms = {"account_form": form} if new_account else {"add_form": form}
    return render(request, "backups/team.html", _context(request, project, **forms))


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    project = _managed_project(request, pk)
    membership = _membership(project, member_pk)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        return _after_change(request, project, error="Choose a role: Viewer, Operator or Admin.")
    try:
        membership = services.member_role_change(membership=membership, role=form.cleaned_data["role"], by=request.user)
    except ValidationError as error:
        return _after_change(request, project, error=_first_message(error))
    if lost := _lost_access(request, project, membership):
        messages.info(request, f"You are now {membership.get_role_display()} of {project.name}.")
        return lost
    if not wants_fragment(request):
        messages.success(request, f"{membership.user.username} is now {membership.get_role_display()}.")
    return _after_change(request, project)


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    project = _managed_project(request, pk)
    membership = _membership(project, member_pk)
    try:
        services.member_remove(membership=membership, by=request.user)
    except ValidationError as error:
        return _after_change(request, project, error=_first_message(error))
    if lost := _lost_access(request, project, membership):
        messages.info(request, f"You have left {project.name}.")
        return lost
    if not wants_fragment(request):
        messages.success(request, f"{membership.user.username} is no longer a member of {project.name}.")
    return _after_change(request, project)


@login_required
@require_POST
def member_deactivate(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Site administrators: the person can no longer sign in, anywhere in the console."""
    project = _managed_project(request, pk)
    membership = _membership(project, member_pk)
    require(request.user, Action.DEACTIVATE, None)
    try:
        services.account_deactivate(user=membership.user, by=request.user)
    except ValidationError as error:
        return _after_change(request, project, error=_first_message(error))
    if not wants_fragment(request):
        messages.success(request, f"The account {membership.user.username} is deactivated.")
    return _after_change(request, project)


@login_required
@require_POST
def member_reactivate(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    project = _managed_project(request, pk)
    membership = _membership(project, member_pk)
    require(request.user, Action.DEACTIVATE, None)
    services.account_reactivate(user=membership.user, by=request.user)
    if not wants_fragment(request):
        messages.success(request, f"The account {membership.user.username} can sign in again.")
    return _after_change(request, project)


class PasswordChange(PasswordChangeView):
    """Django's password change, recorded in the audit trail; it also lifts the initial password."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"initial_password": must_change_password(self.request.user)}

    def form_valid(self, form):
        services.account_password_change(user=form.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())
