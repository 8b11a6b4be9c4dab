"""The instances page: every instance with its last backup, and why Create backup is off."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from access.models import CloudProject, Membership
from backups import publish, rules
from backups.services import sync
from backups.services.sync import syncs_dispatch_due
from tests.factories import BackupFactory, CloudProjectFactory, InstanceFactory, MembershipFactory, UserFactory
from tests.helpers import HTMX, is_fragment, signed_in, text

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


@pytest.fixture
def published(monkeypatch):
    """What the refresh hands to the broker, as (task name, args), instead of the broker."""
    sent = []
    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: sent.append((task_name, args)))
    return sent


@pytest.mark.django_db(transaction=True)  # the sync is published after commit
def test_refresh_enqueues_a_sync_per_project_and_says_so(operator_client, project, published):
    response = operator_client.post(REFRESH, HTTP_REFERER=f"http://testserver{INSTANCES}?q=orders", follow=True)
    assert published == [(publish.SYNC_PROJECT, (project.pk,))]
    assert response.redirect_chain[-1][0] == f"{INSTANCES}?q=orders"
    assert "Refreshing eu-de_prod from the cloud." in text(response)
    project.refresh_from_db()
    assert project.sync_requested_at is not None  # the request's durable copy
    assert project.sync_enqueued_at is not None  # and the broker has it


@pytest.mark.django_db(transaction=True)
def test_refresh_only_syncs_projects_the_user_operates(operator_client, operator, project, published):
    viewer_only = CloudProjectFactory(name="eu-de_readonly")
    MembershipFactory(user=operator, project=viewer_only, role=Membership.Role.VIEWER)
    operator_client.post(REFRESH)
    assert published == [(publish.SYNC_PROJECT, (project.pk,))]
    viewer_only.refresh_from_db()
    assert viewer_only.sync_requested_at is None


@pytest.mark.django_db(transaction=True)
def test_refresh_survives_a_broker_outage(operator_client, project, monkeypatch):
    """Like a backup request: recorded first, published later by the sweep, never lost."""

    def broker_down(task_name, *args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("backups.publish.publish", broker_down)
    response = operator_client.post(REFRESH, follow=True)
    assert response.status_code == 200
    assert "Refreshing eu-de_prod from the cloud." in text(response)
    project.refresh_from_db()
    assert project.sync_requested_at is not None

    assert project.sync_enqueued_at is None  # the broker never got it

    sent = []
    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: sent.append((task_name, args)))
    assert syncs_dispatch_due() == 1  # the broker is back: the next sweep hands it over
    assert sent == [(publish.SYNC_PROJECT, (project.pk,))]
    assert syncs_dispatch_due() == 0  # handed over: not again at the next tick
    long_ago = timezone.now() - publish.REPUBLISH_AFTER - timedelta(seconds=1)
    CloudProject.objects.filter(pk=project.pk).update(sync_enqueued_at=long_ago)
    assert syncs_dispatch_due() == 1  # handed over long ago and never started: again


@pytest.mark.django_db(transaction=True)
def test_fifty_refreshes_queue_one_sync(operator_client, project, published, settings):
    """A refresh already queued or running is not queued again: fifty clicks, one sync."""
    settings.REFRESH_LIMIT = 100
    for _ in range(50):
        response = operator_client.post(REFRESH, follow=True)
    assert published == [(publish.SYNC_PROJECT, (project.pk,))]
    assert "A refresh of eu-de_prod is already under way." in text(response)

    # Started by a worker: still under way until it ends.
    CloudProject.objects.filter(pk=project.pk).update(sync_requested_at=None, sync_started_at=timezone.now())
    assert "already under way" in text(operator_client.post(REFRESH, follow=True))
    assert len(published) == 1
    # A worker that died mid-sync holds its lease only so long.
    long_ago = timezone.now() - sync.SYNC_LEASE - timedelta(seconds=1)
    CloudProject.objects.filter(pk=project.pk).update(sync_started_at=long_ago)
    assert "Refreshing eu-de_prod from the cloud." in text(operator_client.post(REFRESH, follow=True))
    assert len(published) == 2


@pytest.mark.django_db(transaction=True)
def test_refresh_is_rate_limited_per_person(operator_client, operator, project, published, settings):
    settings.REFRESH_LIMIT = 3
    for _ in range(3):
        operator_client.post(REFRESH)
        CloudProject.objects.filter(pk=project.pk).update(sync_requested_at=None)  # as if each had run
    assert len(published) == 3
    response = operator_client.post(REFRESH, follow=True)
    assert "You have refreshed 3 times in the last few minutes." in text(response)
    assert len(published) == 3
    project.refresh_from_db()
    assert project.sync_requested_at is None  # the refused click asked for nothing

    # The allowance is each person's own.
    colleague = UserFactory()
    MembershipFactory(user=colleague, project=project, role=Membership.Role.OPERATOR)
    signed_in(colleague).post(REFRESH)
    assert len(published) == 4


def test_viewer_may_not_refresh(viewer_client, project, monkeypatch):
    monkeypatch.setattr("backups.publish.publish", pytest.fail)
    assert viewer_client.post(REFRESH).status_code == 403
    assert viewer_client.get(REFRESH).status_code == 405
    project.refresh_from_db()
    assert project.sync_requested_at is None


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
    with django_assert_max_num_queries(8):
        response = operator_client.get(INSTANCES)
    assert len(rows_of(response)) == min(count, 50)
    with django_assert_max_num_queries(8):
        operator_client.get(INSTANCES, {"page": 2})


def names_on(response) -> list[str]:
    """Instance names in page order: each project's listed instances, then its gone ones."""
    return [row.instance.name for group in response.context["groups"] for row in group.rows + group.gone]


