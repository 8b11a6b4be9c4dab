from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from access.decorators import AuthenticatedHttpRequest, login_required, require
from access.permissions import Action
from backups.forms import BackupRequestForm
from backups.selectors.instances import instance_for, preflight, suggested_backup_name
from backups.services import submission
from webapp.htmx import htmx_of, wants_fragment


@login_required
@require_http_methods(["GET", "POST"])
def backup_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The create-backup form: a dialog for htmx, a page without JavaScript."""
    instance = instance_for(request.user, pk)
    require(request.user, Action.BACKUP, instance.project_id)
    if request.method == "POST":
        form = BackupRequestForm(request.POST, instance=instance)
        if form.is_valid():
            try:
                backup = submission.backup_request(instance=instance, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                # Another request (a double click, a second tab) won the race since the check.
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("Backup %(backup)s of %(instance)s requested. It starts within a few seconds.")
                    % {"backup": backup.name, "instance": instance.name},
                )
                url = reverse("backups:backup_detail", args=[backup.pk])
                return HttpResponseClientRedirect(url) if htmx_of(request) else redirect(url)
    else:
        who = request.user.get_full_name() or request.user.username
        form = BackupRequestForm(
            instance=instance,
            initial={
                "name": suggested_backup_name(instance),
                "description": _("Manual backup requested by %(person)s") % {"person": who},
            },
        )
    context = {"instance": instance, "form": form, "preflight": preflight(instance)}
    template = "backups/backup_create.html"
    if wants_fragment(request):
        # A GET fills the dialog; an invalid POST re-renders the form inside it (200, so htmx swaps it).
        template += "#dialog" if request.method == "GET" else "#form"
    return render(request, template, context)


@login_required
@require_POST
def backup_validate(request: HttpRequest, pk: int) -> HttpResponse:
    """Check one field as the user types, with the server's own rules and messages."""
    instance = instance_for(request.user, pk)
    require(request.user, Action.BACKUP, instance.project_id)
    name = request.GET.get("field", "")
    if name not in BackupRequestForm.base_fields:
        return HttpResponseBadRequest("Unknown field.")
    form = BackupRequestForm(request.POST, instance=instance)
    form.is_valid()
    return render(request, "backups/backup_create.html#feedback", {"field": form[name]})
