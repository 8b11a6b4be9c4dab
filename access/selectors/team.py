"""A project's team, as its admins see it on the Team page."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from access.models import CloudProject, Membership

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Role = Membership.Role
# Admins first, then operators and viewers.
_ORDER: dict[str, int] = {Role.ADMIN: 0, Role.OPERATOR: 1, Role.VIEWER: 2}
LAST_ADMIN_REASON = gettext_lazy(
    "The last admin of a project cannot be removed or demoted: make someone else admin first."
)


@dataclass
class MemberRow:
    membership: Membership
    # Why this member's role cannot be lowered and they cannot be removed, or None.
    last_admin_reason: "StrOrPromise | None"

    @property
    def user(self):
        return self.membership.user


def team_members(project: CloudProject) -> list[MemberRow]:
    """Admins first, then operators and viewers, by name. One query."""
    memberships = sorted(
        Membership.objects.filter(project=project).select_related("user", "user__proven_email"),
        key=lambda m: (_ORDER[m.role], (m.user.get_full_name() or m.user.username).lower()),
    )
    active_admins = [m for m in memberships if m.role == Role.ADMIN and m.user.is_active]
    return [MemberRow(m, LAST_ADMIN_REASON if active_admins == [m] else None) for m in memberships]


def team_membership(project: CloudProject, pk: int) -> Membership:
    """One membership of the project; 404 for an id of another project's member."""
    return get_object_or_404(Membership.objects.select_related("user", "project"), pk=pk, project=project)


def is_admin_of(user, project: CloudProject) -> bool:
    """Whether `user` is (still) an admin of the project, asked of the database, not the
    per-request role cache: after a change of their own role, the cache is stale."""
    return Membership.objects.filter(user=user, project=project, role=Role.ADMIN).exists()
