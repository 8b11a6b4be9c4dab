from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING

from access import pollpass
from access.decorators import login_required
from backups import live
from backups.forms import HistoryFilterForm
from backups.selectors import history as history_selectors
from backups.selectors.export import history_csv
from backups.selectors.history import Cursor
from backups.selectors.live import history_row_states, history_rows_by_pk
from webapp import params
from webapp.forms import options_html, with_any
from webapp.htmx import render_page

CURSOR_PARAMS = ("after", "before")


def _filtered(request: HttpRequest):
    chosen = params.integer(request.GET.get("instance"))
    form = HistoryFilterForm(
        request.GET,
        choices=history_selectors.history_choices(request.user, instance=chosen),
        options_url=reverse("backups:history_instance_options"),
    )
    filters = form.filters()
    return form, filters, history_selectors.history_for(request.user, filters)


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    form, filters, backups = _filtered(request)
    page = history_selectors.history_page(
        backups, after=Cursor.decode(request.GET.get("after")), before=Cursor.decode(request.GET.get("before"))
    )
    query = request.GET.copy()
    for param in CURSOR_PARAMS:
        query.pop(param, None)
    context = {"form": form, "filters": filters, "page": page, "filter_query": query.urlencode()}
    if page.any_active:
        context["poll_pass"] = pollpass.issue(request)
    return render_page(request, "backups/history.html", context, fragment="results")


@pollpass.poll_scope
@require_GET
def history_live(request: pollpass.PollRequest) -> HttpResponse:
    """The history page's one poll for all its active rows (`backups.live`): 204 when none
    changed, else the changed rows as out-of-band swaps; 286 once none is active any more.
    Answered from the poll's pass (`access.pollpass`); a renewed pass goes back to the page."""
    try:
        shown = live.shown_rows(request.GET.getlist(live.LIVE_ROW_PARAM))
    except live.BadLiveRows as error:
        return HttpResponseBadRequest(str(error))
    scope = request.poll
    states = history_row_states(scope.project_ids, shown) if shown else []
    changed = [state.pk for state in states if state.fingerprint != shown[state.pk]]
    still_active = any(state.is_active for state in states)
    if not changed and (not still_active or not scope.renewed):
        return HttpResponse(status=204 if still_active else HTMX_STOP_POLLING)
    context = {"changed": history_rows_by_pk(scope.project_ids, changed) if changed else [], "poll": scope}
    response = render(request, "backups/history.html#changed-rows", context)
    if not still_active:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_GET
def history_instance_options(request: HttpRequest) -> HttpResponse:
    """The instance filter's options, which the history page loads once it is shown; `instance`
    (the select's own value) stays selected."""
    choices = with_any(gettext("All instances"), history_selectors.instance_choices(request.user))
    return HttpResponse(options_html(choices, {request.GET.get("instance", "")}))


@login_required
@require_GET
def history_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered history as CSV, streamed: memory stays flat however many rows."""
    _, _, backups = _filtered(request)
    response = StreamingHttpResponse(history_csv(backups), content_type="text/csv; charset=utf-8")
    filename = f"backup-history-{timezone.now():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
