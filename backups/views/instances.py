from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from access.decorators import login_required
from access.permissions import Action, projects_for, user_can
from access.selectors.projects import visible_project_list
from backups.forms import InstanceFilterForm
from backups.selectors.instances import instances_page
from backups.services.sync import projects_sync_request, refresh_throttle
from restores.pages import mark_restored_instances
from webapp.htmx import render_page


@login_required
@require_GET
def instance_list(request: HttpRequest) -> HttpResponse:
    projects = visible_project_list(request.user)
    form = InstanceFilterForm(request.GET, projects=[(p.pk, p.name) for p in projects])
    page = instances_page(
        request.user,
        search=form.value("q", "").strip(),
        project=form.value("project"),
        status=form.value("status", ""),
        protection_status=form.value("protection", ""),
        page=form.value("page", 1),
    )
    mark_restored_instances(row.instance for group in page.groups for row in group.rows)
    context = {
        "form": form,
        "page": page,
        "groups": page.groups,
        "filtered": any(form.value(name) for name in ("q", "project", "status", "protection")),
        "can_refresh": any(user_can(request.user, Action.BACKUP, p) for p in projects),
    }
    return render_page(request, "backups/instances.html", context, fragment="results")


@login_required
@require_POST
def instances_refresh(request: HttpRequest) -> HttpResponse:
    """Ask the worker to re-sync the user's projects from the cloud (Operator and up)."""
    projects = list(projects_for(request.user, Action.BACKUP).order_by("name"))
    if not projects:
        raise PermissionDenied
    throttle = refresh_throttle()
    if not throttle.take(str(request.user.pk)):
        minutes = -(-throttle.seconds_left() // 60)
        messages.error(
            request,
            _(
                "You have refreshed %(times)d times in the last few minutes. "
                "The worker syncs every project on its own; try again in %(minutes)d min."
            )
            % {"times": throttle.limit, "minutes": minutes},
        )
    else:
        requested = projects_sync_request(projects=projects)
        if requested.queued:
            messages.info(
                request,
                _(
                    "Refreshing %(projects)s from the cloud. "
                    "New, changed and removed instances appear here within a minute."
                )
                % {"projects": _names(requested.queued)},
            )
        if requested.under_way:
            names = _names(requested.under_way)
            messages.info(request, _("A refresh of %(projects)s is already under way.") % {"projects": names})
    # Back to the list as the user left it: htmx may have changed the filters since the page loaded.
    back = urlsplit(request.headers.get("Referer", ""))
    query = QueryDict(back.query).urlencode() if back.path == reverse("backups:instances") else ""
    return redirect(reverse("backups:instances") + (f"?{query}" if query else ""))


def _names(projects) -> str:
    return ", ".join(project.name for project in projects)
