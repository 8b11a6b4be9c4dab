"""Restore rehearsals from an instance's page (project Admins): start one now, or schedule one
every N days. The instance page shows the last proven restore and its measured RTO."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
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
        f"Rehearsal of {instance.name} requested: the latest backup is restored to the temporary instance "
        f"{rehearsal.target_name}, timed, then deleted.",
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
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect("backups:instance_detail", pk=instance.pk)
    schedule = rehearsal_services.rehearsal_schedule_set(instance=instance, user=request.user, **form.cleaned_data)
    if schedule.enabled:
        messages.success(
            request,
            f"{instance.name} is rehearsed every {schedule.every_days} days; "
            f"the next rehearsal is due {schedule.next_due_at:%Y-%m-%d %H:%M} UTC.",
        )
    else:
        messages.success(request, f"Scheduled rehearsals of {instance.name} are off.")
    return redirect("backups:instance_detail", pk=instance.pk)
