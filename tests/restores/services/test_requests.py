"""Requesting a restore: the create-instance rules are checked before anything is recorded, and
a valid request is recorded whole (row, timeline, audit, the backup's timeline) in one go."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from access.models import AuditEvent
from backups.models import Backup, BackupEvent
from restores import publish
from restores.models import Restore, RestoreEvent
from restores.services.rehearsals import rehearsal_password, rehearsal_request
from restores.services.requests import restore_publish, restore_request, restores_dispatch_due
from restores.validators import validate_instance_name, validate_instance_password
from tests.restores.services.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def request(backup, requester, spec, **changes):
    fields = {"target_name": "orders-restored", "password": PASSWORD, **spec, **changes}
    return restore_request(backup=backup, user=requester, **fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target_name": "1orders"}, "target_name"),
        ({"target_name": "abc"}, "target_name"),
        ({"target_name": "orders restored"}, "target_name"),
        ({"password": "Sh0rt!x"}, "password"),
        ({"password": "nouppercase-1234"}, "password"),
        ({"password": "No$Dollar-1234"}, "password"),
        ({"node_count": 2}, "node_count"),
        ({"node_count": 201}, "node_count"),
        ({"volume_size_gb": 0}, "volume_size_gb"),
        ({"vpc_id": ""}, "vpc_id"),
    ],
)
def test_a_broken_rule_is_refused_by_field_and_records_nothing(backup, requester, spec, changes, field):
    with pytest.raises(ValidationError) as refused:
        request(backup, requester, spec, **changes)
    assert field in refused.value.message_dict
    assert not Restore.objects.exists()
    assert not AuditEvent.objects.filter(action="restore_requested").exists()


def test_a_password_refusal_never_repeats_the_password(backup, requester, spec):
    with pytest.raises(ValidationError) as refused:
        request(backup, requester, spec, password="Secret$Value-1")
    assert "Secret$Value-1" not in str(refused.value)


def test_a_valid_request_is_recorded_with_its_timeline_audit_and_backup_line(backup, requester, spec):
    restore = request(backup, requester, spec)

    assert restore.status == Restore.Status.QUEUED
    assert restore.kind == Restore.Kind.RESTORE
    assert restore.project == backup.instance.project
    assert restore.node_count == 3
    assert restore.next_attempt_at is not None
    assert list(restore.events.values_list("kind", flat=True)) == [RestoreEvent.Kind.REQUESTED]
    audit = AuditEvent.objects.get(action="restore_requested")
    assert audit.actor == requester
    assert PASSWORD not in str(audit.details)
    line = BackupEvent.objects.filter(backup=backup, kind=BackupEvent.Kind.NOTE).last()
    assert "Restore to orders-restored requested" in line.message


def test_the_password_is_stored_encrypted(backup, requester, spec):
    restore = request(backup, requester, spec)
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM restores_restore WHERE id = %s", [restore.pk])
        (stored,) = cursor.fetchone()
    assert PASSWORD not in stored
    assert Restore.objects.get(pk=restore.pk).password == PASSWORD


def test_a_name_another_restore_used_is_refused(backup, requester, spec):
    request(backup, requester, spec)
    with pytest.raises(ValidationError) as refused:
        request(backup, requester, spec)
    assert "target_name" in refused.value.message_dict
    assert Restore.objects.count() == 1


def test_only_a_completed_backup_can_be_restored(backup, requester, spec):
    Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.FAILED)
    backup.refresh_from_db()
    with pytest.raises(ValidationError, match="Only a completed backup"):
        request(backup, requester, spec)
    assert not Restore.objects.exists()


def test_a_rehearsal_takes_the_latest_completed_backup_and_a_valid_name_and_password(instance, backup):
    rehearsal = rehearsal_request(instance=instance, user=None)

    assert rehearsal.kind == Restore.Kind.REHEARSAL
    assert rehearsal.backup == backup
    validate_instance_name(rehearsal.target_name)
    validate_instance_password(rehearsal.password)
    assert rehearsal.node_count is None  # copied from the source when the worker sends it


def test_a_second_rehearsal_while_one_is_under_way_is_refused(instance, backup):
    rehearsal_request(instance=instance, user=None)
    with pytest.raises(ValidationError, match="already under way"):
        rehearsal_request(instance=instance, user=None)
    assert Restore.objects.count() == 1


def test_an_instance_without_a_completed_backup_cannot_be_rehearsed(instance, backup):
    Backup.objects.filter(pk=backup.pk).update(deleted_in_cloud_at=backup.finished_at)
    with pytest.raises(ValidationError, match="no completed backup"):
        rehearsal_request(instance=instance, user=None)


def test_generated_passwords_meet_the_rules_every_time():
    for _ in range(200):
        validate_instance_password(rehearsal_password())


def test_a_restore_the_broker_did_not_take_is_published_by_the_sweep(monkeypatch, backup, requester, spec):
    sent = []

    def broker_down(task_name, *args):
        raise OSError("connection refused")

    monkeypatch.setattr("backups.publish.publish", broker_down)
    restore = request(backup, requester, spec)
    assert not restore_publish(restore_id=restore.pk)
    assert Restore.objects.get(pk=restore.pk).enqueued_at is None

    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: sent.append((task_name, *args)))
    assert restores_dispatch_due() == 1
    assert restores_dispatch_due() == 0  # handed over a moment ago: not again
    assert sent == [(publish.SUBMIT_RESTORE, restore.pk)]
