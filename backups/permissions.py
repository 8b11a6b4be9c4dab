"""Who may do what: one function decides, and views, selectors and templates all ask it.

Roles are per cloud project (Membership). Outsiders of a project get 404 from views, so
the existence of another team's instances and backups is not revealed; members whose
role is too low get 403.
"""

from enum import Enum

from django.db.models import QuerySet

from .models import CloudProject, Membership

Role = Membership.Role


class Action(Enum):
    VIEW = "view"  # instances, history, backup detail, CSV export
    BACKUP = "backup"  # request backups, refresh instances from the cloud
    MANAGE = "manage"  # members, roles, the project's cloud credentials


# The least role each action needs; roles are ordered viewer < operator < admin.
_RANK = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}
_NEEDS = {Action.VIEW: Role.VIEWER, Action.BACKUP: Role.OPERATOR, Action.MANAGE: Role.ADMIN}


def role_in(user, project: CloudProject) -> str | None:
    """The user's role in the project, or None for outsiders. Cached per request object."""
    if not user.is_authenticated or not user.is_active:
        return None
    roles = getattr(user, "_project_roles", None)
    if roles is None:
        roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
        user._project_roles = roles
    return roles.get(project.pk if isinstance(project, CloudProject) else project)


def user_can(user, action: Action, project: CloudProject | int) -> bool:
    """Whether `user` may perform `action` in `project` (a project or its primary key)."""
    role = role_in(user, project)
    return role is not None and _RANK[role] >= _RANK[_NEEDS[action]]


def projects_for(user, action: Action = Action.VIEW) -> QuerySet[CloudProject]:
    """The projects in which the user may perform `action`, in one query."""
    if not user.is_authenticated or not user.is_active:
        return CloudProject.objects.none()
    allowed = [role for role, rank in _RANK.items() if rank >= _RANK[_NEEDS[action]]]
    return CloudProject.objects.filter(memberships__user=user, memberships__role__in=allowed)
