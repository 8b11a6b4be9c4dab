"""Data from the cloud (instance names, fail reasons, names of backups made elsewhere) and from
people (names, audit targets) is shown as text, never as markup; the CSV export keeps
spreadsheets from running it as formulas."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent
from backups.models import Instance
from backups.services.sync import instances_sync
from tests.factories import BackupEventFactory, BackupFactory, InstanceFactory, UserFactory

from .conftest import HTMX, World, text

pytestmark = pytest.mark.django_db

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
INERT = ["<script>alert(1)", "<img src=x", "onerror=alert(1)>"]


def assert_inert(html: str, where: str):
    for fragment in INERT:
        assert fragment not in html, f"{fragment!r} rendered as markup on {where}"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;img src=x onerror=alert(1)&gt;" in html, where


@pytest.fixture(params=PAYLOADS, ids=["script", "attribute"])
def payload(request):
    return request.param


@pytest.fixture
def hostile(world: World, payload):
    """An instance, a failed backup of it and one imported from the cloud, all named by an attacker."""
    instance = InstanceFactory(project=world.project, name=payload, cloud_id=f"id-{payload}", mode=payload)
    failed = BackupFactory(
        instance=instance,
        failed=True,
        name="failed-one",
        error_code="JOB_FAILED",
        error_message=payload,
        requested_by=world.users["operator"],
    )
    BackupEventFactory(backup=failed, kind="failed", message=payload)
    # Older than the failure, so the overview still lists the failure as needing attention.
    imported = BackupFactory(
        instance=instance,
        automated=True,
        name=payload,
        description=payload,
        requested_at=timezone.now() - timedelta(days=2),
    )
    return instance, failed, imported


def test_cloud_data_renders_inert_on_every_page(world: World, hostile):
    instance, failed, imported = hostile
    client = world.client("operator")
    pages = {
        "overview": reverse("backups:overview"),
        "instances": reverse("backups:instances"),
        "instances (htmx)": reverse("backups:instances") + "?q=alert",
        "history": reverse("backups:history"),
        "history (htmx)": reverse("backups:history") + "?status=failed",
        "detail": reverse("backups:backup_detail", args=[failed.pk]),
        "imported detail": reverse("backups:backup_detail", args=[imported.pk]),
        "row": reverse("backups:history_live") + f"?live={failed.pk}.unseen",
        "create dialog": reverse("backups:backup_create", args=[instance.pk]),
    }
    for where, url in pages.items():
        response = client.get(url, **(HTMX if "htmx" in where or where in ("row", "create dialog") else {}))
        assert response.status_code in (200, 286), where
        assert_inert(text(response), where)


def test_instance_names_from_the_simulator_render_inert(world: World, simulator, payload):
    """The whole way: the cloud lists the instance, the sync stores it, the page shows it."""
    project = world.project
    project.iam_endpoint = project.geminidb_endpoint = simulator.url
    project.project_id, project.iam_domain = simulator.project_id, simulator.domain
    project.iam_user, project.iam_password = simulator.username, simulator.password
    project.save()
    simulator.add_instance(payload)
    instances_sync(project=project)
    assert Instance.objects.filter(project=project, name=payload).exists()
    assert_inert(text(world.client("viewer").get(reverse("backups:instances"))), "instances")


def test_people_and_audit_entries_render_inert(world: World, payload):
    hostile = UserFactory(username="hostile", first_name=payload)
    world.member.user = hostile
    world.member.save()
    AuditEvent.objects.create(
        at=world.backup.requested_at,
        action="backup_failed",
        project=world.project,
        target=payload,
        details={"reason": payload},
    )
    admin = world.client("admin")
    assert_inert(text(admin.get(reverse("access:team", args=[world.project.pk]))), "team")
    assert_inert(text(admin.get(reverse("access:audit"))), "audit")
    assert_inert(text(admin.get(reverse("access:audit"), **HTMX)), "audit (htmx)")


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_csv_cells_cannot_become_formulas(world: World, formula):
    BackupFactory(instance=world.instance, automated=True, name=formula)
    exported = text(world.client("viewer").get(reverse("backups:history_export")))
    names = [row[3] for row in csv.reader(io.StringIO(exported))][1:]
    assert f"'{formula}" in names
    assert formula not in names
