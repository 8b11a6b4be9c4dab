"""`notify`, the contract the backups app relies on: one event per (kind, key), one delivery per
matching enabled channel, recorded in the caller's transaction and published only after it
commits; the requester's own email when they asked for it; reminders at most every N hours."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications.events import EventKind, notify
from notifications.models import Delivery, Event, OutgoingEmail
from notifications.services.reminders import reminders_send_due
from notifications.services.subscriptions import subscription_set
from tests.factories import BackupFactory, InstanceFactory, MembershipFactory
from tests.notifications.helpers import add_channel, project_with_admin

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alpha():
    return project_with_admin()


def test_notify_twice_with_one_key_makes_one_event_and_one_delivery_per_channel(alpha, published_deliveries):
    project, admin = alpha
    first, _ = add_channel(project, admin)
    second, _ = add_channel(project, admin, kind="slack", name="Slack")
    backup = BackupFactory(instance=InstanceFactory(project=project), failed=True)
    for _ in range(2):
        with transaction.atomic():
            notify(kind=EventKind.BACKUP_FAILED, key=f"backup:{backup.pk}:failed", project=project, backup=backup)
    assert Event.objects.count() == 1
    deliveries = Delivery.objects.all()
    assert sorted(d.channel_id for d in deliveries) == sorted([first.pk, second.pk])
    assert sorted(published_deliveries) == sorted(d.pk for d in deliveries)


def test_a_rolled_back_transaction_leaves_nothing_and_publishes_nothing(alpha, published_deliveries):
    project, admin = alpha
    add_channel(project, admin)

    def change_that_fails():
        with transaction.atomic():
            notify(kind=EventKind.INSTANCE_AT_RISK, key="instance:1:at_risk", project=project, reason="No backup 30 h")
            raise RuntimeError("the change that called notify failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert (Event.objects.count(), Delivery.objects.count(), published_deliveries) == (0, 0, [])


def test_only_enabled_channels_that_hear_about_the_kind_get_a_delivery(alpha, published_deliveries):
    project, admin = alpha
    hears, _ = add_channel(project, admin, events=[EventKind.BACKUP_FAILED])
    add_channel(project, admin, events=[EventKind.INSTANCE_AT_RISK], name="other kinds")
    off, _ = add_channel(project, admin, name="switched off")
    off.enabled = False
    off.save()
    other_project, other_admin = project_with_admin("eu-de_bravo")
    add_channel(other_project, other_admin)
    backup = BackupFactory(instance=InstanceFactory(project=project), failed=True)
    with transaction.atomic():
        notify(kind=EventKind.BACKUP_FAILED, key="k", project=project, backup=backup)
    assert [d.channel_id for d in Delivery.objects.all()] == [hears.pk]


def test_the_requester_who_subscribed_gets_an_email_about_the_outcome(alpha, published_deliveries, monkeypatch):
    monkeypatch.setattr("notifications.services.outbox.publish.publish", lambda *args: None)
    project, _ = alpha
    olga = MembershipFactory(project=project, user__username="olga", user__email="olga@example.com").user
    subscription_set(user=olga, backup_outcomes=True)
    quiet = MembershipFactory(project=project, user__username="quiet", user__email="quiet@example.com").user
    mine = BackupFactory(instance=InstanceFactory(project=project), requested_by=olga, name="nightly-1")
    theirs = BackupFactory(instance=mine.instance, requested_by=quiet)
    with transaction.atomic():
        for backup in (mine, theirs):
            notify(kind=EventKind.BACKUP_COMPLETED, key=f"b:{backup.pk}", project=project, backup=backup)
            notify(kind=EventKind.BACKUP_COMPLETED, key=f"b:{backup.pk}", project=project, backup=backup)
    emails = list(OutgoingEmail.objects.all())
    assert [e.recipient for e in emails] == ["olga@example.com"]
    assert emails[0].subject.startswith("Backup nightly-1 of ")
    assert "completed" in emails[0].subject
    assert f"/backups/{mine.pk}/" in emails[0].body
    assert mail.outbox == []  # sent by the worker, not here


def test_a_requester_no_longer_in_the_project_gets_no_email(alpha, monkeypatch):
    monkeypatch.setattr("notifications.publish.publish", lambda *args: None)
    project, _ = alpha
    membership = MembershipFactory(project=project, user__username="gone", user__email="gone@example.com")
    subscription_set(user=membership.user, backup_outcomes=True)
    backup = BackupFactory(instance=InstanceFactory(project=project), requested_by=membership.user, failed=True)
    membership.delete()
    with transaction.atomic():
        notify(kind=EventKind.BACKUP_FAILED, key="gone", project=project, backup=backup)
    assert OutgoingEmail.objects.count() == 0


def _age(event: Event, delivery_hours: float, *, event_hours: float | None = None):
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(hours=event_hours or delivery_hours))
    Delivery.objects.filter(event=event).update(created_at=timezone.now() - timedelta(hours=delivery_hours))


def test_reminders_respect_the_interval_and_stop_when_the_instance_is_protected(alpha, published_deliveries):
    project, admin = alpha
    hourly, _ = add_channel(project, admin, hours=4, name="every 4 h")
    add_channel(project, admin, hours=0, name="no reminders")
    instance = InstanceFactory(project=project)
    with transaction.atomic():
        notify(kind=EventKind.INSTANCE_AT_RISK, key="i:risk:1", project=project, instance=instance, reason="30 h")
    event = Event.objects.get()
    assert Delivery.objects.count() == 2

    _age(event, 3)
    assert reminders_send_due() == 0  # not yet: 3 h < 4 h
    _age(event, 4.1)
    assert reminders_send_due() == 1
    assert reminders_send_due() == 0  # the reminder just made starts the next interval
    reminder = Delivery.objects.get(reminder=1)
    assert reminder.channel_id == hourly.pk
    assert reminder.event_id == event.pk
    Delivery.objects.filter(pk=reminder.pk).update(created_at=timezone.now() - timedelta(hours=5))
    assert reminders_send_due() == 1
    assert sorted(Delivery.objects.filter(channel=hourly).values_list("reminder", flat=True)) == [0, 1, 2]

    with transaction.atomic():
        notify(kind=EventKind.INSTANCE_PROTECTED, key="i:ok:1", project=project, instance=instance, reason="Backed up")
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=50))
    assert reminders_send_due() == 0  # the problem is over: the protected event was the all-clear
    assert Delivery.objects.filter(event__kind=EventKind.INSTANCE_PROTECTED).count() == 2
