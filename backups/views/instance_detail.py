"""One instance: its protection at a glance, its policy and RPO (admins change them here), and
its recent backups."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from access.decorators import login_required, require
from access.permissions import Action, project_for
from backups.forms import BackupPolicyForm, RpoForm
from backups.selectors.instances import instance_for
from backups.selectors.protection import instance_page
from backups.services import policies
from restores.pages import instance_restores
from webapp.htmx import render_page

TEMPLATE = "backups/instance_detail.html"


def _policy_initial(instance) -> dict:
    if instance.policy_keep_days is None:
        return {}
    period = [d for d in instance.policy_period.split(",") if d]
    return {"keep_days": instance.policy_keep_days, "start_time": instance.policy_start_time, "period": period}


def _render(request: HttpRequest, instance, *, policy_form=None, rpo_form=None, confirm_off=False) -> HttpResponse:
    page = instance_page(request.user, instance)
    context = {
        "page": page,
        "instance": instance,
        "policy_form": policy_form or BackupPolicyForm(instance=instance, initial=_policy_initial(instance)),
        "rpo_form": rpo_form or RpoForm(optional=True, initial={"rpo_hours": instance.rpo_hours}),
        "project_rpo_form": RpoForm(optional=False, initial={"rpo_hours": instance.project.rpo_hours}),
        "confirm_off": confirm_off,
        "restores": instance_restores(request.user, instance, last_good=page.last_good),
    }
    fragment = "policy" if policy_form is not None else "rpo" if rpo_form is not None else "page"
    return render_page(request, TEMPLATE, context, fragment=fragment)


@login_required
@require_GET
def instance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, instance_for(request.user, pk))


@login_required
@require_POST
def instance_policy(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the automated backup policy in the cloud (Admins). Switching it off is confirmed first."""
    instance = instance_for(request.user, pk)
    require(request.user, Action.MANAGE, instance.project_id)
    form = BackupPolicyForm(request.POST, instance=instance)
    if not form.is_valid():
        return _render(request, instance, policy_form=form)
    if form.needs_confirmation:
        data = request.POST.copy()
        data["confirm_off"] = "True"
        return _render(request, instance, policy_form=BackupPolicyForm(data, instance=instance), confirm_off=True)
    try:
        change = policies.instance_policy_change(
            instance=instance,
            user=request.user,
            keep_days=form.cleaned_data["keep_days"],
            start_time=form.cleaned_data.get("start_time", ""),
            period=form.cleaned_data["period"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _render(request, instance, policy_form=form)
    except policies.PolicyChangeFailed as error:
        form.add_error(None, _("%(error)s The policy was not changed.") % {"error": error})
        return _render(request, instance, policy_form=form)
    messages.success(
        request,
        _("Automated backups of %(instance)s: %(new)s (were: %(old)s).")
        % {"instance": instance.name, "new": change.new, "old": change.old},
    )
    return redirect("backups:instance_detail", pk=instance.pk)


@login_required
@require_POST
def instance_rpo(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the instance its own RPO, or follow the project's again (Admins)."""
    instance = instance_for(request.user, pk)
    require(request.user, Action.MANAGE, instance.project_id)
    form = RpoForm(request.POST, optional=True)
    if not form.is_valid():
        return _render(request, instance, rpo_form=form)
    policies.instance_rpo_change(instance=instance, user=request.user, rpo_hours=form.cleaned_data["rpo_hours"])
    hours = instance.effective_rpo_hours
    messages.success(
        request,
        ngettext("The RPO of %(name)s is now %(hours)d hour.", "The RPO of %(name)s is now %(hours)d hours.", hours)
        % {"name": instance.name, "hours": hours},
    )
    return redirect("backups:instance_detail", pk=instance.pk)


@login_required
@require_POST
def project_rpo(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the project's RPO (Admins), then go back to the page the form was on."""
    project = project_for(request.user, pk)
    require(request.user, Action.MANAGE, project)
    form = RpoForm(request.POST, optional=False)
    if form.is_valid():
        policies.project_rpo_change(project=project, user=request.user, rpo_hours=form.cleaned_data["rpo_hours"])
        hours = project.rpo_hours
        messages.success(
            request,
            ngettext("The RPO of %(name)s is now %(hours)d hour.", "The RPO of %(name)s is now %(hours)d hours.", hours)
            % {"name": project.name, "hours": hours},
        )
    else:
        messages.error(request, " ".join(str(error) for error in form.errors.get("rpo_hours", form.non_field_errors())))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("backups:instances")
    return redirect(back)
