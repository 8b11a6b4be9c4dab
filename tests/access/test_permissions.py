"""A role holds in its own project only. Someone who is Operator in one project and Viewer in
another must not act as Operator in the second: not in `user_can` and `projects_for`, not on
the instances page, not through the create-backup form, not in the `{% can %}` tag nor on the
pages that use it, not when refreshing from the cloud. Each layer is checked on its own, both
ways round (the stronger role in the first project or in the second), so a leak in any one
place fails several tests."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, CloudProject, Membership
from access.permissions import Action, projects_for, role_in, user_can
from backups.models import Backup, Instance
from backups.selectors.instances import instances_page
from tests.factories import BackupFactory, InstanceFactory, MembershipFactory, UserFactory

from .conftest import HTMX, World, text

pytestmark = pytest.mark.django_db

Role = Membership.Role
REFUSED = "Creating backups and refreshing from the cloud need the Operator or Admin role."
VIEWER_REASON = "Your role (Viewer) cannot create backups."


@dataclass
class Split:
    """Dana: Operator in `strong`, Viewer in `weak`; an idle instance with an old backup in each."""

    user: AbstractUser
    strong: CloudProject
    weak: CloudProject
    strong_instance: Instance
    weak_instance: Instance
    strong_backup: Backup
    weak_backup: Backup

    def fresh_user(self) -> AbstractUser:
        """The user as a new request loads it: no roles cached on the object yet."""
        return get_user_model().objects.get(pk=self.user.pk)


@pytest.fixture(params=["operator-in-A", "operator-in-B"])
def split(request, world: World) -> Split:
    """Memberships are made in A then B either way, so neither a first nor a last role can win."""
    a, b = world.project, world.other_project
    strong, weak = (a, b) if request.param == "operator-in-A" else (b, a)
    dana = UserFactory(username="dana", first_name="Dana", last_name="Double")
    MembershipFactory(user=dana, project=a, role=Role.OPERATOR if strong == a else Role.VIEWER)
    MembershipFactory(user=dana, project=b, role=Role.OPERATOR if strong == b else Role.VIEWER)
    instances, backups = {}, {}
    for project, name in ((a, "alpha-idle"), (b, "bravo-idle")):
        instances[project.pk] = InstanceFactory(project=project, name=name)
        # Ten days old: the instance is idle (nothing active) and stale on the overview.
        backups[project.pk] = BackupFactory(
            instance=instances[project.pk],
            name=f"{name}-old",
            requested_at=timezone.now() - timedelta(days=10),
        )
    return Split(
        user=dana,
        strong=strong,
        weak=weak,
        strong_instance=instances[strong.pk],
        weak_instance=instances[weak.pk],
        strong_backup=backups[strong.pk],
        weak_backup=backups[weak.pk],
    )


def client_for(split: Split) -> Client:
    client = Client()
    client.force_login(split.user)
    return client


def create_url(instance) -> str:
    return reverse("backups:backup_create", args=[instance.pk])


# access.permissions: the one function, and the project lists built on the same rule.


def test_user_can_answers_for_the_project_asked_about(split):
    user = split.fresh_user()
    assert user_can(user, Action.BACKUP, split.strong) is True
    assert user_can(user, Action.BACKUP, split.weak) is False
    assert user_can(user, Action.BACKUP, split.weak.pk) is False  # by primary key, as views ask
    assert user_can(user, Action.BACKUP, split.strong.pk) is True
    for project in (split.strong, split.weak):
        assert user_can(user, Action.VIEW, project) is True
        assert user_can(user, Action.MANAGE, project) is False
        assert user_can(user, Action.AUDIT, project) is False
    # "Somewhere": in the project where they are Operator.
    assert user_can(user, Action.BACKUP) is True
    assert user_can(user, Action.MANAGE) is False


def test_the_answer_does_not_depend_on_which_project_was_asked_first(split):
    # Roles are cached on the user object for the request: asking about the strong project
    # first must not colour the answer about the weak one, nor the other way round.
    first = split.fresh_user()
    assert user_can(first, Action.BACKUP, split.strong) is True
    assert user_can(first, Action.BACKUP, split.weak) is False
    second = split.fresh_user()
    assert user_can(second, Action.BACKUP, split.weak) is False
    assert user_can(second, Action.BACKUP, split.strong) is True


def test_role_in_is_the_role_of_that_project(split):
    user = split.fresh_user()
    assert role_in(user, split.strong) == Role.OPERATOR
    assert role_in(user, split.weak) == Role.VIEWER
    assert role_in(user, split.weak.pk) == Role.VIEWER


def test_projects_for_lists_the_projects_where_the_role_allows_it(split):
    user = split.fresh_user()
    assert list(projects_for(user, Action.BACKUP)) == [split.strong]
    assert set(projects_for(user, Action.VIEW)) == {split.strong, split.weak}
    assert list(projects_for(user, Action.MANAGE)) == []
    assert list(projects_for(user, Action.AUDIT)) == []


# The pages and the form.


def test_instances_selector_gives_the_viewer_projects_rows_the_role_reason(split):
    page = instances_page(split.fresh_user())
    groups = {group.project.pk: group for group in page.groups}
    assert (groups[split.strong.pk].role, groups[split.strong.pk].can_backup) == ("Operator", True)
    assert (groups[split.weak.pk].role, groups[split.weak.pk].can_backup) == ("Viewer", False)
    blockers = {row.instance.pk: row.blocker for group in page.groups for row in group.rows}
    assert blockers[split.strong_instance.pk] is None
    assert blockers[split.weak_instance.pk] == VIEWER_REASON


def test_instances_page_enables_create_only_where_the_user_is_operator(split):
    response = client_for(split).get(reverse("backups:instances"))
    assert response.status_code == 200
    groups = {group.project.pk: group for group in response.context["groups"]}
    assert groups[split.strong.pk].can_backup is True
    assert groups[split.weak.pk].can_backup is False
    rows = {row.instance.pk: row for group in groups.values() for row in group.rows}
    assert rows[split.strong_instance.pk].blocker is None
    assert rows[split.weak_instance.pk].blocker == VIEWER_REASON

    html = text(response)
    strong_row = row_html(html, split.strong_instance)
    weak_row = row_html(html, split.weak_instance)
    assert f'href="{create_url(split.strong_instance)}"' in strong_row
    assert "disabled" not in strong_row
    assert f'disabled aria-describedby="why-{split.weak_instance.pk}"' in weak_row
    assert VIEWER_REASON in weak_row
    assert create_url(split.weak_instance) not in html


def row_html(html: str, instance: Instance) -> str:
    """The instances table's row of `instance` (rows start with <tr> and name it first)."""
    rows = [row for row in html.split("<tr>") if f'<span class="strong">{instance.name}</span>' in row]
    assert len(rows) == 1, f"{instance.name} is listed {len(rows)} times"
    return rows[0].split("</tr>")[0]


