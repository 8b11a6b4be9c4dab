"""The channels page and a person's own notifications page: an admin adds, changes, tests and
removes channels, each change in the audit trail; the URL and the secret are never rendered
back; the deliveries list polls while one is in flight and stops with 286."""

import pytest
from django.test import Client
from django.urls import reverse

from access.models import AuditEvent, Membership
from notifications.models import Channel, Delivery, Subscription
from tests.factories import MembershipFactory
from tests.notifications.helpers import add_channel, project_with_admin

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}
HOOK = "http://127.0.0.1:8123/services/T0SECRETPATH/xyz"


@pytest.fixture
def alpha(db):
    return project_with_admin()


@pytest.fixture
def browser(alpha):
    client = Client()
    client.force_login(alpha[1])
    return client


def channels_url(project):
    return reverse("notifications:channels", args=[project.pk])


def add_form(**fields):
    return {
        "kind": "webhook", "name": "On-call", "target": HOOK, "events": ["backup_failed", "instance_at_risk"],
        "reminder_hours": "4", **fields,
    }  # fmt: skip


def test_adding_a_webhook_shows_its_secret_once_and_never_again(alpha, browser):
    project, admin = alpha
    response = browser.post(channels_url(project), add_form())
    assert response.status_code == 200
    channel = Channel.objects.get()
    assert channel.secret.startswith("whsec_")
    html = response.content.decode()
    assert channel.secret in html
    assert "shown this once" in html
    assert (channel.display, channel.target, channel.events) == (
        "127.0.0.1:8123",
        HOOK,
        ["backup_failed", "instance_at_risk"],
    )
    for page in (channels_url(project), reverse("notifications:channel_edit", args=[project.pk, channel.pk])):
        html = browser.get(page).content.decode()
        assert channel.secret not in html
        assert "T0SECRETPATH" not in html
        assert "127.0.0.1:8123" in html
    event = AuditEvent.objects.get(action=AuditEvent.Action.CHANNEL_ADDED)
    assert event.actor == admin
    assert event.project_id == project.pk
    assert event.target == "On-call"
    assert "T0SECRETPATH" not in str(event.details)
    assert channel.secret not in str(event.details)


def test_a_chat_channel_is_added_without_a_secret(alpha, browser):
    project, _ = alpha
    response = browser.post(channels_url(project), add_form(kind="slack", name="#db-alerts"))
    assert response.status_code == 302
    assert Channel.objects.get().secret == ""


def test_an_unsafe_url_is_refused_on_the_form(alpha, browser, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    project, _ = alpha
    response = browser.post(channels_url(project), add_form(target="http://127.0.0.1:8123/hook"))
    assert response.status_code == 200
    assert "Enter an https:// address" in response.content.decode()
    assert Channel.objects.count() == 0


def test_editing_keeps_the_address_when_left_empty_and_is_audited(alpha, browser):
    project, admin = alpha
    channel, secret = add_channel(project, admin, target=HOOK)
    url = reverse("notifications:channel_edit", args=[project.pk, channel.pk])
    page = browser.get(url).content.decode()
    assert 'name="target"' in page
    assert 'value="' + HOOK not in page
    form = {"name": "Renamed", "target": "", "events": ["backup_failed"], "reminder_hours": "0"}
    assert browser.post(url, form).status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.target, channel.secret, channel.enabled) == ("Renamed", HOOK, secret, False)
    changed = AuditEvent.objects.get(action=AuditEvent.Action.CHANNEL_CHANGED)
    assert changed.details["address_changed"] is False
    assert changed.details["enabled"] is False


def test_send_test_queues_a_delivery_and_the_list_polls_until_it_ends(alpha, browser, published_deliveries):
    project, admin = alpha
    channel, _ = add_channel(project, admin)
    response = browser.post(reverse("notifications:channel_test", args=[project.pk, channel.pk]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="deliveries"' in html
    assert "<html" not in html
    assert "Test message" in html
    assert "Queued" in html
    assert 'hx-trigger="every 2s"' in html
    delivery = Delivery.objects.get()
    poll = channels_url(project) + "?part=deliveries"
    assert browser.get(poll, **HTMX).status_code == 200
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, last_error="The receiver answered 404."
    )
    done = browser.get(poll, **HTMX)
    assert done.status_code == 286
    assert "Not delivered" in done.content.decode()
    assert "The receiver answered 404." in done.content.decode()


def test_send_test_is_rate_limited(alpha, browser, published_deliveries, settings):
    project, admin = alpha
    channel, _ = add_channel(project, admin)
    from notifications.views import channels as views

    url = reverse("notifications:channel_test", args=[project.pk, channel.pk])
    for _ in range(views.TESTS.limit):
        browser.post(url, **HTMX)
    refused = browser.post(url, **HTMX).content.decode()
    assert "Too many tests" in refused
    assert Delivery.objects.count() == views.TESTS.limit


def test_removing_a_channel_is_audited(alpha, browser):
    project, admin = alpha
    channel, _ = add_channel(project, admin)
    response = browser.post(reverse("notifications:channel_remove", args=[project.pk, channel.pk]))
    assert response.status_code == 302
    assert Channel.objects.count() == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CHANNEL_REMOVED, target=channel.name).exists()


def test_a_channel_of_another_project_is_not_found(alpha, browser):
    project, _ = alpha
    other, other_admin = project_with_admin("eu-de_bravo")
    theirs, _ = add_channel(other, other_admin)
    for name in ("channel_edit", "channel_test", "channel_remove"):
        url = reverse(f"notifications:{name}", args=[project.pk, theirs.pk])
        assert browser.post(url).status_code == 404, name
    assert Channel.objects.filter(pk=theirs.pk).exists()


def test_the_team_page_links_to_the_channels(alpha, browser):
    project, _ = alpha
    assert channels_url(project) in browser.get(reverse("access:team", args=[project.pk])).content.decode()


def test_anyone_signed_in_chooses_to_hear_about_their_own_backups(alpha):
    project, _ = alpha
    viewer = MembershipFactory(project=project, role=Membership.Role.VIEWER, user__email="v@example.com").user
    client = Client()
    client.force_login(viewer)
    url = reverse("notifications:mine")
    page = client.get(url).content.decode()
    assert "v@example.com" in page
    assert 'name="backup_outcomes"' in page
    assert "checked" not in page
    assert client.post(url, {"backup_outcomes": "on"}).status_code == 302
    assert Subscription.objects.get(user=viewer).backup_outcomes is True
    assert "checked" in client.get(url).content.decode()
    client.post(url, {})
    assert Subscription.objects.get(user=viewer).backup_outcomes is False


@pytest.mark.django_db(transaction=True)  # deliveries are published after commit
def test_recent_deliveries_name_what_happened_in_words(alpha, browser, published_deliveries):
    from notifications.events import EventKind, notify

    project, admin = alpha
    add_channel(project, admin, events=[EventKind.INSTANCE_AT_RISK])
    notify(kind=EventKind.INSTANCE_AT_RISK, key="instance:1:at_risk:now", project=project, reason="Policy off.")
    html = browser.get(channels_url(project)).content.decode()
    assert '<span class="strong">Instance at risk</span>' in html  # not the stored "instance_at_risk"
