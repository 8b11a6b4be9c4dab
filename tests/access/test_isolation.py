"""An operator of project A edits ids and filters to reach project B: nothing of B comes back,
and nothing is created there."""

import csv
import io

import pytest
from django.urls import reverse

from access.models import AuditEvent, Membership
from backups.models import Backup

from .conftest import HTMX, World, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(world: World):
    return world.client("operator")


def test_operator_cannot_create_a_backup_of_another_projects_instance(world, operator):
    url = reverse("backups:backup_create", args=[world.other_instance.pk])
    before = Backup.objects.count()
    assert operator.get(url).status_code == 404
    assert operator.get(url, **HTMX).status_code == 404
    response = operator.post(url, {"name": "sneaky-backup", "description": "x"})
    assert response.status_code == 404
    assert operator.post(url, {"name": "sneaky-backup", "description": "x"}, **HTMX).status_code == 404
    assert Backup.objects.count() == before
    validate = reverse("backups:backup_validate", args=[world.other_instance.pk]) + "?field=name"
    assert operator.post(validate, {"name": "x"}, **HTMX).status_code == 404


@pytest.mark.parametrize("name", ["backups:backup_detail"])
def test_operator_cannot_see_another_projects_backup(world, operator, name):
    url = reverse(name, args=[world.other_backup.pk])
    for extra in ({}, HTMX):
        response = operator.get(url, **extra)
        assert response.status_code == 404
        assert "bravo-secret-backup" not in text(response)


@pytest.mark.parametrize(
    "query",
    [
        "project={project}",
        "instance={instance}",
        "person={person}",
        "project={project}&instance={instance}",
        "q=bravo",
        "status=completed",
    ],
)
def test_history_filters_never_leak_another_projects_rows(world, operator, query):
    query = query.format(
        project=world.other_project.pk, instance=world.other_instance.pk, person=world.users["outsider"].pk
    )
    for extra in ({}, HTMX):
        html = text(operator.get(reverse("backups:history") + "?" + query, **extra))
        assert "bravo-secret-backup" not in html
        assert "bravo-ledger" not in html
    exported = text(operator.get(reverse("backups:history_export") + "?" + query))
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][0] == "project"
    assert all(row[0] != world.other_project.name for row in rows[1:])
    assert "bravo" not in exported


def test_history_choices_offer_only_the_users_projects(world, operator):
    html = text(operator.get(reverse("backups:history")))
    assert "eu-de_alpha" in html
    assert "eu-de_bravo" not in html
    assert "bravo-ledger" not in html
    assert "otto" not in html


def test_instances_page_filtered_to_another_project_shows_nothing_of_it(world, operator):
    html = text(operator.get(reverse("backups:instances") + f"?project={world.other_project.pk}", **HTMX))
    assert "bravo-ledger" not in html


@pytest.mark.django_db(transaction=True)  # the sync is published after commit
def test_refresh_syncs_only_the_operators_projects(world, operator, published):
    operator.post(reverse("backups:instances_refresh"), {"project": world.other_project.pk})
    assert published == [world.project.pk]


def test_admin_of_a_cannot_touch_b_by_editing_membership_ids(world):
    admin = world.client("admin")
    other = world.other_member
    # B's membership through A's project URL, and through B's own.
    for project in (world.project, world.other_project):
        for name in ("member_role", "member_remove"):
            url = reverse(f"access:{name}", args=[project.pk, other.pk])
            assert admin.post(url, {"role": "admin"}).status_code == 404
            assert admin.post(url, {"role": "admin"}, **HTMX).status_code == 404
    assert Membership.objects.get(pk=other.pk).role == Membership.Role.OPERATOR
    add = reverse("access:member_add", args=[world.other_project.pk])
    assert admin.post(add, {"kind": "existing", "person": "ada", "role": "admin"}).status_code == 404
    assert not Membership.objects.filter(project=world.other_project, user=world.users["admin"]).exists()
    credentials = reverse("access:project_credentials", args=[world.other_project.pk])
    assert admin.get(credentials).status_code == 404


def test_audit_trail_of_another_project_stays_hidden(world):
    AuditEvent.objects.create(
        at=world.other_backup.requested_at, action="backup_requested", project=world.other_project, target="bravo-x"
    )
    AuditEvent.objects.create(
        at=world.backup.requested_at, action="backup_requested", project=world.project, target="alpha-x"
    )
    admin = world.client("admin")
    for query in ("", f"?project={world.other_project.pk}", f"?person={world.users['outsider'].pk}"):
        html = text(admin.get(reverse("access:audit") + query))
        assert "bravo-x" not in html
    assert "alpha-x" in text(admin.get(reverse("access:audit")))
    assert "alpha-x" not in text(world.client("outsider").get(reverse("access:audit")))
