"""The restore form: a completed backup, or a cluster instance at a point in time, to a new
instance (project Admins). The source's specification is read from the cloud to prefill the
form and to check the least nodes and storage; the point-in-time window arrives in its own
request, so the page does not wait for it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from access.decorators import login_required, require
from access.permissions import Action
from backups.selectors.backups import backup_for
from backups.selectors.instances import instance_for
from restores import pages, sources
from restores.forms import RestoreForm
from restores.services import requests as restore_services
from webapp.htmx import htmx_of, wants_fragment

TEMPLATE = "restores/restore_create.html"
SECRET_FIELDS = ("password", "password_again")
# The disk type creating_an_instance.rst documents; the instance list does not say the source's.
DEFAULT_STORAGE_TYPE = "ULTRAHIGH"


def _initial(source, spec) -> dict:
    initial = {"target_name": pages.suggested_target_name(source)}
    if spec is not None:
        initial |= {
            "spec_code": spec.spec_code,
            "storage_type": DEFAULT_STORAGE_TYPE,
            "node_count": spec.node_count,
            "volume_size_gb": spec.volume_size_gb,
            "region": spec.region or source.project.region,
            "availability_zone": spec.availability_zone,
            "vpc_id": spec.vpc_id,
            "subnet_id": spec.subnet_id,
            "security_group_id": spec.security_group_id,
        }
    return initial


@sensitive_variables("form")
def _form_page(request: HttpRequest, *, source, backup=None) -> HttpResponse:
    point_in_time = backup is None
    spec = sources.source_spec(source)
    # A posted time is checked against the window as the cloud reports it now; a page that
    # only shows the form fetches the window in a request of its own (restore_window).
    window = sources.restorable_window(source) if point_in_time and request.method == "POST" else None
    options = {"source": source, "spec": spec.instance, "backup": backup, "point_in_time": point_in_time}
    if request.method == "POST":
        form = RestoreForm(request.POST, periods=window.periods if window else None, **options)
        if form.is_valid():
            try:
                restore = _request(form, request.user, source=source, backup=backup)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _(
                        "Restore of %(source)s to the new instance %(target)s requested. "
                        "The worker sends it to the cloud within a few seconds."
                    )
                    % {"source": backup.name if backup else source.name, "target": restore.target_name},
                )
                url = reverse("restores:restore_detail", args=[restore.pk])
                return HttpResponseClientRedirect(url) if htmx_of(request) else redirect(url)
    else:
        form = RestoreForm(initial=_initial(source, spec.instance), **options)
    context = {
        "source": source,
        "backup": backup,
        "form": form,
        "point_in_time": point_in_time,
        "spec_error": spec.error,
        "window": window,
        "window_url": reverse("restores:restore_window", args=[source.pk]) if point_in_time else "",
        "cancel_url": reverse("backups:backup_detail", args=[backup.pk])
        if backup
        else reverse("backups:instance_detail", args=[source.pk]),
    }
    # An invalid htmx post re-renders the form inside the page (200, so htmx swaps it).
    template = f"{TEMPLATE}#form" if wants_fragment(request) else TEMPLATE
    return render(request, template, context)


@sensitive_variables("form")
def _request(form: RestoreForm, user, *, source, backup):
    data = form.cleaned_data
    common = {
        "user": user,
        "target_name": data["target_name"],
        "password": data["password"],
        **form.target_spec(),
    }
    if backup is not None:
        return restore_services.restore_request(backup=backup, **common)
    return restore_services.point_in_time_restore_request(instance=source, restore_time=data["restore_time"], **common)


@sensitive_post_parameters(*SECRET_FIELDS)
@login_required
@require_http_methods(["GET", "POST"])
def restore_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Restore a completed backup to a new instance."""
    backup = backup_for(request.user, pk)
    require(request.user, Action.RESTORE, backup.instance.project_id)
    blocker = restore_services.restorable_backup_problem(backup)
    if blocker:
        messages.error(request, blocker)
        return redirect("backups:backup_detail", pk=backup.pk)
    return _form_page(request, source=backup.instance, backup=backup)


@sensitive_post_parameters(*SECRET_FIELDS)
@login_required
@require_http_methods(["GET", "POST"])
def restore_point_in_time(request: HttpRequest, pk: int) -> HttpResponse:
    """Restore a cluster instance, as it was at a chosen time, to a new instance."""
    source = instance_for(request.user, pk)
    require(request.user, Action.RESTORE, source.project_id)
    blocker = pages.point_in_time_blocker(source)
    if blocker:
        messages.error(request, blocker)
        return redirect("backups:instance_detail", pk=source.pk)
    return _form_page(request, source=source)


@login_required
@require_GET
def restore_window(request: HttpRequest, pk: int) -> HttpResponse:
    """The times the cloud can restore the instance to, for the point-in-time form."""
    source = instance_for(request.user, pk)
    require(request.user, Action.RESTORE, source.project_id)
    window = sources.restorable_window(source)
    return render(request, f"{TEMPLATE}#window", {"source": source, "window": window})