def test_instances_are_paged_50_at_a_time_by_project_then_name(operator_client, operator, project):
    second = CloudProjectFactory(name="eu-de_second")  # sorts after eu-de_prod
    MembershipFactory(user=operator, project=second, role=Membership.Role.VIEWER)
    for n in reversed(range(40)):
        InstanceFactory(project=second, name=f"a-second-{n:02d}")
        InstanceFactory(project=project, name=f"b-prod-{n:02d}")
    first = operator_client.get(INSTANCES)
    expected = [f"b-prod-{n:02d}" for n in range(40)] + [f"a-second-{n:02d}" for n in range(40)]
    assert names_on(first) == expected[:50]
    second_page = operator_client.get(INSTANCES, {"page": 2})
    assert names_on(second_page) == expected[50:]
    assert [g.project.name for g in second_page.context["groups"]] == ["eu-de_second"]
    html = text(first)
    assert "Instances 1\u201350 of 80 · page 1 of 2" in html
    assert f'href="{INSTANCES}?page=2" rel="next"' in html
    assert "40 instances ·" in html  # each project says how many it has on all pages
    assert "Instances 51\u201380 of 80 · page 2 of 2" in text(second_page)
    assert f'href="{INSTANCES}?page=1" rel="prev"' in text(second_page)


def test_paging_keeps_the_search_and_filters(operator_client, project):
    for n in range(55):
        InstanceFactory(project=project, name=f"orders-{n:02d}")
    InstanceFactory(project=project, name="users-prod")
    first = operator_client.get(INSTANCES, {"q": "orders", "project": project.pk})
    assert len(names_on(first)) == 50
    assert "55 instances match ·" in text(first)
    next_query = f"?q=orders&amp;project={project.pk}&amp;page=2"
    assert f'href="{INSTANCES}{next_query}" rel="next"' in text(first)
    assert f'hx-get="{INSTANCES}{next_query}" hx-target="#instance-results"' in text(first)
    second = operator_client.get(INSTANCES, {"q": "orders", "project": project.pk, "page": 2}, **HTMX)
    assert is_fragment(second)
    listed = re.findall(r'<span class="strong">([^<]+)</span>', text(second))
    assert listed == [f"orders-{n:02d}" for n in range(50, 55)]


def test_changing_a_filter_starts_again_at_the_first_page(operator_client, project):
    html = text(operator_client.get(INSTANCES, {"page": 2}))
    # The filter form does not carry the page: what it sends lists the first page.
    form = html[html.index('<form class="filters"') : html.index("</form>", html.index('<form class="filters"'))]
    assert 'name="page"' not in form


@pytest.mark.parametrize(("asked", "shown"), [("99", 2), ("0", 1), ("-3", 1), ("two", 1)])
def test_a_page_out_of_range_or_garbled_shows_the_nearest_page(operator_client, project, asked, shown):
    for n in range(60):
        InstanceFactory(project=project, name=f"i-{n:02d}")
    response = operator_client.get(INSTANCES, {"page": asked})
    assert response.status_code == 200
    assert response.context["page"].number == shown
    assert names_on(response)[0] == ("i-50" if shown == 2 else "i-00")


def test_gone_instances_follow_the_others_of_their_project(operator_client, project):
    InstanceFactory(project=project, name="a-vanished", gone_at=timezone.now())
    for n in range(50):
        InstanceFactory(project=project, name=f"b-{n:02d}")
    first, second = operator_client.get(INSTANCES), operator_client.get(INSTANCES, {"page": 2})
    assert "a-vanished" not in names_on(first)
    assert second.context["groups"][0].gone[0].instance.name == "a-vanished"
    assert "1 instance gone from the cloud" in text(second)


def test_a_project_without_instances_says_so_on_the_first_page_only(operator_client, operator, project):
    empty = CloudProjectFactory(name="eu-de_empty")  # sorts before eu-de_prod
    MembershipFactory(user=operator, project=empty, role=Membership.Role.OPERATOR)
    for n in range(60):
        InstanceFactory(project=project, name=f"i-{n:02d}")
    assert "No Cassandra instances found in eu-de_empty." in text(operator_client.get(INSTANCES))
    second = operator_client.get(INSTANCES, {"page": 2})
    assert [g.project.name for g in second.context["groups"]] == ["eu-de_prod"]
    assert "No Cassandra instances found" not in text(second)
    assert "matches these filters" not in text(second)
