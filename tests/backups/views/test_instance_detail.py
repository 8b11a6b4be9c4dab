"""The instance page: protection at a glance for members; the policy and RPO forms for admins."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent
from backups.cloud import InstanceBusy
from backups.models import Instance
from backups.services.protection import instance_protection_update
from tests.factories import BackupFactory, InstanceFactory
from tests.helpers import signed_in, text

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action
DAILY = {"policy_keep_days": 7, "policy_start_time": "01:00-02:00", "policy_period": "1,2,3,4,5,6,7"}
VALID = {"keep_days": "14", "start_time": "03:30-04:30", "period": ["1", "4"]}


class FakeCloud:
    """Stands in for the cloud client of services/policies.py: records what it was asked."""

    def __init__(self, error=None):
        self.sent = []
        self.error = error

    def __call__(self, project, **options):
        self.options = options
        return self

    def set_backup_policy(self, instance_id, policy):
        if self.error:
            raise self.error
        self.sent.append((instance_id, policy))

    def close(self):
        pass


@pytest.fixture
def cloud(monkeypatch):
    fake = FakeCloud()
    monkeypatch.setattr("backups.services.policies.client_for_project", fake)
    return fake


@pytest.fixture
def protected(project):
    instance = InstanceFactory(project=project, name="orders-prod", **DAILY)
    BackupFactory(instance=instance, name="nightly-1", finished_at=timezone.now() - timedelta(hours=2))
    instance_protection_update(instance_id=instance.pk)
    instance.refresh_from_db()
    return instance


def page(pk):
    return reverse("backups:instance_detail", args=[pk])


def policy_url(pk):
    return reverse("backups:instance_policy", args=[pk])


def test_members_see_status_reason_policy_and_backups(viewer_client, protected):
    html = text(viewer_client.get(page(protected.pk)))
    assert "Protected" in html
    assert protected.protection_reason in html
    assert "Nothing to do." in html
    assert "Every day" in html
    assert "01:00-02:00 UTC" in html
    assert "nightly-1" in html
    assert "Change the policy" not in html  # viewers do not get the forms
    assert "changed by the project's admins" in html


def test_outsiders_get_404(outsider_client, protected):
    assert outsider_client.get(page(protected.pk)).status_code == 404


def test_the_page_makes_a_bounded_number_of_queries(admin, protected, django_assert_max_num_queries):
    for n in range(30):
        BackupFactory(instance=protected, name=f"more-{n}")
    client = signed_in(admin)
    with django_assert_max_num_queries(8):  # issue 15: every page at most 8
        client.get(page(protected.pk))


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_viewers_and_operators_cannot_change_policy_or_rpo(request, who, protected, cloud):
    client = signed_in(request.getfixturevalue(who))
    assert client.post(policy_url(protected.pk), VALID).status_code == 403
    assert client.post(reverse("backups:instance_rpo", args=[protected.pk]), {"rpo_hours": "6"}).status_code == 403
    rpo = reverse("backups:project_rpo", args=[protected.project_id])
    assert client.post(rpo, {"rpo_hours": "6"}).status_code == 403
    assert cloud.sent == []
    assert not AuditEvent.objects.filter(action__in=[Action.POLICY_CHANGED, Action.RPO_CHANGED]).exists()


def test_admin_changes_the_policy(admin, protected, cloud):
    response = signed_in(admin).post(policy_url(protected.pk), VALID, follow=True)
    [(cloud_id, policy)] = cloud.sent
    assert (cloud_id, policy.keep_days, policy.start_time, policy.period) == (
        protected.cloud_id,
        14,
        "03:30-04:30",
        "1,4",
    )
    assert cloud.options["timeout"] == (3.0, 8.0)  # someone is waiting: a short timeout
    assert "Monday, Thursday, 03:30-04:30 UTC, kept 14 days" in text(response)
    audit = AuditEvent.objects.get(action=Action.POLICY_CHANGED)
    assert (audit.actor, audit.details["new"]) == (admin, "Monday, Thursday, 03:30-04:30 UTC, kept 14 days")


def test_invalid_policy_is_shown_at_its_field_and_not_sent(admin, protected, cloud):
    response = signed_in(admin).post(policy_url(protected.pk), {**VALID, "keep_days": "3"})
    assert response.status_code == 200
    assert "must be taken every day" in text(response)
    assert cloud.sent == []


def test_switching_off_needs_a_confirmation(admin, protected, cloud):
    client = signed_in(admin)
    first = client.post(policy_url(protected.pk), {"keep_days": "0"})
    assert first.status_code == 200
    assert "Yes, switch automated backups off" in text(first)
    assert 'name="confirm_off" value="True"' in text(first)
    assert cloud.sent == []
    client.post(policy_url(protected.pk), {"keep_days": "0", "confirm_off": "True"})
    [(_, policy)] = cloud.sent
    assert policy.keep_days == 0
    protected.refresh_from_db()
    assert protected.policy_keep_days == 0
    assert protected.protection_status == Instance.Protection.AT_RISK
    assert AuditEvent.objects.get(action=Action.POLICY_CHANGED).details["new"] == "off"


def test_the_clouds_refusal_is_shown_in_plain_words(admin, protected, monkeypatch):
    monkeypatch.setattr("backups.services.policies.client_for_project", FakeCloud(InstanceBusy("DBS.201015")))
    response = signed_in(admin).post(policy_url(protected.pk), VALID)
    assert response.status_code == 200
    assert "The instance is busy with another operation" in text(response)
    assert "The policy was not changed." in text(response)
    protected.refresh_from_db()
    assert protected.policy_keep_days == 7


def test_admin_overrides_the_rpo_and_sets_the_projects(admin, protected):
    client = signed_in(admin)
    client.post(reverse("backups:instance_rpo", args=[protected.pk]), {"rpo_hours": "6"})
    rpo = reverse("backups:project_rpo", args=[protected.project_id])
    response = client.post(rpo, {"rpo_hours": "48", "next": page(protected.pk)})
    assert response["Location"] == page(protected.pk)
    protected.refresh_from_db()
    protected.project.refresh_from_db()
    assert (protected.rpo_hours, protected.project.rpo_hours) == (6, 48)
    assert AuditEvent.objects.filter(action=Action.RPO_CHANGED).count() == 2
    bad = client.post(reverse("backups:instance_rpo", args=[protected.pk]), {"rpo_hours": "0"})
    assert "Enter a number of hours from 1 to 840" in text(bad)


def test_project_rpo_never_redirects_elsewhere(admin, protected):
    rpo = reverse("backups:project_rpo", args=[protected.project_id])
    response = signed_in(admin).post(rpo, {"rpo_hours": "12", "next": "https://evil.example/"})
    assert response["Location"] == reverse("backups:instances")
