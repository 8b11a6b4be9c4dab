"""Which projects a person sees, and what the page header says about their roles there."""

from dataclasses import dataclass

from django.db.models import QuerySet

from access.models import CloudProject, Membership
from access.permissions import Action, projects_for, role_in


def visible_projects(user) -> QuerySet[CloudProject]:
    return projects_for(user, Action.VIEW).order_by("name")


def visible_project_list(user) -> list[CloudProject]:
    """`visible_projects`, loaded once per user object (so once per request, like the roles
    in `permissions`): the page, its filters and the header's role summary all need them."""
    projects = getattr(user, "_visible_project_list", None)
    if projects is None:
        projects = user._visible_project_list = list(visible_projects(user))
    return projects


def role_label(user, project: CloudProject | int) -> str:
    role = role_in(user, project)
    return Membership.Role(role).label if role else "None"


@dataclass(frozen=True)
class RoleSummary:
    """What the page header says about the user's roles: short text and the detail."""

    short: str
    detail: str


def role_summary(user) -> RoleSummary:
    # From the per-request project list and roles: no query of its own on the console's pages.
    rows = [(role_in(user, project), project.name) for project in visible_project_list(user)]
    if not rows:
        return RoleSummary("No project role", "You are not a member of any cloud project yet.")
    # Every visible project is one the user has a role in: no role here is None.
    labels = [Membership.Role(role).label for role, _ in rows]  # type: ignore[arg-type]
    detail = "; ".join(f"{label} in {name}" for label, (_, name) in zip(labels, rows, strict=True))
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
