"""A restore's page: its status, progress, timeline, the new instance and a failure in plain words,
following itself while it runs (204 unchanged, 286 once ended), like a backup's page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from restores.explanations import explain
from restores.models import Restore
from tests.factories import InstanceFactory
from tests.helpers import HTMX, is_fragment, text

from .conftest import a_restore

pytestmark = pytest.mark.django_db

LIVE_URL = re.compile(r'hx-get="([^"]+)" hx-trigger="every 2s"')


def detail_url(restore):
    return reverse("restores:restore_detail", args=[restore.pk])


@pytest.mark.parametrize(("role", "expected"), [("viewer", 200), ("operator", 200), ("admin", 200), ("outsider", 404)])
def test_members_see_a_restore_and_outsiders_do_not(clients, backup, role, expected):
    assert clients[role].get(detail_url(a_restore(backup))).status_code == expected


def test_a_running_restore_shows_its_progress_and_follows_itself(clients, backup):
    restore = a_restore(backup, status=Restore.Status.RESTORING, progress=40)
    client = clients["viewer"]
    html = text(client.get(detail_url(restore)))
    assert "Restoring now" in html
    assert 'value="40"' in html
    live = LIVE_URL.search(html).group(1).replace("&amp;", "&")
    assert client.get(live, **HTMX).status_code == 204  # nothing changed

    Restore.objects.filter(pk=restore.pk).update(progress=70)
    changed = client.get(live, **HTMX)
    assert changed.status_code == 200
    assert is_fragment(changed)
    assert "70% done" in text(changed)

    Restore.objects.filter(pk=restore.pk).update(status=Restore.Status.COMPLETED, finished_at=timezone.now())
    ended = client.get(live, **HTMX)
    assert ended.status_code == 286  # htmx stops polling
    assert "is available, restored in" in text(ended)


def test_a_completed_restore_shows_the_new_instance_and_its_restore_time(clients, backup, project):
    restore = a_restore(backup, status=Restore.Status.COMPLETED)
    restore.finished_at = restore.submitted_at + timedelta(minutes=4, seconds=12)
    restore.save()
    new = InstanceFactory(project=project, cloud_id=restore.instance_cloud_id, name=restore.target_name)
    html = text(clients["viewer"].get(detail_url(restore)))
    assert "4 min 12 s" in html
    assert reverse("backups:instance_detail", args=[new.pk]) in html
    assert restore.instance_cloud_id in html
    assert restore.job_id in html
    assert "hx-trigger" not in html


def test_a_failed_restore_says_what_happened_and_what_to_do(clients, backup):
    restore = a_restore(
        backup, status=Restore.Status.FAILED, error_code="DBS.280123", error_message="Invalid node quantity."
    )
    html = text(clients["viewer"].get(detail_url(restore)))
    explanation = explain("DBS.280123")
    assert escape(explanation.summary) in html
    assert escape(explanation.next_step) in html
    assert "DBS.280123" in html
    assert "Invalid node quantity." in html


def test_a_rehearsal_follows_its_cleanup_until_the_temporary_instance_is_deleted(clients, backup):
    rehearsal = a_restore(
        backup, kind=Restore.Kind.REHEARSAL, status=Restore.Status.COMPLETED, cleanup_status=Restore.Cleanup.DELETING
    )
    client = clients["viewer"]
    html = text(client.get(detail_url(rehearsal)))
    assert "Proven" in html
    assert "Deleting the temporary instance" in html
    live = LIVE_URL.search(html).group(1).replace("&amp;", "&")
    Restore.objects.filter(pk=rehearsal.pk).update(cleanup_status=Restore.Cleanup.DELETED, deleted_at=timezone.now())
    ended = client.get(live, **HTMX)
    assert ended.status_code == 286
    assert "has been deleted" in text(ended)
