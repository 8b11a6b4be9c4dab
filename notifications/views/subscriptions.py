"""A person's own notifications: an email when a backup they requested ends."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from access.decorators import AuthenticatedHttpRequest, login_required
from notifications.forms import SubscriptionForm
from notifications.selectors.channels import wants_backup_outcomes
from notifications.services.subscriptions import subscription_set


@login_required
@require_http_methods(["GET", "POST"])
def my_notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SubscriptionForm(
        request.POST if request.method == "POST" else None,
        initial={"backup_outcomes": wants_backup_outcomes(request.user)},
    )
    if request.method == "POST" and form.is_valid():
        subscription_set(user=request.user, backup_outcomes=form.cleaned_data["backup_outcomes"])
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notifications:mine")
    return render(request, "notifications/mine.html", {"form": form, "has_email": bool(request.user.email)})
