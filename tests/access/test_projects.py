"""Connecting a cloud project and rotating its credentials, proven against the simulator over
real HTTP: good credentials are shown what they found and then saved; a wrong password, an
unreachable endpoint or a wrong project save nothing and say what to fix. The stored password
never appears on a page, in the session, in the audit trail or in the log."""

import logging

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from access.models import AuditEvent, CloudProject, Membership
from access.services import projects as project_services
from backups.cloud import client_for_project
from backups.models import Instance
from backups.services.sync import instances_sync

from .conftest import HTMX, ROLES, World, text
from .test_matrix import EXPECTED, url_of

pytestmark = pytest.mark.django_db

CONNECT = reverse("access:project_connect")
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


@pytest.fixture
def cloud(simulator):
    simulator.add_instance("orders-db")
    simulator.add_instance("ledger-db", status="frozen")
    simulator.add_instance("not-cassandra", datastore_type="mongodb")
    return simulator


def connect_form(simulator, **changes) -> dict:
    form = {
        "name": "eu-de_demo",
        "region": "eu-de",
        "iam_endpoint": simulator.url,
        "geminidb_endpoint": simulator.url,
        "project_id": simulator.project_id,
        "iam_domain": simulator.domain,
        "iam_user": simulator.username,
        "password": simulator.password,
        "admin": "ada",
    }
    return form | changes


def saved_nothing(before: int):
    assert CloudProject.objects.count() == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PROJECT_CONNECTED).exists()


def test_connecting_checks_shows_what_it_found_then_saves(world: World, cloud, caplog):
    caplog.set_level(logging.DEBUG)
    client = world.client("site_admin")
    before = CloudProject.objects.count()
    check = client.post(CONNECT, connect_form(cloud))
    assert check.status_code == 200
    html = text(check)
    assert "The credentials work" in html
    assert "orders-db" in html
    assert "ledger-db" in html
    assert "Frozen" in html
    assert "not-cassandra" not in html
    assert cloud.password not in html
    saved_nothing(before)
    # Waiting for the confirmation, the password is in the session only encrypted.
    session = Session.objects.get(session_key=client.session.session_key)
    assert cloud.password not in str(session.get_decoded())

    response = client.post(CONNECT, {"confirm": "1"})
    assert response.status_code == 302
    project = CloudProject.objects.get(project_id=cloud.project_id)
    assert response["Location"] == reverse("access:team", args=[project.pk])
    assert project.iam_password == cloud.password
    assert Membership.objects.filter(project=project, user=world.users["admin"], role="admin").exists()
    assert sorted(Instance.objects.filter(project=project).values_list("name", flat=True)) == ["ledger-db", "orders-db"]
    team = text(client.get(response["Location"]))
    assert "eu-de_demo is connected, with 2 Cassandra instances. ada is its admin." in team
    connected = AuditEvent.objects.get(action=AuditEvent.Action.PROJECT_CONNECTED)
    assert (connected.actor, connected.project, connected.details["instances_found"]) == (
        world.users["site_admin"],
        project,
        2,
    )
    assert cloud.password not in str(list(AuditEvent.objects.values()))
    assert cloud.password not in caplog.text
    # The confirmation cannot be replayed.
    assert client.post(CONNECT, {"confirm": "1"}).status_code == 302
    assert CloudProject.objects.filter(project_id=cloud.project_id).count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "wrong-password"}, "IAM refused the sign-in (The username or password is wrong.)"),
        ({"iam_endpoint": UNREACHABLE}, f"No usable answer from the IAM endpoint {UNREACHABLE}"),
        ({"geminidb_endpoint": UNREACHABLE}, f"No usable answer from the GeminiDB endpoint {UNREACHABLE}"),
        ({"project_id": "0" * 32}, f"may access project {'0' * 32}"),
    ],
    ids=["wrong-password", "iam-unreachable", "geminidb-unreachable", "wrong-project"],
)
def test_credentials_that_do_not_work_save_nothing_and_say_why(world: World, cloud, changes, message):
    client = world.client("site_admin")
    before = CloudProject.objects.count()
    response = client.post(CONNECT, connect_form(cloud, **changes))
    assert response.status_code == 200
    html = text(response)
    assert message in html, html
    assert "Nothing was saved." in html
    assert 'name="password"' in html
    assert cloud.password not in html
    assert "wrong-password" not in html
    saved_nothing(before)
    assert "project_connect_pending" not in client.session


def test_an_already_connected_project_is_refused(world: World, cloud):
    response = world.client("site_admin").post(CONNECT, connect_form(cloud, project_id=world.project.project_id))
    assert "already connected, as eu-de_alpha" in text(response)


def test_confirming_without_a_check_connects_nothing(world: World):
    client = world.client("site_admin")
    response = client.post(CONNECT, {"confirm": "1"})
    assert response.status_code == 302
    assert "too old or was already used" in text(client.get(response["Location"]))


