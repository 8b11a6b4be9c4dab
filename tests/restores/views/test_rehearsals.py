"""Rehearsals from the instance page: Admins start one or schedule them; everyone sees the last
proven restore and its RTO, or "never proven"."""

from datetime import timedelta

import pytest
from django.urls import reverse

from restores.models import RehearsalSchedule, Restore
from tests.helpers import text

from .conftest import a_restore

pytestmark = pytest.mark.django_db


def instance_url(instance):
    return reverse("backups:instance_detail", args=[instance.pk])


def rehearse_url(instance):
    return reverse("restores:rehearsal_start", args=[instance.pk])


def schedule_url(instance):
    return reverse("restores:rehearsal_schedule", args=[instance.pk])


@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("operator", 403), ("outsider", 404)])
def test_only_admins_rehearse_or_schedule(clients, backup, role, expected):
    source = backup.instance
    assert clients[role].post(rehearse_url(source)).status_code == expected
    assert clients[role].post(schedule_url(source), {"enabled": "on", "every_days": "30"}).status_code == expected
    assert not Restore.objects.exists()
    assert not RehearsalSchedule.objects.exists()


def test_rehearse_now_records_one_rehearsal_of_the_latest_backup(clients, backup):
    source = backup.instance
    response = clients["admin"].post(rehearse_url(source))
    rehearsal = Restore.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("restores:restore_detail", args=[rehearsal.pk])
    assert (rehearsal.kind, rehearsal.backup, rehearsal.source_instance) == (Restore.Kind.REHEARSAL, backup, source)
    page = text(clients["admin"].get(response["Location"]))
    assert "Restore rehearsal of orders-prod" in page


def test_a_second_rehearsal_while_one_runs_is_refused(clients, backup):
    source = backup.instance
    clients["admin"].post(rehearse_url(source))
    response = clients["admin"].post(rehearse_url(source), follow=True)
    assert "already under way" in text(response)
    assert Restore.objects.count() == 1


def test_an_instance_without_a_completed_backup_cannot_be_rehearsed(clients, source):
    response = clients["admin"].post(rehearse_url(source), follow=True)
    assert "no completed backup" in text(response)
    assert not Restore.objects.exists()


def test_a_schedule_is_saved_and_shown(clients, source):
    response = clients["admin"].post(schedule_url(source), {"enabled": "on", "every_days": "30"}, follow=True)
    schedule = RehearsalSchedule.objects.get(instance=source)
    assert (schedule.enabled, schedule.every_days) == (True, 30)
    assert "rehearsed every 30 days" in text(response)
    assert "Every 30 days" in text(clients["viewer"].get(instance_url(source)))


@pytest.mark.parametrize("every_days", ["0", "366", ""])
def test_a_bad_interval_is_refused_and_changes_nothing(clients, source, every_days):
    response = clients["admin"].post(schedule_url(source), {"enabled": "on", "every_days": every_days}, follow=True)
    assert "Rehearse every 1 to 365 days." in text(response) or "how many days apart" in text(response)
    assert not RehearsalSchedule.objects.exists()


def test_the_instance_page_says_never_proven_then_the_last_proven_restore_and_its_rto(clients, backup):
    source = backup.instance
    html = text(clients["viewer"].get(instance_url(source)))
    assert "Never proven" in html
    assert "Rehearse now" not in html  # a viewer's page has no admin buttons

    proven = a_restore(backup, kind=Restore.Kind.REHEARSAL, status=Restore.Status.COMPLETED)
    proven.finished_at = proven.submitted_at + timedelta(minutes=6, seconds=5)
    proven.save()
    html = text(clients["viewer"].get(instance_url(source)))
    assert "Last proven restore" in html
    assert "6 min 05 s" in html
    assert reverse("restores:restore_detail", args=[proven.pk]) in html
    admin_page = text(clients["admin"].get(instance_url(source)))
    assert "Rehearse now" in admin_page
    assert "Restore to a point in time" in admin_page
