"""What a site administrator does to accounts in Django's admin, under the console's rules.

Deactivating and reactivating go through `accounts.account_deactivate/account_reactivate`
(access/admin.py calls them). Here are the two things the console itself has no page for:
deleting an account, which must not leave a project without an active admin and leaves each
project's trail saying the person went, and a password an administrator set, which the trail
records as such.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access.models import AuditEvent, Membership
from access.services import audit
from access.services.team import Role, lock_team, other_active_admins


def projects_only_administered_by(user) -> list[str]:
    """Names of the projects whose only active admin is `user`, sorted."""
    return sorted(
        membership.project.name
        for membership in Membership.objects.filter(user=user, role=Role.ADMIN).select_related("project")
        if not other_active_admins(membership.project_id, user.pk)
    )


def account_delete_refusal(*, user, by) -> str:
    """Why `by` may not delete `user`, in a sentence; empty when they may."""
    if user.pk == by.pk:
        return _("You cannot delete your own account.")
    orphaned = projects_only_administered_by(user)
    if orphaned:
        return _("%(user)s is the last admin of %(projects)s. Make someone else admin there first.") % {
            "user": user.get_username(),
            "projects": ", ".join(orphaned),
        }
    return ""


def account_delete(*, user, by) -> None:
    """Delete an account and its memberships, recording each project it leaves.

    Refused for one's own account and for the last active admin of any project, the rule the
    team page and deactivation keep. Backups it requested and its audit trail stay.
    """
    with transaction.atomic():
        memberships = list(Membership.objects.filter(user=user).select_related("project").order_by("project_id"))
        for membership in memberships:  # in id order, so two of these never wait on each other
            if membership.role == Role.ADMIN:
                lock_team(membership.project_id)
        refusal = account_delete_refusal(user=user, by=by)
        if refusal:
            raise ValidationError(refusal, code="refused")
        for membership in memberships:
            audit.record(
                AuditEvent.Action.MEMBER_REMOVED,
                actor=by,
                project=membership.project,
                target=user.get_username(),
                target_user=user,
                details={"role": membership.role, "account_deleted": True},
            )
        user.delete()


def account_password_set_by_admin(*, user, by) -> AuditEvent:
    """Record that a site administrator set (or disabled) `user`'s password in Django's admin.

    Called in the transaction that saved the password; the password itself is not recorded.
    """
    return audit.record(
        AuditEvent.Action.PASSWORD_CHANGED,
        actor=by,
        target=user.get_username(),
        target_user=user,
        details={"set_by_administrator": True, "usable": user.has_usable_password()},
    )
