"""The automated backup policy, against the simulator over real HTTP: read at each sync,
changes made elsewhere flagged once, changes made here sent to the cloud, stored and audited;
and the RPO."""

import pytest
from django.core.exceptions import ValidationError

from access.models import AuditEvent
from backups.models import Instance
from backups.services import policies
from backups.services.sync import instances_sync, project_sync
from notifications.events import EventKind
from notifications.models import Event

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


def test_sync_reads_each_instances_policy(instance, simulator):
    # The simulator gives a new instance 7 days, 16:00-17:00, every day.
    assert (instance.policy_keep_days, instance.policy_start_time, instance.policy_period) == (
        7,
        "16:00-17:00",
        "1,2,3,4,5,6,7",
    )
    assert instance.policy_synced_at is not None
    assert not AuditEvent.objects.filter(action=Action.POLICY_CHANGED_OUTSIDE).exists()  # the first read is no change


def test_a_policy_changed_outside_the_console_is_flagged_once(project, instance, simulator, requester):
    simulator.set_policy(instance.cloud_id, 0)
    assert instances_sync(project=project)["policies_changed_outside"] == 1
    assert instances_sync(project=project)["policies_changed_outside"] == 0  # the same policy again
    instance.refresh_from_db()
    assert instance.policy_keep_days == 0
    assert (instance.policy_start_time, instance.policy_period) == ("", "")
    [audit] = AuditEvent.objects.filter(action=Action.POLICY_CHANGED_OUTSIDE)
    assert audit.actor is None  # the system
    assert audit.details == {
        "instance": "orders-prod",
        "old": "every day, 16:00-17:00 UTC, kept 7 days",
        "new": "off",
    }
    [event] = Event.objects.filter(kind=EventKind.POLICY_CHANGED_OUTSIDE)
    assert event.instance_id == instance.pk
    assert "every day, 16:00-17:00 UTC, kept 7 days → off" in event.reason


def test_a_change_made_here_is_sent_stored_audited_and_not_flagged_at_the_next_sync(
    project, instance, simulator, requester
):
    change = policies.instance_policy_change(
        instance=instance, user=requester, keep_days=14, start_time="01:15-02:15", period="1,3,5"
    )
    assert change.new == "Monday, Wednesday, Friday, 01:15-02:15 UTC, kept 14 days"
    in_cloud = simulator.policy(instance.cloud_id)
    assert (in_cloud["keep_days"], in_cloud["start_time"], in_cloud["period"]) == (14, "01:15-02:15", "1,3,5")
    instance.refresh_from_db()
    assert (instance.policy_keep_days, instance.policy_start_time, instance.policy_period) == (
        14,
        "01:15-02:15",
        "1,3,5",
    )
    [audit] = AuditEvent.objects.filter(action=Action.POLICY_CHANGED)
    assert audit.actor == requester
    assert audit.details["old"] == "every day, 16:00-17:00 UTC, kept 7 days"
    assert audit.details["new"] == change.new
    assert instances_sync(project=project)["policies_changed_outside"] == 0
    assert not Event.objects.filter(kind=EventKind.POLICY_CHANGED_OUTSIDE).exists()


def test_switching_off_sends_keep_days_alone(instance, simulator, requester):
    policies.instance_policy_change(instance=instance, user=requester, keep_days=0, start_time="", period="")
    assert simulator.policy(instance.cloud_id)["keep_days"] == 0
    instance.refresh_from_db()
    assert instance.policy_keep_days == 0
    assert instance.protection_status == Instance.Protection.UNPROTECTED  # and never backed up


def test_an_invalid_policy_never_reaches_the_cloud(instance, simulator, requester):
    before = simulator.counters().get("set_backup_policy", 0)
    with pytest.raises(ValidationError) as raised:
        policies.instance_policy_change(
            instance=instance, user=requester, keep_days=3, start_time="01:00-02:00", period="1,2"
        )
    assert set(raised.value.message_dict) == {"period"}
    assert simulator.counters().get("set_backup_policy", 0) == before
    assert not AuditEvent.objects.filter(action=Action.POLICY_CHANGED).exists()


def test_the_clouds_refusal_is_said_in_plain_words_and_nothing_is_stored(instance, simulator, requester):
    simulator.delete_instance(instance.cloud_id)
    with pytest.raises(policies.PolicyChangeFailed, match="no longer knows this instance"):
        policies.instance_policy_change(
            instance=instance, user=requester, keep_days=10, start_time="01:00-02:00", period="1"
        )
    instance.refresh_from_db()
    assert instance.policy_keep_days == 7
    assert not AuditEvent.objects.filter(action=Action.POLICY_CHANGED).exists()


def test_a_sync_assesses_protection(project, instance):
    project_sync(project=project)
    instance.refresh_from_db()
    assert instance.protection_status == Instance.Protection.UNPROTECTED  # no backup yet


def test_rpo_changes_are_audited_and_reassess(project, instance, requester):
    policies.project_rpo_change(project=project, user=requester, rpo_hours=48)
    policies.instance_rpo_change(instance=instance, user=requester, rpo_hours=6)
    policies.instance_rpo_change(instance=instance, user=requester, rpo_hours=None)
    project.refresh_from_db()
    instance.refresh_from_db()
    assert (project.rpo_hours, instance.rpo_hours, instance.effective_rpo_hours) == (48, None, 48)
    details = [e.details for e in AuditEvent.objects.filter(action=Action.RPO_CHANGED).order_by("id")]
    assert details == [
        {"old_hours": 24, "new_hours": 48},
        {"instance": "orders-prod", "old_hours": None, "new_hours": 6},
        {"instance": "orders-prod", "old_hours": 6, "new_hours": None},
    ]
    with pytest.raises(ValidationError):
        policies.project_rpo_change(project=project, user=requester, rpo_hours=0)
