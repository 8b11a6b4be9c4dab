"""Who may do what: one function decides, and views, selectors and templates all ask it.

Roles are per cloud project (Membership). Outsiders of a project get 404 from views, so
the existence of another team's instances and backups is not revealed; members whose
role is too low get 403.

Site administrators (active superusers) connect new projects, deactivate accounts and read
the whole audit trail. They also reach the team and credentials of every project, so a
project whose admins are gone can be given a new one; they see a project's instances and
backups only as its members, like everyone else.

The sign-in backend is `backends.py`. People come into a project by invitation
(`services/invitations.py`), or are added by an admin if they have an account already.
"""

from enum import Enum

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import CloudProject, Membership

Role = Membership.Role


class Action(Enum):
    VIEW = "view"  # instances, history, backup detail, CSV export
    BACKUP = "backup"  # request backups, refresh instances from the cloud
    MANAGE = "manage"  # members, roles, the project's cloud credentials
    RESTORE = "restore"  # restore a backup to a new (billable) instance, rehearse restores
    AUDIT = "audit"  # the project's audit trail
    # Site-wide: site administrators only, never tied to a project.
    CONNECT = "connect"  # connect a new cloud project
    DEACTIVATE = "deactivate"  # deactivate or reactivate a person's account


SITE_ACTIONS = frozenset({Action.CONNECT, Action.DEACTIVATE})

# The least role each project action needs; roles are ordered viewer < operator < admin.
_RANK: dict[str, int] = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}
_NEEDS = {
    Action.VIEW: Role.VIEWER,
    Action.BACKUP: Role.OPERATOR,
    Action.MANAGE: Role.ADMIN,
    Action.RESTORE: Role.ADMIN,
    Action.AUDIT: Role.ADMIN,
}
# What a site administrator may do in a project without being its member: look after its team.
_SITE_ADMIN_REACH = frozenset({Action.MANAGE, Action.AUDIT})


def is_site_admin(user) -> bool:
    # A token acts in its projects only: it never carries its owner's site-wide powers.
    return user.is_authenticated and user.is_active and user.is_superuser and not _is_narrowed(user)


def _is_narrowed(user) -> bool:
    return getattr(user, "_narrowed", False)


def _roles(user) -> dict[int, str]:
    """The user's roles by project id, loaded once per user object (so once per request)."""
    roles = getattr(user, "_project_roles", None)
    if roles is None:
        roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
        user._project_roles = roles
    return roles


def remember_roles(user, roles: dict[int, str]) -> None:
    """Give `user` its roles by project id, read by a query that loaded them anyway (the
    visible projects, a token's scope): one query fewer per request. Roles already loaded win."""
    if getattr(user, "_project_roles", None) is None:
        user._project_roles = roles


def role_in(user, project: CloudProject | int) -> str | None:
    """The user's role in the project, or None for outsiders. Cached per request object."""
    if not user.is_authenticated or not user.is_active:
        return None
    return _roles(user).get(project.pk if isinstance(project, CloudProject) else project)


def narrow_to(user, projects, role: str) -> None:
    """Let `user` act, for the rest of this request, only in `projects` (primary keys) and at
    no more than `role` there: an API token's scope. Where the owner's own role is lower, or
    gone, that is what counts: a token never does more than its owner may do today.
    Every check below (`user_can`, `projects_for` and the selectors built on them) then
    answers for the token."""
    own = _roles(user)
    user._project_roles = {pk: min(own[pk], role, key=_RANK.__getitem__) for pk in projects if pk in own}
    user._narrowed = True


def _rank_allows(role: str | None, action: Action) -> bool:
    return role is not None and _RANK[role] >= _RANK[_NEEDS[action]]


def user_can(user, action: Action, project: CloudProject | int | None = None) -> bool:
    """Whether `user` may perform `action` in `project` (a project or its primary key).

    Without a project, whether they may perform it somewhere: in at least one project, or
    site-wide. Site actions (connect, deactivate) never take a project.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if action in SITE_ACTIONS:
        return is_site_admin(user)
    if action in _SITE_ADMIN_REACH and is_site_admin(user):
        return True
    if project is None:
        return any(_rank_allows(role, action) for role in _roles(user).values())
    return _rank_allows(role_in(user, project), action)


def projects_for(user, action: Action = Action.VIEW) -> QuerySet[CloudProject]:
    """The projects in which the user may perform `action`, in one query."""
    if not user.is_authenticated or not user.is_active:
        return CloudProject.objects.none()
    if action in SITE_ACTIONS:
        raise ValueError(f"{action} is not done in a project")
    if action in _SITE_ADMIN_REACH and is_site_admin(user):
        return CloudProject.objects.all()
    if _is_narrowed(user):
        allowed_in = [pk for pk, role in _roles(user).items() if _rank_allows(role, action)]
        return CloudProject.objects.filter(pk__in=allowed_in)
    allowed = [role for role, rank in _RANK.items() if rank >= _RANK[_NEEDS[action]]]
    return CloudProject.objects.filter(memberships__user=user, memberships__role__in=allowed)


def project_for(user, pk: int) -> CloudProject:
    """A project the user belongs to (any project for a site administrator); 404 for anyone else.

    What they may do in it is the caller's next question (`user_can`): a viewer asking for the
    team page of their own project gets 403, an outsider never learns the project exists.
    """
    if not is_site_admin(user) and role_in(user, pk) is None:
        raise Http404("No such project.")
    return get_object_or_404(CloudProject, pk=pk)
