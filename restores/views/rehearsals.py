"""Restore rehearsals from an instance's page (project Admins): start one now, or schedule one
every N days. The instance page shows the last proven restore and its measured RTO."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access.decorators import login_required, require
from access.permissions import Action
from backups.selectors.instances import instance_for
from restores.forms import RehearsalScheduleForm
from restores.services import rehearsals as rehearsal_services


@login_required
@require_POST
def rehearsal_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Restore the instance's latest completed backup to a temporary instance, time it, delete it."""
    instance = instance_for(request.user, pk)
    require(request.user, Action.RESTORE, instance.project_id)
    try:
        rehearsal = rehearsal_services.rehearsal_request(instance=instance, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("backups:instance_detail", pk=instance.pk)
    messages.success(
        request,
        _(
            "Rehearsal of %(instance)s requested: the latest backup is restored to the temporary instance "
            "%(target)s, timed, then deleted."
        )
        % {"instance": instance.name, "target": rehearsal.target_name},
    )
    return redirect("restores:restore_detail", pk=rehearsal.pk)


@login_required
@require_POST
def rehearsal_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Rehearse every N days, or stop."""
    instance = instance_for(request.user, pk)
    require(request.user, Action.RESTORE, instance.project_id)
    form = RehearsalScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect("backups:instance_detail", pk=instance.pk)
    schedule = rehearsal_services.rehearsal_schedule_set(instance=instance, user=request.user, **form.cleaned_data)
    if schedule.enabled:
        messages.success(
            request,
            _("%(instance)s is rehearsed every %(days)d days; the next rehearsal is due %(due)s UTC.")
            % {"instance": instance.name, "days": schedule.every_days, "due": f"{schedule.next_due_at:%Y-%m-%d %H:%M}"},
        )
    else:
        messages.success(request, _("Scheduled rehearsals of %(instance)s are off.") % {"instance": instance.name})
    return redirect("backups:instance_detail", pk=instance.pk)
