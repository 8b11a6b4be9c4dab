"""Connected cloud projects: the list for the people who administer them, connecting a new one
(site administrators) and replacing a project's IAM credentials (its admins).

Credentials are proven before they are saved. Connecting shows what the credentials found
and asks for a confirmation; between the two steps the password waits in the session,
encrypted with the same keys as in the database, and is never rendered.
"""

from datetime import datetime, timedelta

from cryptography.fernet import InvalidToken
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from access import fields
from access.decorators import login_required, require
from access.forms import ProjectConnectForm, ProjectCredentialsForm
from access.permissions import Action, is_site_admin, project_for
from access.selectors.accounts import account
from access.selectors.projects import administered_projects
from access.services import projects as project_services
from backups import rules

PENDING = "project_connect_pending"
PENDING_FOR = timedelta(minutes=15)


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    """The projects the user administers (all of them for a site administrator). Two queries."""
    require(request.user, Action.MANAGE, None)
    rows = administered_projects(request.user)
    return render(request, "access/projects.html", {"rows": rows, "can_connect": is_site_admin(request.user)})


def _pending(request: HttpRequest) -> dict | None:
    """The connection checked a moment ago and waiting for confirmation, if still fresh."""
    pending = request.session.get(PENDING)
    if not pending or timezone.now() - datetime.fromisoformat(pending["at"]) > PENDING_FOR:
        request.session.pop(PENDING, None)
        return None
    return pending


@sensitive_variables()
def _remember(request: HttpRequest, data: dict, check: project_services.CredentialsCheck) -> dict:
    pending = {name: value for name, value in data.items() if name not in ("password", "admin")}
    pending |= {
        "admin": data["admin"].pk,
        "admin_name": data["admin"].get_username(),
        "password": fields.encrypt(data["password"]),
        "instances": [
            {
                "name": instance.name,
                "id": instance.id,
                "status": rules.instance_status_label(instance.status),
                "version": instance.datastore_version,
                "mode": instance.mode,
            }
            for instance in check.instances
        ],
        "at": timezone.now().isoformat(),
    }
    request.session[PENDING] = pending
    return pending


def _form_from(pending: dict) -> ProjectConnectForm:
    """The form as it was filled in, to change something: everything except the password."""
    initial = {name: pending[name] for name in ProjectConnectForm.base_fields if name not in ("password", "admin")}
    return ProjectConnectForm(initial=initial | {"admin": pending["admin_name"]})


@sensitive_post_parameters("password")
@sensitive_variables()
@login_required
@require_http_methods(["GET", "POST"])
def project_connect(request: HttpRequest) -> HttpResponse:
    """Step 1 checks the credentials and shows what they found; step 2 (`confirm`) connects."""
    require(request.user, Action.CONNECT, None)
    if request.method == "POST" and "confirm" in request.POST:
        return _connect_confirmed(request)
    if request.method == "GET":
        pending = _pending(request) if "edit" in request.GET else None
        form = _form_from(pending) if pending else ProjectConnectForm()
        return render(request, "access/project_connect.html", {"form": form})
    form = ProjectConnectForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            check = project_services.project_credentials_check(
                iam_endpoint=data["iam_endpoint"],
                geminidb_endpoint=data["geminidb_endpoint"],
                project_id=data["project_id"],
                iam_domain=data["iam_domain"],
                iam_user=data["iam_user"],
                password=data["password"],
            )
        except project_services.CloudCheckFailed as failure:
            form.add_error(None, str(failure))
        except ValidationError as invalid:  # the form's own endpoint rules, held by the service too
            form.add_error(None, invalid)
        else:
            pending = _remember(request, data, check)
            return render(request, "access/project_connect.html", {"pending": pending})
    return render(request, "access/project_connect.html", {"form": form})


@sensitive_variables()
def _connect_confirmed(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    admin = account((pending or {}).get("admin"))
    if pending is None or admin is None:
        messages.error(request, _("That check is too old or was already used: please fill in the form again."))
        return redirect("access:project_connect")
    try:
        password = fields.decrypt(pending["password"])
    except InvalidToken:  # the encryption key changed in between
        request.session.pop(PENDING, None)
        messages.error(request, _("Please enter the password again."))
        return redirect(reverse("access:project_connect") + "?edit=1")
    try:
        project = project_services.project_connect(
            by=request.user,
            name=pending["name"],
            region=pending["region"],
            iam_endpoint=pending["iam_endpoint"],
            geminidb_endpoint=pending["geminidb_endpoint"],
            project_id=pending["project_id"],
            iam_domain=pending["iam_domain"],
            iam_user=pending["iam_user"],
            password=password,
            admin=admin,
        )
    except (project_services.CloudCheckFailed, ValidationError) as failure:
        request.session.pop(PENDING, None)  # check again, with the password typed again
        form = _form_from(pending)
        messages_ = failure.messages if isinstance(failure, ValidationError) else [str(failure)]
        return render(request, "access/project_connect.html", {"form": form, "errors": messages_})
    request.session.pop(PENDING, None)
    count = project.instances.count()
    messages.success(
        request,
        ngettext(
            "%(project)s is connected, with %(count)s Cassandra instance. %(admin)s is its admin.",
            "%(project)s is connected, with %(count)s Cassandra instances. %(admin)s is its admin.",
            count,
        )
        % {"project": project.name, "count": count, "admin": admin.get_username()},
    )
    return redirect("access:team", pk=project.pk)


@sensitive_post_parameters("password")
@sensitive_variables()
@login_required
@require_http_methods(["GET", "POST"])
def project_credentials(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace the IAM credentials. The stored password is write-only: never shown, only replaced."""
    project = project_for(request.user, pk)
    require(request.user, Action.MANAGE, project)
    if request.method == "POST":
        form = ProjectCredentialsForm(request.POST)
        if form.is_valid():
            try:
                check = project_services.project_credentials_rotate(
                    project=project, by=request.user, **form.cleaned_data
                )
            except project_services.CloudCheckFailed as failure:
                form.add_error(None, str(failure))
            else:
                count = len(check.instances)
                messages.success(
                    request,
                    ngettext(
                        "The credentials of %(project)s are replaced. They work: the cloud listed "
                        "%(count)s Cassandra instance.",
                        "The credentials of %(project)s are replaced. They work: the cloud listed "
                        "%(count)s Cassandra instances.",
                        count,
                    )
                    % {"project": project.name, "count": count},
                )
                return redirect("access:project_credentials", pk=project.pk)
    else:
        form = ProjectCredentialsForm(initial={"iam_domain": project.iam_domain, "iam_user": project.iam_user})
    return render(request, "access/project_credentials.html", {"project": project, "form": form})
