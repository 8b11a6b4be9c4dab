"""The create-backup form: a page, an htmx dialog, field checks as you type, one backup per request."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backups.models import Backup
from backups.selectors.instances import suggested_backup_name
from backups.validators import validate_backup_description, validate_backup_name
from tests.factories import BackupFactory, InstanceFactory
from tests.helpers import HTMX, is_fragment, text

pytestmark = pytest.mark.django_db


def create_url(instance):
    return reverse("backups:backup_create", args=[instance.pk])


def validate_url(instance, field):
    return reverse("backups:backup_validate", args=[instance.pk]) + f"?field={field}"


def validator_message(validator, value) -> str:
    with pytest.raises(ValidationError) as caught:
        validator(value)
    return caught.value.messages[0]


def test_page_suggests_a_unique_name_and_a_description(operator_client, instance):
    response = operator_client.get(create_url(instance))
    assert response.status_code == 200
    html = text(response)
    assert 'value="orders-prod-' in html
    assert "Manual backup requested by Oscar Operator" in html
    assert f'action="{create_url(instance)}"' in html  # works without JavaScript
    assert "Instance is <strong>Available</strong>" in html
    assert "No backup is running on this instance." in html


def test_htmx_get_returns_the_dialog_not_the_page(operator_client, instance):
    response = operator_client.get(create_url(instance), **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    assert 'id="dialog-title"' in text(response)
    assert 'id="backup-form"' in text(response)


def test_valid_post_requests_one_backup_and_opens_its_page(operator_client, operator, instance):
    response = operator_client.post(create_url(instance), {"name": "orders-nightly", "description": "Before upgrade"})
    backup = Backup.objects.get()
    assert (backup.instance, backup.name, backup.requested_by, backup.status) == (
        instance,
        "orders-nightly",
        operator,
        Backup.Status.QUEUED,
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("backups:backup_detail", args=[backup.pk])
    page = operator_client.get(response["Location"])
    assert "Backup orders-nightly of orders-prod requested" in text(page)


def test_valid_htmx_post_redirects_the_whole_page(operator_client, instance):
    response = operator_client.post(create_url(instance), {"name": "orders-nightly", "description": "x y"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("backups:backup_detail", args=[Backup.objects.get().pk])


@pytest.mark.parametrize(
    ("field", "value", "validator"),
    [
        ("name", "", validate_backup_name),
        ("name", "abc", validate_backup_name),
        ("name", "1backup", validate_backup_name),
        ("name", "with space", validate_backup_name),
        ("name", "é-backup", validate_backup_name),
        ("name", "a" * 65, validate_backup_name),
        ("description", "", validate_backup_description),
        ("description", "a <b> tag", validate_backup_description),
        ("description", "x" * 257, validate_backup_description),
    ],
)
def test_invalid_post_shows_the_validators_message_at_the_field(operator_client, instance, field, value, validator):
    data = {"name": "valid-name", "description": "valid description", field: value}
    response = operator_client.post(create_url(instance), data)
    assert response.status_code == 200
    assert escape(validator_message(validator, value)) in text(response)
    assert 'aria-invalid="true"' in text(response)
    assert not Backup.objects.exists()


def test_invalid_htmx_post_rerenders_the_form_with_status_200(operator_client, instance):
    response = operator_client.post(create_url(instance), {"name": "1x", "description": "d"}, **HTMX)
    assert response.status_code == 200  # htmx does not swap 4xx responses
    assert is_fragment(response)
    assert text(response).lstrip().startswith('<form id="backup-form"')
    assert escape(validator_message(validate_backup_name, "1x")) in text(response)


@pytest.mark.parametrize(
    ("field", "value", "validator"),
    [
        ("name", "1backup", validate_backup_name),
        ("name", "ab", validate_backup_name),
        ("description", "say \"hi\" & 'bye'", validate_backup_description),
    ],
)
def test_validate_endpoint_returns_the_fields_feedback(operator_client, instance, field, value, validator):
    data = {"name": "valid-name", "description": "fine", field: value}
    response = operator_client.post(validate_url(instance, field), data, **HTMX)
    assert response.status_code == 200
    assert is_fragment(response)
    html = text(response)
    assert f'id="{field}-feedback"' in html
    assert escape(validator_message(validator, value)) in html


def test_validate_endpoint_says_when_a_name_is_taken(operator_client, instance):
    BackupFactory(instance=instance, name="taken-name")
    response = operator_client.post(validate_url(instance, "name"), {"name": "taken-name", "description": "d"}, **HTMX)
    assert "already has a backup named taken-name" in text(response)


def test_validate_endpoint_confirms_a_good_value(operator_client, instance):
    response = operator_client.post(validate_url(instance, "name"), {"name": "good-name", "description": ""}, **HTMX)
    assert "Looks good." in text(response)
    assert "field-error" not in text(response)  # the description's problem is not this field's


def test_validate_endpoint_refuses_an_unknown_field(operator_client, instance):
    response = operator_client.post(validate_url(instance, "size"), {"name": "x"}, **HTMX)
    assert response.status_code == 400


def test_double_submit_creates_one_backup_and_links_to_it(operator_client, instance):
    data = {"name": "orders-once", "description": "Only once"}
    first = operator_client.post(create_url(instance), data)
    second = operator_client.post(create_url(instance), data)
    backup = Backup.objects.get()
    assert first.status_code == 302
    assert second.status_code == 200
    html = text(second)
    assert "You have already requested this backup; no second one was made." in html
    assert "A backup is already queued on this instance" in html
    assert f'href="{reverse("backups:backup_detail", args=[backup.pk])}"' in html
    assert "Open the queued backup orders-once" in html


def test_a_request_that_loses_a_race_shows_why(operator_client, instance, monkeypatch):
    def lose(**kwargs):
        raise ValidationError({"name": ["Someone was faster."]})

    monkeypatch.setattr("backups.services.submission.backup_request", lose)
    response = operator_client.post(create_url(instance), {"name": "orders-race", "description": "d"})
    assert response.status_code == 200
    assert "Someone was faster." in text(response)


def test_preflight_says_who_started_the_running_backup_and_how_far(operator_client, instance, admin):
    BackupFactory(instance=instance, running=True, progress=35, requested_by=admin, name="orders-long")
    html = text(operator_client.get(create_url(instance)))
    assert "A backup is already running" in html
    assert "orders-long" in html
    assert "requested by Ada Admin" in html
    assert "35% done" in html
    assert '<progress max="100" value="35">' in html
    assert '<button type="submit" class="button button-primary" disabled' in html


def test_preflight_estimates_the_duration_from_past_backups(operator_client, instance):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minutes in (4, 6, 5):
        BackupFactory(instance=instance, started_at=start, finished_at=start + timedelta(minutes=minutes))
    html = text(operator_client.get(create_url(instance)))
    assert "Usually takes about <strong>5 min 00 s</strong>" in html


def test_preflight_explains_an_instance_that_is_not_available(operator_client, project):
    frozen = InstanceFactory(project=project, status="frozen")
    html = text(operator_client.get(create_url(frozen)))
    assert "Instance is <strong>Frozen</strong>" in html
    assert "only Available instances can be backed up" in html


def test_viewer_may_not_open_or_post_the_form(viewer_client, instance):
    assert viewer_client.get(create_url(instance)).status_code == 403
    response = viewer_client.post(create_url(instance), {"name": "sneaky-one", "description": "d"})
    assert response.status_code == 403
    assert "Not allowed" in text(response)
    assert viewer_client.post(validate_url(instance, "name"), {"name": "x"}).status_code == 403
    assert not Backup.objects.exists()


def test_outsider_gets_404_for_another_projects_instance(outsider_client, instance):
    assert outsider_client.get(create_url(instance)).status_code == 404
    assert outsider_client.post(create_url(instance), {"name": "sneaky-one", "description": "d"}).status_code == 404
    assert outsider_client.post(validate_url(instance, "name"), {"name": "x"}).status_code == 404
    assert not Backup.objects.exists()


def test_suggested_name_skips_names_already_used_on_the_instance(instance):
    now = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    BackupFactory(instance=instance, name="orders-prod-20260304-0506")
    assert suggested_backup_name(instance, now) == "orders-prod-20260304-0506-2"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=128))
def test_suggested_name_always_passes_the_name_rules(instance, name):
    instance.name = name
    validate_backup_name(suggested_backup_name(instance))