@pytest.fixture
def live_project(world: World, cloud) -> CloudProject:
    """Project A, connected to the simulator."""
    project = world.project
    project.iam_endpoint = project.geminidb_endpoint = cloud.url
    project.project_id, project.iam_domain = cloud.project_id, cloud.domain
    project.iam_user, project.iam_password = cloud.username, cloud.password
    project.save()
    return project


def credentials_url(project) -> str:
    return reverse("access:project_credentials", args=[project.pk])


def test_wrong_new_credentials_save_nothing(world: World, live_project, cloud):
    client = world.client("admin")
    response = client.post(
        credentials_url(live_project),
        {"iam_domain": cloud.domain, "iam_user": "someone-else", "password": "wrong-password"},
    )
    assert response.status_code == 200
    assert "IAM refused the sign-in" in text(response)
    live_project.refresh_from_db()
    assert (live_project.iam_user, live_project.iam_password) == (cloud.username, cloud.password)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREDENTIALS_CHANGED).exists()


def test_wrong_passwords_stop_before_iam_would_lock_the_user(world: World, live_project, cloud, settings):
    """IAM locks a user after a few wrong passwords: the console stops trying first, on both
    pages that try one; another IAM user's tries are counted apart."""
    settings.IAM_PASSWORD_TRIES_LIMIT = 3
    admin = world.client("admin")
    wrong = {"iam_domain": cloud.domain, "iam_user": cloud.username, "password": "wrong-password"}
    tokens_before = cloud.counters()["by_kind"]["token"]
    for _ in range(3):
        assert "IAM refused the sign-in" in text(admin.post(credentials_url(live_project), wrong))
    assert cloud.counters()["by_kind"]["token"] == tokens_before + 3

    page = text(admin.post(credentials_url(live_project), wrong))
    assert f"IAM refused 3 passwords for {cloud.domain}/{cloud.username} a short while ago." in page
    connect = connect_form(cloud, project_id="another-project", password="also-wrong")
    assert "IAM refused 3 passwords" in text(world.client("site_admin").post(CONNECT, connect))
    assert cloud.counters()["by_kind"]["token"] == tokens_before + 3  # IAM saw none of those

    other_user = {"iam_domain": cloud.domain, "iam_user": "someone-else", "password": "wrong-password"}
    assert "IAM refused the sign-in" in text(admin.post(credentials_url(live_project), other_user))


def test_rotating_credentials_proves_them_saves_and_drops_the_cached_token(world: World, live_project, cloud):
    instances_sync(project=live_project)  # caches a token, as the worker does
    key = client_for_project(live_project)._token_key
    assert cache.get(key) is not None
    assert project_services._token_cache_key(live_project) == key
    admin = world.client("admin")
    response = admin.post(
        credentials_url(live_project),
        {"iam_domain": cloud.domain, "iam_user": cloud.username, "password": cloud.password},
    )
    assert response.status_code == 302
    assert cache.get(key) is None
    page = text(admin.get(response["Location"]))
    assert "They work: the cloud listed 2 Cassandra instances." in page
    assert cloud.password not in page
    changed = AuditEvent.objects.get(action=AuditEvent.Action.CREDENTIALS_CHANGED)
    assert changed.actor == world.users["admin"]
    assert cloud.password not in str(changed.details)


def test_the_password_field_is_write_only(world: World, live_project, cloud):
    html = text(world.client("admin").get(credentials_url(live_project)))
    assert 'type="password" name="password"' in html
    assert cloud.password not in html
    assert f'value="{cloud.username}"' in html


def test_the_stored_password_appears_on_no_page(world: World):
    """Every page of the URL table, for every role, plain and htmx."""
    secret = "Stored-S3cret-Pw!"
    for project in (world.project, world.other_project):
        project.iam_password = secret
        project.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT iam_password FROM backups_cloudproject")
        assert all(secret not in row[0] for row in cursor.fetchall())
    for name, rules in EXPECTED.items():
        if "GET" not in rules:
            continue
        url = url_of(name, world)
        for role in ROLES:
            for extra in ({}, HTMX):
                body = text(world.client(role).get(url, **extra))
                assert secret not in body, (name, role)
                assert "Stored-S3cret-Pw&" not in body, (name, role)


def test_django_admin_cannot_connect_projects_or_change_roles(world: World):
    client = world.client("site_admin")
    assert client.get(reverse("admin:access_cloudproject_add")).status_code == 403
    change = client.get(reverse("admin:access_cloudproject_change", args=[world.project.pk]))
    assert change.status_code == 200
    assert 'name="iam_endpoint"' not in text(change)
    assert 'name="iam_password"' not in text(change)
    assert client.get(reverse("admin:access_membership_add")).status_code == 403
    response = client.post(reverse("admin:access_membership_change", args=[world.member.pk]), {"role": "admin"})
    assert response.status_code == 403
    assert Membership.objects.get(pk=world.member.pk).role == "viewer"
