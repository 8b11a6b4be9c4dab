"""A project's notification channels, for its admins: add, change, remove, send a test, and
see how the latest deliveries went (polled while one is on its way)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from access.decorators import login_required, require
from access.models import CloudProject
from access.permissions import Action, project_for
from notifications.events import EventKind
from notifications.forms import ChannelForm
from notifications.selectors.channels import project_channel, project_channels, recent_deliveries
from notifications.services import channels as channel_services
from webapp.htmx import htmx_of, wants_fragment
from webapp.throttle import Throttle

PAGE = "notifications/channels.html"
# Each test is a message to someone else's server: a few a minute are plenty.
TESTS = Throttle("channel-test", limit=settings.CHANNEL_TESTS_PER_10_MINUTES, window=600)


def managed_project(request: HttpRequest, pk: int) -> CloudProject:
    project = project_for(request.user, pk)
    require(request.user, Action.MANAGE, project)
    return project


def channels_url(project: CloudProject) -> str:
    return reverse("notifications:channels", args=[project.pk])


def page_context(project: CloudProject, **extra) -> dict:
    deliveries = recent_deliveries(project)
    return {
        "project": project,
        "channels": project_channels(project),
        "deliveries": deliveries,
        "deliveries_in_flight": any(delivery.in_flight for delivery in deliveries),
        "event_kinds": len(EventKind.values),
        "form": extra.pop("form", None) or ChannelForm(),
        **extra,
    }


def _first(error: ValidationError) -> str:
    return error.messages[0] if error.messages else _("That did not work.")


@login_required
@require_http_methods(["GET", "POST"])
def channels(request: HttpRequest, pk: int) -> HttpResponse:
    project = managed_project(request, pk)
    if request.method == "GET":
        context = page_context(project)
        if wants_fragment(request) and request.GET.get("part") == "deliveries":
            # Polled while a delivery is on its way; 286 stops the polling.
            status = 200 if context["deliveries_in_flight"] else 286
            return render(request, f"{PAGE}#deliveries", context, status=status)
        return render(request, PAGE, context)
    form = ChannelForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            channel, secret = channel_services.channel_add(
                project=project, by=request.user, kind=data["kind"], name=data["name"], target=data["target"],
                events=data["events"], reminder_hours=data["reminder_hours"], language=data["language"],
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, _first(error))
        else:
            if secret:  # shown this once, in this answer: never stored in a session or a message
                return render(request, PAGE, page_context(project, created=channel, secret=secret))
            messages.success(request, _("Channel %(name)s added.") % {"name": channel.name})
            return redirect(channels_url(project))
    return render(request, PAGE, page_context(project, form=form), status=200)


@login_required
@require_http_methods(["GET", "POST"])
def channel_edit(request: HttpRequest, pk: int, channel_pk: int) -> HttpResponse:
    project = managed_project(request, pk)
    channel = project_channel(project, channel_pk)
    form = ChannelForm(request.POST if request.method == "POST" else None, channel=channel)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            channel_services.channel_change(
                channel=channel, by=request.user, name=data["name"], target=data["target"], events=data["events"],
                reminder_hours=data["reminder_hours"], enabled=data["enabled"], language=data["language"],
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, _first(error))
        else:
            messages.success(request, _("Channel %(name)s saved.") % {"name": channel.name})
            return redirect(channels_url(project))
    return render(request, "notifications/channel_edit.html", {"project": project, "channel": channel, "form": form})


@login_required
@require_POST
def channel_remove(request: HttpRequest, pk: int, channel_pk: int) -> HttpResponse:
    project = managed_project(request, pk)
    channel = project_channel(project, channel_pk)
    channel_services.channel_remove(channel=channel, by=request.user)
    messages.success(request, _("Channel %(name)s removed.") % {"name": channel.name})
    if htmx_of(request):  # asked through hx-confirm: the page is loaded again, with the message
        return HttpResponseClientRedirect(channels_url(project))
    return redirect(channels_url(project))


@login_required
@require_POST
def channel_test(request: HttpRequest, pk: int, channel_pk: int) -> HttpResponse:
    """Queue a test message; htmx gets the deliveries list, which follows it until it ends."""
    project = managed_project(request, pk)
    channel = project_channel(project, channel_pk)
    error = None
    if TESTS.take(str(request.user.pk)):
        channel_services.channel_test(channel=channel, by=request.user)
    else:
        minutes = TESTS.seconds_left() // 60 + 1
        error = ngettext(
            "Too many tests: try again in %(minutes)s minute.",
            "Too many tests: try again in %(minutes)s minutes.",
            minutes,
        ) % {"minutes": minutes}
    if wants_fragment(request):
        return render(request, f"{PAGE}#deliveries", page_context(project, test_error=error))
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request, _("A test message to %(name)s is on its way: see Recent deliveries.") % {"name": channel.name}
        )
    return redirect(channels_url(project))
