"""The restore form: Admins only, prefilled from the source as the cloud (the simulator) lists it,
every create-instance rule checked on the server, a typed confirmation, one restore per valid post."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils.html import escape

from restores import sources
from restores.models import Restore
from tests.helpers import HTMX, is_fragment, text

from .conftest import GOOD_PASSWORD

pytestmark = pytest.mark.django_db


def form_url(backup):
    return reverse("restores:restore_create", args=[backup.pk])


def point_in_time_url(instance):
    return reverse("restores:restore_point_in_time", args=[instance.pk])


def valid_data(**changes) -> dict:
    data = {
        "target_name": "orders-restored",
        "password": GOOD_PASSWORD,
        "password_again": GOOD_PASSWORD,
        "spec_code": "geminidb.cassandra.xlarge.4",
        "storage_type": "ULTRAHIGH",
        "node_count": "5",
        "volume_size_gb": "200",
        "region": "eu-de",
        "availability_zone": "eu-de-01,eu-de-02,eu-de-03",
        "vpc_id": "vpc-1",
        "subnet_id": "subnet-1",
        "security_group_id": "sg-1",
        "confirm": "orders-restored",
    }
    return data | changes


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("operator", 403), ("outsider", 404), ("admin", 200)])
def test_only_the_projects_admins_may_restore(clients, backup, method, role, expected):
    response = getattr(clients[role], method)(form_url(backup), {} if method == "post" else None)
    assert response.status_code == expected
    assert not Restore.objects.exists()


@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("operator", 403), ("outsider", 404), ("admin", 200)])
def test_only_the_projects_admins_see_the_point_in_time_form_and_window(clients, source, role, expected):
    assert clients[role].get(point_in_time_url(source)).status_code == expected
    window = reverse("restores:restore_window", args=[source.pk])
    assert clients[role].get(window, **HTMX).status_code == expected


def test_form_is_prefilled_from_the_source_as_the_cloud_lists_it(admin_client, backup, source, simulator):
    listed = next(i for i in simulator.instances() if i["name"] == "orders-prod")
    html = text(admin_client.get(form_url(backup)))
    assert re.search(r'name="node_count" value="5"[^>]*min="5"', html)
    assert re.search(r'name="volume_size_gb" value="200"[^>]*min="200"', html)
    assert f'value="{listed["spec_code"]}"' in html
    assert 'value="ULTRAHIGH"' in html
    assert 'value="eu-de"' in html
    assert "At least 5, as orders-prod has" in html
    assert "3.0 GB" in html  # the backup's size
    assert "This creates a new, billable instance." in html
    assert re.search(r'name="target_name" value="orders-prod-restored-\d{8}-\d{4}"', html)
    assert 'type="password"' in html
    assert GOOD_PASSWORD not in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"target_name": "1-orders", "confirm": "1-orders"}, "target_name", "The name must start with a letter"),
        ({"target_name": "abc", "confirm": "abc"}, "target_name", "4 to 64 characters"),
        ({"password": "Short1!", "password_again": "Short1!"}, "password", "8 to 32 characters"),
        ({"password": "no-capitals-42", "password_again": "no-capitals-42"}, "password", "an upper-case letter"),
        ({"password": "Spaces are 42!", "password_again": "Spaces are 42!"}, "password", "only letters, digits"),
        ({"password_again": "Restore-Test-43"}, "password_again", "The two passwords differ."),
        ({"node_count": "4"}, "node_count", "at least 5 nodes, as many as the original has"),
        ({"node_count": "201"}, "node_count", "3 to 200 nodes"),
        ({"volume_size_gb": "150"}, "volume_size_gb", "at least 200 GB of storage"),
        ({"vpc_id": ""}, "vpc_id", "Enter the VPC ID."),
        ({"confirm": "orders-restore"}, "confirm", "Type orders-restored exactly"),
    ],
)
def test_an_invalid_post_says_why_at_the_field_and_changes_nothing(admin_client, backup, changes, field, message):
    response = admin_client.post(form_url(backup), valid_data(**changes))
    assert response.status_code == 200
    html = text(response)
    assert escape(message) in html
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', html)
    assert GOOD_PASSWORD not in html  # a password is never sent back
    assert not Restore.objects.exists()


def test_an_invalid_htmx_post_rerenders_the_form_only(admin_client, backup):
    response = admin_client.post(form_url(backup), valid_data(node_count="2"), **HTMX)
    assert response.status_code == 200  # htmx does not swap 4xx answers
    assert is_fragment(response)
    assert text(response).lstrip().startswith('<form id="restore-form"')
    assert not Restore.objects.exists()


def test_a_valid_post_records_one_restore_and_opens_its_page(admin_client, admin, backup, source):
    response = admin_client.post(form_url(backup), valid_data())
    restore = Restore.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("restores:restore_detail", args=[restore.pk])
    assert (restore.kind, restore.status, restore.backup, restore.source_instance) == (
        Restore.Kind.RESTORE,
        Restore.Status.QUEUED,
        backup,
        source,
    )
    assert (restore.target_name, restore.node_count, restore.volume_size_gb, restore.requested_by) == (
        "orders-restored",
        5,
        200,
        admin,
    )
    page = text(admin_client.get(response["Location"]))
    assert "Restore of orders-nightly to the new instance orders-restored requested" in page
    assert "Waiting for a worker to send it to the cloud" in page
    assert GOOD_PASSWORD not in page


def test_a_valid_htmx_post_sends_the_whole_page_to_the_restore(admin_client, backup):
    response = admin_client.post(form_url(backup), valid_data(), **HTMX)
    assert response["HX-Redirect"] == reverse("restores:restore_detail", args=[Restore.objects.get().pk])


def test_a_second_restore_to_the_same_name_is_refused(admin_client, backup):
    admin_client.post(form_url(backup), valid_data())
    response = admin_client.post(form_url(backup), valid_data())
    assert response.status_code == 200
    assert Restore.objects.count() == 1


def test_a_backup_that_is_not_completed_cannot_be_restored(admin_client, source):
    from tests.factories import BackupFactory

    failed = BackupFactory(instance=source, failed=True)
    response = admin_client.get(form_url(failed), follow=True)
    assert "Only a completed backup can be restored." in text(response)
    assert not Restore.objects.exists()


def completed_cloud_backup(simulator, source) -> None:
    """A completed backup of the source in the simulator, which opens its restorable window."""
    state = simulator.start_automated_backup(source.cloud_id, seconds=600)
    simulator.finish_backup(state["id"])
    simulator.advance_clock(60)  # a window a minute long, from the backup's end to now


def test_the_window_arrives_in_its_own_request(admin_client, source, simulator):
    page = text(admin_client.get(point_in_time_url(source)))
    window_url = reverse("restores:restore_window", args=[source.pk])
    assert f'hx-get="{window_url}" hx-trigger="load"' in page  # the page did not wait for the cloud
    assert "no time orders-prod can be restored to" in text(admin_client.get(window_url, **HTMX))
    completed_cloud_backup(simulator, source)
    html = text(admin_client.get(window_url, **HTMX))
    assert "The cloud can restore orders-prod to any time" in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", html)


def test_a_point_in_time_outside_the_window_is_refused_and_one_inside_is_recorded(admin_client, source, simulator):
    completed_cloud_backup(simulator, source)
    too_early = datetime(2020, 1, 1, tzinfo=UTC)
    response = admin_client.post(point_in_time_url(source), valid_data(restore_time=f"{too_early:%Y-%m-%dT%H:%M:%S}"))
    assert "Choose a time inside the restorable window" in text(response)
    assert not Restore.objects.exists()

    start, end = sources.restorable_window(source).periods[0]
    inside = (start + timedelta(seconds=1)).replace(microsecond=0)  # the form takes whole seconds
    assert inside < end
    response = admin_client.post(point_in_time_url(source), valid_data(restore_time=f"{inside:%Y-%m-%dT%H:%M:%S}"))
    restore = Restore.objects.get()
    assert response.status_code == 302
    assert restore.backup is None
    assert restore.restore_time == inside


def test_a_point_in_time_is_typed_in_the_viewers_own_zone(admin_client, source, simulator):
    completed_cloud_backup(simulator, source)
    admin_client.cookies["console_tz"] = "Europe/Berlin"  # the browser's zone (static/js/console.js)
    assert "In your time zone, Europe/Berlin" in text(admin_client.get(point_in_time_url(source)))

    start, _ = sources.restorable_window(source).periods[0]
    inside = (start + timedelta(seconds=1)).replace(microsecond=0)
    typed = inside.astimezone(ZoneInfo("Europe/Berlin"))  # an hour or two after the UTC time
    response = admin_client.post(point_in_time_url(source), valid_data(restore_time=f"{typed:%Y-%m-%dT%H:%M:%S}"))
    assert response.status_code == 302
    assert Restore.objects.get().restore_time == inside
