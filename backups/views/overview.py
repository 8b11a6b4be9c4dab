from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING

from access import pollpass
from access.decorators import login_required
from backups import live
from backups.selectors.live import running_states
from backups.selectors.overview import overview_for, running_backups
from backups.selectors.protection import protection_counts


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    overview = overview_for(request.user)
    context = {
        "overview": overview,
        # One value for the translated sentence "Backups of 2 cloud projects: a, b."
        "project_names": ", ".join(project.name for project in overview.projects),
        "running": overview.running,
        "running_seen": live.running_fingerprint(map(live.RowState.of, overview.running)),
        "protection": protection_counts(request.user),
        "poll_pass": pollpass.issue(request) if overview.running else "",
    }
    return render(request, "backups/overview.html", context)


@pollpass.poll_scope
@require_GET
def overview_running(request: pollpass.PollRequest) -> HttpResponse:
    """The "running now" panel, polled while something runs (`backups.live`): 204 while it
    would show what the page shows, the panel when that changed (or the poll's pass was
    renewed: `access.pollpass`), 286 once nothing runs."""
    scope = request.poll
    # What the panel shows, as plain values first: an unchanged answer builds no model.
    states = running_states(scope.project_ids)
    if states and not scope.renewed and request.GET.get(live.SEEN_PARAM) == live.running_fingerprint(states):
        return HttpResponse(status=204)
    running = running_backups(scope.project_ids)
    seen = live.running_fingerprint(map(live.RowState.of, running))
    context = {"running": running, "running_seen": seen, "poll_pass": scope.value}
    response = render(request, "backups/overview.html#running", context)
    if not running:
        response.status_code = HTMX_STOP_POLLING
    return response
