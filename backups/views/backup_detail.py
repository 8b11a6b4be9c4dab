from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING

from access import pollpass
from access.decorators import login_required
from backups import live
from backups.explanations import explain
from backups.selectors.backups import backup_for, backup_timeline
from backups.selectors.live import backup_detail_state
from restores.pages import backup_restores


@login_required
@require_GET
def backup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A backup's facts and timeline; while it is active its live part polls `backup_live`."""
    backup = backup_for(request.user, pk)
    context = _context(request, backup)
    if backup.is_active:
        context["poll_pass"] = pollpass.issue(request)
    return render(request, "backups/backup_detail.html", context)


@pollpass.poll_scope
@require_GET
def backup_live(request: pollpass.PollRequest, pk: int) -> HttpResponse:
    """The live part of a backup's page (`backups.live`): 204 while nothing it shows changed,
    the part when something did (or the poll's pass was renewed: `access.pollpass`), 286 once
    the backup has ended. An unchanged answer builds no model."""
    scope = request.poll
    found = backup_detail_state(scope.project_ids, pk)
    if found is None:
        raise Http404("No such backup.")
    state, events = found
    active = state.row.is_active
    if active and not scope.renewed and request.GET.get(live.SEEN_PARAM) == live.detail_fingerprint(state, events):
        return HttpResponse(status=204)
    backup = backup_for(request.user, pk)
    context = {**_context(request, backup), "poll_pass": scope.value}
    response = render(request, "backups/backup_detail.html#live", context)
    if not backup.is_active:
        response.status_code = HTMX_STOP_POLLING
    return response


def _context(request: HttpRequest, backup) -> dict:
    events = backup_timeline(backup)
    return {
        "backup": backup,
        "events": events,
        "explanation": explain(backup.error_code, backup.error_message),
        "seen": live.detail_fingerprint(live.DetailState.of(backup), live.event_values(events)),
        "restores": backup_restores(request.user, backup),
    }
