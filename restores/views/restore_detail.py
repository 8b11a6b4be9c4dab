"""A restore's (or rehearsal's) page: status, progress, the new instance, its timeline, and a
failure in plain words; live while the restore or a rehearsal's clean-up is under way, in the
backup page's way (`backups.live`): 204 while nothing shown changed, 286 once it has ended."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING

from access.decorators import login_required
from backups import live
from restores import pages
from webapp.htmx import wants_fragment

TEMPLATE = "restores/restore_detail.html"


def _fingerprint(restore, events) -> str:
    """What the live part shows: the restore's facts and its timeline, not the clock."""
    return live.fingerprint(
        *(getattr(restore, field) for field in pages.LIVE_FIELDS),
        *(f"{event.pk}:{event.kind}:{event.at}:{event.message}" for event in events),
    )


@login_required
@require_GET
def restore_detail(request: HttpRequest, pk: int) -> HttpResponse:
    restore = pages.restore_for(request.user, pk)
    events = pages.restore_timeline(restore)
    seen = _fingerprint(restore, events)
    under_way = pages.restore_under_way(restore)
    fragment = wants_fragment(request)
    if fragment and under_way and request.GET.get(live.SEEN_PARAM) == seen:
        return HttpResponse(status=204)
    context = {
        "restore": restore,
        "events": events,
        "under_way": under_way,
        "explanation": pages.restore_explanation(restore),
        "new_instance": pages.restored_instance(restore),
        "seen": seen,
    }
    if fragment:
        response = render(request, f"{TEMPLATE}#live", context)
        if not under_way:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, TEMPLATE, context)
