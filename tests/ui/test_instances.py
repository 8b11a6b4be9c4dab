"""The instances page: every instance with its last backup, and why Create backup is off."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from backups import rules
from backups.models import Membership
from tests.factories import BackupFactory, CloudProjectFactory, InstanceFactory, MembershipFactory, UserFactory
from tests.ui.helpers import HTMX, is_fragment, signed_in, text

pytestmark = pytest.mark.django_db

INSTANCES = reverse("backups:instances")
REFRESH = reverse("backups:instances_refresh")


def rows_of(response):
    return {row.instance.name: row for group in response.context["groups"] for row in group.rows + group.gone}


def test_lists_each_instance_with_status_version_mode_and_last_backup(operator_client, project, operator):
    orders = InstanceFactory(project=project, name="orders-prod", datastore_version="3.11", mode="Cluster")
    BackupFactory(instance=orders, name="orders-old", requested_at=timezone.now() - timedelta(days=2))
    BackupFactory(instance=orders, name="orders-last", status="failed", requested_by=operator)
    InstanceFactory(project=project, name="never-backed-up", status="data_disk_full")
    response = operator_client.get(INSTANCES)
    assert response.status_code == 200
    rows = rows_of(response)
    assert rows["orders-prod"].last_backup.name == "orders-last"
    html = text(response)
    for expected in (
        "orders-prod",
        "3.11",
        "Cluster",
        "orders-last",
        "status-failed",
        "Never backed up",
        "Storage full",
    ):
        assert expected in html
    assert "orders-old" not in html
    assert "eu-de_prod" in html
    assert "your role: Operator" in html


def test_gone_instances_are_listed_apart(operator_client, project):
    InstanceFactory(project=project, name="vanished", gone_at=timezone.now())
    response = operator_client.get(INSTANCES)
    group = response.context["groups"][0]
    assert [r.instance.name for r in group.gone] == ["vanished"]
    assert group.rows == []
    assert "1 instance gone from the cloud" in text(response)


def test_operator_gets_a_create_button_that_opens_the_dialog(operator_client, instance):
    html = text(operator_client.get(INSTANCES))
    url = reverse("backups:backup_create", args=[instance.pk])
    assert f'href="{url}"' in html
    assert f'hx-get="{url}" hx-target="#dialog-body"' in html
    assert '<dialog id="dialog"' in html


def test_viewer_sees_a_disabled_button_with_the_reason(viewer_client, instance):
    html = text(viewer_client.get(INSTANCES))
    assert f'disabled aria-describedby="why-{instance.pk}"' in html
    assert "Your role (Viewer) cannot create backups." in html
    assert "Refreshing from the cloud needs the Operator role." in html
    assert reverse("backups:backup_create", args=[instance.pk]) not in html


@pytest.mark.parametrize("setup", ["running", "frozen"])
def test_create_is_disabled_with_the_rules_reason(operator_client, project, admin, setup):
    instance = InstanceFactory(project=project, status="frozen" if setup == "frozen" else "normal")
    running = BackupFactory(instance=instance, running=True, requested_by=admin) if setup == "running" else None
    html = text(operator_client.get(INSTANCES))
    reason = rules.instance_backup_blocker(instance, running)
    assert escape(reason) in html
    assert "requested by Ada Admin" in html or setup == "frozen"


def test_search_and_filters_narrow_the_list(operator_client, project, operator):
    second = CloudProjectFactory(name="eu-de_second")
    MembershipFactory(user=operator, project=second, role=Membership.Role.VIEWER)
    InstanceFactory(project=project, name="orders-prod")
    InstanceFactory(project=project, name="orders-frozen", status="frozen")
    InstanceFactory(project=project, name="users-prod")
    InstanceFactory(project=second, name="orders-elsewhere")
    assert set(rows_of(operator_client.get(INSTANCES, {"q": "orders"}))) == {
        "orders-prod",
        "orders-frozen",
        "orders-elsewhere",
    }
    assert set(rows_of(operator_client.get(INSTANCES, {"q": "orders", "project": project.pk}))) == {
        "orders-prod",
        "orders-frozen",
    }
    assert set(rows_of(operator_client.get(INSTANCES, {"status": "frozen"}))) == {"orders-frozen"}
    filtered = operator_client.get(INSTANCES, {"q": "nothing-like-this"})
    assert "matches these filters" in text(filtered)


def test_htmx_filtering_returns_only_the_results(operator_client, instance):
    response = operator_client.get(INSTANCES, {"q": "orders"}, **HTMX)
    assert is_fragment(response)
    assert text(response).lstrip().startswith('<div id="instance-results"')


def test_outsider_sees_none_of_the_projects_instances(outsider_client, instance):
    response = outsider_client.get(INSTANCES)
    assert "orders-prod" not in text(response)
    assert "eu-de_prod" not in text(response)


def test_a_user_without_projects_is_told_what_to_do(db):
    response = signed_in(UserFactory()).get(INSTANCES)
    assert "You are not a member of any cloud project yet." in text(response)


def test_refresh_enqueues_a_sync_per_project_and_says_so(operator_client, project, monkeypatch):
    enqueued = []
    monkeypatch.setattr("backups.tasks.sync_project.delay", enqueued.append)
    response = operator_client.post(REFRESH, HTTP_REFERER=f"http://testserver{INSTANCES}?q=orders", follow=True)
    assert enqueued == [project.pk]
    assert response.redirect_chain[-1][0] == f"{INSTANCES}?q=orders"
    assert "Refreshing eu-de_prod from the cloud." in text(response)


def test_refresh_only_syncs_projects_the_user_operates(operator_client, operator, project, monkeypatch):
    viewer_only = CloudProjectFactory(name="eu-de_readonly")
    MembershipFactory(user=operator, project=viewer_only, role=Membership.Role.VIEWER)
    enqueued = []
    monkeypatch.setattr("backups.tasks.sync_project.delay", enqueued.append)
    operator_client.post(REFRESH)
    assert enqueued == [project.pk]


def test_refresh_says_when_the_queue_is_down(operator_client, project, monkeypatch):
    def broker_down(project_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("backups.tasks.sync_project.delay", broker_down)
    response = operator_client.post(REFRESH, follow=True)
    assert "The refresh could not be started" in text(response)


def test_viewer_may_not_refresh(viewer_client, monkeypatch):
    monkeypatch.setattr("backups.tasks.sync_project.delay", pytest.fail)
    assert viewer_client.post(REFRESH).status_code == 403
    assert viewer_client.get(REFRESH).status_code == 405


def test_last_sync_time_is_shown(operator_client, project):
    html = text(operator_client.get(INSTANCES))
    assert "synced <time" in html
    assert ">just now</time>" in html
    project.instances_synced_at = None
    project.save()
    assert "not synced yet" in text(operator_client.get(INSTANCES))


@pytest.mark.parametrize("count", [1, 60])
def test_instances_page_makes_a_bounded_number_of_queries(
    operator_client, project, count, django_assert_max_num_queries
):
    for n in range(count):
        instance = InstanceFactory(project=project, gone_at=timezone.now() if n % 10 == 9 else None)
        BackupFactory(instance=instance, requested_at=timezone.now() - timedelta(days=1))
        if n % 3 == 0:
            BackupFactory(instance=instance, running=True)
    with django_assert_max_num_queries(10):
        response = operator_client.get(INSTANCES)
    assert len(rows_of(response)) == count
