"""What the backups' pages say about restores: "restored from <backup>" on an instance a console
restore made (one query for the whole list), and on a backup's page whether it was ever proven,
with Restore… for Admins."""

import pytest
from django.urls import reverse

from restores.models import Restore
from tests.factories import InstanceFactory
from tests.helpers import text

from .conftest import a_restore

pytestmark = pytest.mark.django_db


def backup_url(backup):
    return reverse("backups:backup_detail", args=[backup.pk])


def test_an_instance_a_restore_made_is_marked_in_the_list(clients, backup, project):
    restore = a_restore(backup, status=Restore.Status.COMPLETED, target_name="orders-copy")
    InstanceFactory(project=project, name="orders-copy", cloud_id=restore.instance_cloud_id)
    html = text(clients["viewer"].get(reverse("backups:instances")))
    row = html[html.index("orders-copy") :]
    assert "restored from" in row[: row.index("</tr>")]
    assert reverse("restores:restore_detail", args=[restore.pk]) in row[: row.index("</tr>")]
    source_row = html[html.index(">orders-prod<") :]
    assert "restored from" not in source_row[: source_row.index("</tr>")]


def test_marking_the_list_costs_one_query_however_many_instances(
    clients, backup, project, django_assert_max_num_queries
):
    client = clients["viewer"]
    client.get(reverse("backups:instances"))  # warm the session
    with django_assert_max_num_queries(50) as few:
        client.get(reverse("backups:instances"))
    for n in range(5):
        restore = a_restore(backup, status=Restore.Status.COMPLETED, instance_cloud_id=f"copy-{n}-in06")
        InstanceFactory(project=project, name=f"orders-copy-{n}", cloud_id=restore.instance_cloud_id)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        html = text(client.get(reverse("backups:instances")))
    assert html.count("restored from") == 5
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_restored_instance_page_names_its_backup(clients, backup, project):
    restore = a_restore(backup, status=Restore.Status.COMPLETED)
    copy = InstanceFactory(project=project, name=restore.target_name, cloud_id=restore.instance_cloud_id)
    html = text(clients["viewer"].get(reverse("backups:instance_detail", args=[copy.pk])))
    assert "Restored from" in html
    assert reverse("backups:backup_detail", args=[backup.pk]) in html


def test_a_backup_page_says_never_restored_then_proven(clients, backup):
    html = text(clients["viewer"].get(backup_url(backup)))
    assert "Never restored" in html
    assert "Restore…" not in html  # for Admins only
    assert "Restore…" in text(clients["admin"].get(backup_url(backup)))
    assert reverse("restores:restore_create", args=[backup.pk]) in text(clients["admin"].get(backup_url(backup)))

    a_restore(backup, kind=Restore.Kind.REHEARSAL, status=Restore.Status.COMPLETED)
    html = text(clients["viewer"].get(backup_url(backup)))
    assert "Never restored" not in html
    assert "Proven" in html
