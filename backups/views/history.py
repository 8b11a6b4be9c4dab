from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING

from access.decorators import login_required
from backups.forms import HistoryFilterForm
from backups.selectors import history as history_selectors
from backups.selectors.backups import backup_for
from backups.selectors.export import history_csv
from backups.selectors.history import Cursor
from webapp.htmx import render_page

CURSOR_PARAMS = ("after", "before")


def _filtered(request: HttpRequest):
    form = HistoryFilterForm(request.GET, choices=history_selectors.history_choices(request.user))
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
    return render_page(request, "backups/history.html", context, fragment="results")


@login_required
@require_GET
def backup_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One history row, polled while the backup is active; 286 stops the polling."""
    backup = backup_for(request.user, pk)
    response = render(request, "backups/history.html#row", {"backup": backup})
    if not backup.is_active:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_GET
def history_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered history as CSV, streamed: memory stays flat however many rows."""
    _, _, backups = _filtered(request)
    response = StreamingHttpResponse(history_csv(backups), content_type="text/csv; charset=utf-8")
    filename = f"backup-history-{timezone.now():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
