from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING

from access.decorators import login_required
from backups import live
from backups.explanations import explain
from backups.selectors.backups import backup_for, backup_timeline
from restores.pages import backup_restores
from webapp.htmx import wants_fragment


@login_required
@require_GET
def backup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A backup's facts and timeline; while it is active the page polls its live part
    (`backups.live`): 204 while nothing shown changed, 286 once the backup has ended."""
    backup = backup_for(request.user, pk)
    events = backup_timeline(backup)
    seen = live.detail_fingerprint(backup, events)
    fragment = wants_fragment(request)
    if fragment and backup.is_active and request.GET.get(live.SEEN_PARAM) == seen:
        return HttpResponse(status=204)
    context = {
        "backup": backup,
        "events": events,
        "explanation": explain(backup.error_code, backup.error_message),
        "seen": seen,
        "restores": backup_restores(request.user, backup),
    }
    if fragment:
        response = render(request, "backups/backup_detail.html#live", context)
        if not backup.is_active:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "backups/backup_detail.html", context)
