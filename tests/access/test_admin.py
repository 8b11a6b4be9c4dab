"""Django's admin is no back door: a site administrator who is no member of a project can look
at its backups there but not change or delete them, and what the console has rules for
(deactivating, the last admin, passwords, credentials) keeps its rules and its audit trail."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from access.models import AuditEvent, CloudProject, Membership
from backups.models import Backup, BackupEvent, Instance

from .conftest import World, text

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def user_url(view: str, user) -> str:
    return reverse(f"admin:auth_user_{view}", args=[user.pk])


def user_form(user, **changes) -> dict:
    """The admin's change form for `user` as a browser posts it; unchecked boxes are left out."""
    fields = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    } | changes
    return {name: ("on" if value is True else value) for name, value in fields.items() if value is not False}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- backups, their timelines and instances: view only ------------------------------------


def test_a_site_admin_who_is_no_member_cannot_delete_a_backup_in_the_admin(world: World):
    client = world.client("site_admin")
    backup = world.backup
    response = client.post(admin_url(Backup, "delete", backup.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Backup.objects.filter(pk=backup.pk).exists()
    client.post(
        admin_url(Backup, "changelist"), {"action": "delete_selected", "_selected_action": [backup.pk], "post": "yes"}
    )
    assert Backup.objects.filter(pk=backup.pk).exists()


def test_backups_and_instances_are_read_only_in_the_admin(world: World):
    client = world.client("site_admin")
    backup, instance = world.backup, world.instance
    assert client.get(admin_url(Backup, "changelist")).status_code == 200
    page = client.get(admin_url(Backup, "change", backup.pk))
    assert page.status_code == 200  # to look at
    assert 'name="name"' not in text(page)
    assert 'name="_save"' not in text(page)
    response = client.post(admin_url(Backup, "change", backup.pk), {"name": "renamed", "status": "failed"})
    assert response.status_code == 403
    assert Backup.objects.get(pk=backup.pk).name == "alpha-running"
    assert client.get(admin_url(Backup, "add")).status_code == 403
    assert client.get(admin_url(Instance, "changelist")).status_code == 200
    assert client.post(admin_url(Instance, "change", instance.pk), {"name": "x"}).status_code == 403
    assert client.post(admin_url(Instance, "delete", instance.pk), {"post": "yes"}).status_code == 403
    assert client.get(admin_url(Instance, "add")).status_code == 403
    assert Instance.objects.get(pk=instance.pk).name == "alpha-orders"
    assert BackupEvent.objects.filter(backup=backup).count() == 1


# --- accounts: deactivation goes through the console's rules ------------------------------


def test_deactivating_the_last_admin_of_a_project_in_the_admin_is_refused(world: World):
    client = world.client("site_admin")
    ada = world.users["admin"]
    response = client.post(user_url("change", ada), user_form(ada, is_active=False, first_name="Changed"))
    assert response.status_code == 302
    assert response["Location"] == user_url("change", ada)
    assert "ada is the last admin of eu-de_alpha. Make someone else admin there first." in messages_of(response)
    ada.refresh_from_db()
    assert ada.is_active
    assert ada.first_name != "Changed"  # nothing of that form was saved
    assert not AuditEvent.objects.filter(action=Action.ACCOUNT_DEACTIVATED).exists()


def test_deactivating_and_reactivating_in_the_admin_is_audited(world: World):
    client = world.client("site_admin")
    mia = world.member.user
    response = client.post(user_url("change", mia), user_form(mia, is_active=False))
    assert response.status_code == 302
    mia.refresh_from_db()
    assert not mia.is_active
    event = AuditEvent.objects.get(action=Action.ACCOUNT_DEACTIVATED)
    assert (event.actor, event.target_user, event.target) == (world.users["site_admin"], mia, "mia")
    client.post(user_url("change", mia), user_form(mia, is_active=True))
    mia.refresh_from_db()
    assert mia.is_active
    assert AuditEvent.objects.get(action=Action.ACCOUNT_REACTIVATED).actor == world.users["site_admin"]


def test_a_site_admin_cannot_deactivate_themselves_in_the_admin(world: World):
    sam = world.users["site_admin"]
    response = world.client("site_admin").post(user_url("change", sam), user_form(sam, is_active=False))
    assert "You cannot deactivate your own account." in messages_of(response)
    sam.refresh_from_db()
    assert sam.is_active


def test_a_password_set_in_the_admin_is_audited_as_set_by_an_administrator(world: World):
    mia = world.member.user
    new_password = "Set-by-Sam-7153"
    response = world.client("site_admin").post(
        reverse("admin:auth_user_password_change", args=[mia.pk]),
        {"usable_password": "true", "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302, text(response)
    event = AuditEvent.objects.get(action=Action.PASSWORD_CHANGED)
    assert (event.actor, event.target_user, event.target) == (world.users["site_admin"], mia, "mia")
    assert event.details == {"set_by_administrator": True, "usable": True}
    assert new_password not in f"{event.target} {event.details}"
    mia.refresh_from_db()
    assert mia.check_password(new_password)


def test_a_refused_password_in_the_admin_records_nothing(world: World):
    mia = world.member.user
    response = world.client("site_admin").post(
        reverse("admin:auth_user_password_change", args=[mia.pk]),
        {"usable_password": "true", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED).exists()


def test_ones_own_password_is_changed_on_the_consoles_audited_page(world: World):
    response = world.client("site_admin").get(reverse("admin:password_change"))
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change")


# --- accounts: deleting, adding -----------------------------------------------------------


def test_deleting_the_last_admin_of_a_project_in_the_admin_is_refused(world: World):
    client = world.client("site_admin")
    ada = world.users["admin"]
    assert 'class="deletelink"' not in text(client.get(user_url("change", ada)))
    response = client.post(user_url("delete", ada), {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == user_url("change", ada)
    assert any("ada is the last admin of eu-de_alpha" in message for message in messages_of(response))
    assert Membership.objects.filter(user=ada).exists()
    sam = world.users["site_admin"]
    response = client.post(user_url("delete", sam), {"post": "yes"})
    assert "Not deleted: You cannot delete your own account." in messages_of(response)
    assert type(sam).objects.filter(pk=sam.pk).exists()


def test_deleting_an_account_in_the_admin_records_the_projects_it_leaves(world: World):
    mia = world.member.user
    response = world.client("site_admin").post(user_url("delete", mia), {"post": "yes"})
    assert response.status_code == 302
    assert not type(mia).objects.filter(username="mia").exists()
    event = AuditEvent.objects.get(action=Action.MEMBER_REMOVED)
    assert (event.actor, event.project, event.target) == (world.users["site_admin"], world.project, "mia")
    assert event.details == {"role": "viewer", "account_deleted": True}


def test_accounts_are_not_made_or_deleted_in_bulk_in_the_admin(world: World):
    client = world.client("site_admin")
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
    changelist = text(client.get(reverse("admin:auth_user_changelist")))
    assert "delete_selected" not in changelist
    ada = world.users["admin"]
    bulk_delete = {"action": "delete_selected", "_selected_action": [ada.pk], "post": "yes"}
    client.post(reverse("admin:auth_user_changelist"), bulk_delete)
    assert type(ada).objects.filter(pk=ada.pk).exists()


# --- memberships and cloud projects -------------------------------------------------------


def test_memberships_are_read_only_in_the_admin(world: World):
    client = world.client("site_admin")
    membership = world.member
    assert client.post(admin_url(Membership, "change", membership.pk), {"role": "admin"}).status_code == 403
    assert client.post(admin_url(Membership, "delete", membership.pk), {"post": "yes"}).status_code == 403
    assert Membership.objects.get(pk=membership.pk).role == "viewer"


def test_a_cloud_project_in_the_admin_shows_no_password_and_changes_only_its_name(world: World):
    client = world.client("site_admin")
    project = world.project
    page = text(client.get(admin_url(CloudProject, "change", project.pk)))
    assert "secret" not in page  # tests.factories: the stored IAM password
    assert "iam_password" not in page
    for field in ("iam_endpoint", "geminidb_endpoint", "iam_domain", "iam_user", "region", "project_id"):
        assert f'name="{field}"' not in page
    response = client.post(
        admin_url(CloudProject, "change", project.pk),
        {"name": "eu-de_renamed", "iam_endpoint": "https://attacker.example", "iam_user": "someone-else"},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.iam_endpoint, project.iam_user) == (
        "eu-de_renamed",
        "https://iam.example.test",
        "user",
    )
    assert client.post(admin_url(CloudProject, "delete", project.pk), {"post": "yes"}).status_code == 403
    assert CloudProject.objects.filter(pk=project.pk).exists()