@pytest.mark.parametrize("extra", [{}, HTMX], ids=["page", "htmx"])
def test_create_backup_in_the_viewer_project_is_refused_and_stores_nothing(split, extra):
    client = client_for(split)
    url = create_url(split.weak_instance)
    before = Backup.objects.count()
    assert client.get(url, **extra).status_code == 403
    response = client.post(url, {"name": "leaked-backup", "description": "should not be"}, **extra)
    assert response.status_code == 403
    if not extra:
        assert REFUSED in text(response)
    validate = reverse("backups:backup_validate", args=[split.weak_instance.pk]) + "?field=name"
    assert client.post(validate, {"name": "leaked-backup"}, **HTMX).status_code == 403
    assert Backup.objects.count() == before
    assert not Backup.objects.filter(name="leaked-backup").exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.BACKUP_REQUESTED).exists()


def test_create_backup_in_the_operator_project_goes_through(split, published):
    # The other half: the same person, the same form, the project where they are Operator.
    response = client_for(split).post(create_url(split.strong_instance), {"name": "allowed-one", "description": "ok"})
    assert response.status_code == 302
    assert Backup.objects.get(name="allowed-one").instance == split.strong_instance


def test_refresh_syncs_only_the_project_where_the_user_is_operator(
    split, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the sync is published after commit
        response = client_for(split).post(reverse("backups:instances_refresh"))
    assert response.status_code == 302
    assert published == [split.strong.pk]
    requested = dict(CloudProject.objects.values_list("pk", "sync_requested_at"))
    assert requested[split.strong.pk] is not None
    assert requested[split.weak.pk] is None


# The {% can %} tag, and the pages that ask it.


def test_can_tag_answers_for_each_project(split):
    template = Template(
        '{% load console %}{% can "backup" strong as strong_ok %}{% can "backup" weak as weak_ok %}'
        '{% can "view" weak as weak_view %}{% can "backup" weak_pk as weak_pk_ok %}'
        "{{ strong_ok }} {{ weak_ok }} {{ weak_view }} {{ weak_pk_ok }}"
    )
    context = Context(
        {"user": split.fresh_user(), "strong": split.strong, "weak": split.weak, "weak_pk": split.weak.pk}
    )
    assert template.render(context) == "True False True False"


def test_backup_detail_offers_back_up_again_only_where_the_user_is_operator(split):
    client = client_for(split)
    strong = client.get(reverse("backups:backup_detail", args=[split.strong_backup.pk]))
    weak = client.get(reverse("backups:backup_detail", args=[split.weak_backup.pk]))
    assert strong.status_code == weak.status_code == 200
    assert f"Back up {split.strong_instance.name} again" in text(strong)
    assert f'href="{create_url(split.strong_instance)}"' in text(strong)
    assert "again</a>" not in text(weak)
    assert create_url(split.weak_instance) not in text(weak)


def test_overview_offers_create_only_where_the_user_is_operator(split):
    html = text(client_for(split).get(reverse("backups:overview")))
    # Both idle instances are listed as without a recent success; only one may be backed up here.
    assert split.strong_instance.name in html
    assert split.weak_instance.name in html
    assert f'href="{create_url(split.strong_instance)}"' in html
    assert create_url(split.weak_instance) not in html
    assert f"{reverse('backups:history')}?instance={split.weak_instance.pk}" in html
