from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from access.decorators import login_required, require
from access.forms import AuditFilterForm
from access.permissions import Action
from access.selectors import audit
from webapp import params
from webapp.htmx import render_page


@login_required
@require_GET
def audit_trail(request: HttpRequest) -> HttpResponse:
    """The audit trail, newest first: a project admin's projects, or everything for a site
    administrator. Read-only: nothing in the console changes or deletes an event."""
    require(request.user, Action.AUDIT, None)
    form = AuditFilterForm(request.GET, choices=audit.audit_choices(request.user))
    filters = form.filters()
    page = audit.audit_page(audit.events_for(request.user, filters), before=params.integer(request.GET.get("before")))
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "filters": filters, "page": page, "filter_query": query.urlencode()}
    return render_page(request, "access/audit.html", context, fragment="results")
