"""Which projects a person sees, and what the page header says about their roles there."""

from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from access.models import CloudProject, Membership
from access.permissions import Action, narrow_to, projects_for, remember_roles, role_in

# Pages show projects; only the cloud client, which loads its project itself, needs the IAM
# password. Left out, it is neither read nor decrypted on every request.
PAGE_DEFERRED = ("iam_password",)


def visible_projects(user) -> QuerySet[CloudProject]:
    return projects_for(user, Action.VIEW).order_by("name").defer(*PAGE_DEFERRED)


def visible_project_list(user) -> list[CloudProject]:
    """`visible_projects`, loaded once per user object (so once per request, like the roles
    in `permissions`): the page, its filters and the header's role summary all need them.
    Loaded first, they bring the user's roles along in the same query."""
    projects = getattr(user, "_visible_project_list", None)
    if projects is None:
        projects = user._visible_project_list = _load_visible_projects(user)
    return projects


def _load_visible_projects(user) -> list[CloudProject]:
    if not user.is_authenticated or not user.is_active or hasattr(user, "_project_roles"):
        return list(visible_projects(user))
    # Every role may view, so the projects a person sees are those they are a member of
    # (a site administrator too: `projects_for`), each with their role there.
    with_roles = list(
        CloudProject.objects.filter(memberships__user=user)
        .defer(*PAGE_DEFERRED)
        .annotate(member_role=F("memberships__role"))
        .order_by("name")
    )
    remember_roles(user, {project.pk: project.member_role for project in with_roles})
    projects: list[CloudProject] = list(with_roles)
    return projects


def act_for_token(user, memberships: list[Membership], role: str) -> None:
    """Narrow `user` to an API token's scope (`permissions.narrow_to`): `memberships` are the
    owner's in the token's projects, with their projects loaded, so the request needs no
    further query for its roles or its visible projects."""
    remember_roles(user, {m.project_id: m.role for m in memberships})
    narrow_to(user, [m.project_id for m in memberships], role)
    user._visible_project_list = sorted(
        (m.project for m in memberships if role_in(user, m.project_id)), key=lambda project: project.name
    )


def role_label(user, project: CloudProject | int) -> str:
    role = role_in(user, project)
    return str(Membership.Role(role).label) if role else pgettext("role in a project", "None")


@dataclass(frozen=True)
class RoleSummary:
    """What the page header says about the user's roles: short text and the detail."""

    short: str
    detail: str


def role_summary(user) -> RoleSummary:
    # From the per-request project list and roles: no query of its own on the console's pages.
    rows = [(role_in(user, project), project.name) for project in visible_project_list(user)]
    if not rows:
        return RoleSummary(_("No project role"), _("You are not a member of any cloud project yet."))
    # Every visible project is one the user has a role in: no role here is None.
    labels = [str(Membership.Role(role).label) for role, _name in rows]  # type: ignore[arg-type]
    detail = "; ".join(
        _("%(role)s in %(project)s") % {"role": label, "project": name}
        for label, (_role, name) in zip(labels, rows, strict=True)
    )
    distinct = sorted(set(labels), key=labels.index)
    return RoleSummary(", ".join(distinct), detail)


@dataclass(frozen=True)
class ProjectRow:
    project: CloudProject
    members: int
    admins: list[str]


def administered_projects(user) -> list[ProjectRow]:
    """The projects the user administers (all of them for a site administrator), each with
    its number of members and its admins. Two queries."""
    projects = list(projects_for(user, Action.MANAGE).order_by("name"))
    members: dict[int, list[Membership]] = {project.pk: [] for project in projects}
    for membership in Membership.objects.filter(project__in=projects).select_related("user"):
        members[membership.project_id].append(membership)
    return [
        ProjectRow(
            project=project,
            members=len(members[project.pk]),
            admins=sorted(m.user.username for m in members[project.pk] if m.role == Membership.Role.ADMIN),
        )
        for project in projects
    ]
