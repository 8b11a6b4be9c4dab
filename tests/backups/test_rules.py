"""The one-active-backup rule (rules.py): queued, submitting and running all hold the instance,
in the rule functions, in the service and through the create-backup form, so a second request
is told why rather than reaching the database's constraint and failing with a 500."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse
from django.utils.html import escape

from backups import rules
from backups.models import Backup
from backups.services import submission
from tests.factories import BackupFactory
from tests.helpers import HTMX, text

pytestmark = pytest.mark.django_db

Status = Backup.Status

ACTIVE = [Status.QUEUED, Status.SUBMITTING, Status.RUNNING]
ENDED = [Status.COMPLETED, Status.FAILED, Status.UNKNOWN]


@pytest.fixture(autouse=True)
def published(monkeypatch):
    """A request that goes through publishes after commit: collect instead of reaching the broker."""
    published = []
    monkeypatch.setattr("backups.publish.publish", lambda task, *args: published.append((task, *args)))
    return published


def backup_in(instance, status, requested_by):
    """A backup of `instance` in `status`, with the fields that status has in real life."""
    before_the_cloud = status in (Status.QUEUED, Status.SUBMITTING)
    return BackupFactory(
        instance=instance,
        name=f"held-{status}",
        status=status,
        requested_by=requested_by,
        progress={Status.RUNNING: 40, Status.COMPLETED: 100}.get(status, 0),
        size_kb=2_500_000 if status == Status.COMPLETED else None,
        started_at=None if before_the_cloud else instance.synced_at,
        job_id="" if before_the_cloud else "job-1",
        backup_id="" if before_the_cloud else f"{status}-br06",
    )


def expected_message(status) -> str:
    label = Status(status).label.lower()
    return f"A backup is already {label} on this instance (requested by Ada Admin)."


def test_the_active_statuses_are_queued_submitting_and_running():
    # The rule, the pages and the database's partial unique constraint must agree on this set.
    assert set(Backup.ACTIVE_STATUSES) == {"queued", "submitting", "running"}
    (constraint,) = [c for c in Backup._meta.constraints if c.name == "one_active_backup_per_instance"]
    assert set(dict(constraint.condition.children)["status__in"]) == set(Backup.ACTIVE_STATUSES)


@pytest.mark.parametrize("status", ACTIVE)
def test_an_active_backup_holds_the_instance(instance, admin, status):
    held = backup_in(instance, status, admin)
    assert rules.active_backup(instance) == held
    assert rules.instance_backup_blocker(instance, rules.active_backup(instance)) == expected_message(status)


@pytest.mark.parametrize("status", ENDED)
def test_an_ended_backup_does_not_hold_the_instance(instance, admin, status):
    backup_in(instance, status, admin)
    assert rules.active_backup(instance) is None
    assert rules.instance_backup_blocker(instance, None) is None
    rules.validate_backup_request(instance=instance, name="next-one", description="after it ended")


@pytest.mark.parametrize("status", ACTIVE)
def test_validate_backup_request_refuses_while_a_backup_is_active(instance, admin, status):
    backup_in(instance, status, admin)
    with pytest.raises(ValidationError) as caught:
        rules.validate_backup_request(instance=instance, name="another-one", description="a second one")
    errors = caught.value.error_dict
    assert list(errors) == [NON_FIELD_ERRORS]  # the name and description are fine
    assert [e.message for e in errors[NON_FIELD_ERRORS]] == [expected_message(status)]
    assert errors[NON_FIELD_ERRORS][0].code == "instance"


@pytest.mark.parametrize("status", ACTIVE)
def test_the_service_refuses_with_the_rules_message_not_the_databases(instance, admin, operator, status, published):
    held = backup_in(instance, status, admin)
    with pytest.raises(ValidationError) as caught:  # not IntegrityError from the constraint
        submission.backup_request(instance=instance, user=operator, name="another-one", description="a second one")
    assert caught.value.message_dict[NON_FIELD_ERRORS] == [expected_message(status)]
    assert list(Backup.objects.values_list("pk", flat=True)) == [held.pk]
    assert published == []


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("status", ACTIVE)
def test_the_form_comes_back_with_the_reason_and_nothing_is_stored(
    operator_client, instance, admin, status, htmx, published
):
    held = backup_in(instance, status, admin)
    url = reverse("backups:backup_create", args=[instance.pk])
    response = operator_client.post(
        url, {"name": "another-one", "description": "a second one"}, **(HTMX if htmx else {})
    )
    assert response.status_code == 200  # the form again, not a 500 and not a redirect
    assert "HX-Redirect" not in response
    html = text(response)
    assert '<form id="backup-form"' in html
    assert escape(expected_message(status)) in html
    assert list(Backup.objects.values_list("pk", flat=True)) == [held.pk]
    assert published == []


@pytest.mark.parametrize("status", ENDED)
def test_the_form_accepts_a_request_once_the_last_backup_ended(operator_client, instance, admin, status):
    backup_in(instance, status, admin)
    url = reverse("backups:backup_create", args=[instance.pk])
    response = operator_client.post(url, {"name": "another-one", "description": "a second one"})
    assert response.status_code == 302
    assert Backup.objects.get(name="another-one").status == Status.QUEUED
