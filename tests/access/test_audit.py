"""The audit trail: what is recorded, who can read it, and that nobody can change it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, AuditTrailIsAppendOnly
from access.services import audit
from backups.lifecycle import backup_transition
from backups.models import Backup, BackupEvent
from tests.factories import CloudProjectFactory

from .conftest import HTMX, World, text

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action
AUDIT = reverse("access:audit")


def event(world: World, action=Action.MEMBER_ADDED, **fields) -> AuditEvent:
    return audit.record(
        action, project=fields.pop("project", world.project), target=fields.pop("target", "x"), **fields
    )


def test_an_event_cannot_be_changed_or_deleted(world: World):
    recorded = event(world, target="original")
    recorded.target = "rewritten"
    with pytest.raises(AuditTrailIsAppendOnly):
        recorded.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        recorded.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=recorded.pk).update(target="rewritten")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    # A new object with an existing id is an INSERT, which fails, never an UPDATE.
    clone = AuditEvent(pk=recorded.pk, at=timezone.now(), action=Action.MEMBER_REMOVED, target="forged")
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
    assert AuditEvent.objects.get(pk=recorded.pk).target == "original"


def test_deleting_a_person_or_a_project_keeps_their_trail(world: World):
    mia = world.member.user
    project = CloudProjectFactory(name="eu-de_gone")
    recorded = event(world, actor=mia, target_user=mia, project=project)
    mia.delete()
    project.delete()
    recorded = AuditEvent.objects.get(pk=recorded.pk)
    assert (recorded.actor_name, recorded.project_name, recorded.target) == ("mia", "eu-de_gone", "x")
    assert recorded.project_id is not None


def test_the_admin_site_shows_the_trail_read_only(world: World):
    request = RequestFactory().get("/admin/")
    request.user = world.users["site_admin"]
    model_admin = site._registry[AuditEvent]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event(world))
    assert not model_admin.has_delete_permission(request, event(world))
    client = world.client("site_admin")
    recorded = event(world)
    assert client.get(reverse("admin:access_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:access_auditevent_add")).status_code == 403
    assert client.get(reverse("admin:access_auditevent_delete", args=[recorded.pk])).status_code == 403
    response = client.post(reverse("admin:access_auditevent_change", args=[recorded.pk]), {"target": "changed"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(pk=recorded.pk).target == "x"


def test_the_console_has_no_way_to_change_the_trail(world: World):
    client = world.client("site_admin")
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(AUDIT).status_code == 405


def test_a_backup_request_is_audited_with_who_what_and_where_from(world: World):
    instance = world.other_instance  # nothing runs there
    client = world.client("outsider")
    response = client.post(
        reverse("backups:backup_create", args=[instance.pk]),
        {"name": "ledger-manual-1", "description": "Before the migration"},
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302
    recorded = AuditEvent.objects.get(action=Action.BACKUP_REQUESTED)
    backup = Backup.objects.get(name="ledger-manual-1")
    assert recorded.actor == world.users["outsider"]
    assert recorded.project == world.other_project
    assert recorded.ip == "192.0.2.44"
    assert recorded.target == "bravo-ledger / ledger-manual-1"
    assert recorded.details == {
        "backup": backup.pk,
        "instance": "bravo-ledger",
        "instance_id": instance.cloud_id,
        "name": "ledger-manual-1",
    }


@pytest.mark.parametrize(
    ("status", "action"),
    [("completed", Action.BACKUP_COMPLETED), ("failed", Action.BACKUP_FAILED), ("unknown", Action.BACKUP_UNKNOWN)],
)
def test_every_backup_outcome_is_audited_once(world: World, status, action):
    backup = world.backup
    fields = {"error_code": "JOB_FAILED", "error_message": "Disk full"} if status == "failed" else {}
    assert backup_transition(backup.pk, status, event=BackupEvent.Kind.NOTE, **fields)
    assert not backup_transition(backup.pk, status, event=BackupEvent.Kind.NOTE, **fields)
    recorded = AuditEvent.objects.get()
    assert recorded.action == action
    assert recorded.actor is None
    assert recorded.project == world.project
    assert recorded.details["backup"] == backup.pk
    if status == "failed":
        assert recorded.details["reason"] == "Disk full"


def test_a_backup_moving_between_unfinished_states_is_not_an_outcome(world: World):
    queued = Backup.objects.filter(pk=world.backup.pk)
    queued.update(status="queued")
    backup_transition(world.backup.pk, "submitting", event=None)
    assert not AuditEvent.objects.exists()


def test_project_admins_see_their_projects_trail_and_site_admins_see_all(world: World):
    event(world, target="alpha-event")
    event(world, project=world.other_project, target="bravo-event")
    event(world, action=Action.SIGN_IN_FAILED, project=None, target="site-event")
    seen = {role: text(world.client(role).get(AUDIT)) for role in ("admin", "outsider", "site_admin")}
    assert "alpha-event" in seen["admin"]
    assert "bravo-event" not in seen["admin"]
    assert "site-event" not in seen["admin"]
    assert "bravo-event" in seen["outsider"]
    assert "alpha-event" not in seen["outsider"]
    assert all(name in seen["site_admin"] for name in ("alpha-event", "bravo-event", "site-event"))


def test_filters_by_action_person_project_and_date(world: World):
    ada, mia = world.users["admin"], world.member.user
    event(world, Action.ROLE_CHANGED, actor=ada, target_user=mia, target="role-of-mia")
    event(world, Action.MEMBER_ADDED, actor=ada, target="added-walt")
    event(world, Action.MEMBER_REMOVED, target="removed-today")
    AuditEvent.objects.create(
        at=datetime(2024, 1, 5, 12, tzinfo=UTC), action=Action.MEMBER_REMOVED, project=world.project, target="in-2024"
    )
    client = world.client("admin")

    def shown(query: str) -> set[str]:
        html = text(client.get(f"{AUDIT}?{query}", **HTMX))
        names = ("role-of-mia", "added-walt", "removed-today", "in-2024")
        return {name for name in names if name in html}

    assert shown("action=role_changed") == {"role-of-mia"}
    assert shown(f"person={mia.pk}") == {"role-of-mia"}
    assert shown(f"person={ada.pk}") == {"role-of-mia", "added-walt"}
    assert shown(f"project={world.project.pk}&action=member_removed") == {"removed-today", "in-2024"}
    assert shown("since=2024-01-01&until=2024-01-31") == {"in-2024"}
    today = timezone.now().date()
    assert "in-2024" not in shown(f"since={today - timedelta(days=1)}")


def test_the_trail_pages_by_keyset_with_a_bounded_number_of_queries(world: World, django_assert_max_num_queries):
    for n in range(60):
        event(world, target=f"event-{n:02d}", actor=world.users["admin"])
    client = world.client("admin")
    with django_assert_max_num_queries(10):
        first = client.get(AUDIT)
    page = first.context["page"]
    assert len(page.events) == 50
    assert page.events[0].target == "event-59"
    second = client.get(f"{AUDIT}?before={page.older}")
    assert [e.target for e in second.context["page"].events] == [f"event-{n:02d}" for n in range(9, -1, -1)]
    assert second.context["page"].older is None
