"""Accounts: deactivated and reactivated by site administrators, and a person's own password
change. Accounts come into being by invitation (`invitations.py`), never with a password
someone else chose."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from access.models import AuditEvent, Membership
from access.services import audit
from access.services.team import Role, lock_team, other_active_admins


def account_deactivate(*, user, by) -> None:
    """Stop an account from signing in (its sessions end too; memberships and history stay).

    Refused for one's own account and for the last active admin of any project.
    """
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate your own account."), code="self")
    with transaction.atomic():
        admin_of = list(
            Membership.objects.filter(user=user, role=Role.ADMIN)
            .order_by("project_id")
            .values_list("project_id", flat=True)
        )
        for project_id in admin_of:  # in id order, so two of these never wait on each other
            lock_team(project_id)
        orphaned = [
            membership.project.name
            for membership in Membership.objects.filter(user=user, role=Role.ADMIN).select_related("project")
            if not other_active_admins(membership.project_id, user.pk)
        ]
        if orphaned:
            raise ValidationError(
                _("%(user)s is the last admin of %(projects)s. Make someone else admin there first.")
                % {"user": user.get_username(), "projects": ", ".join(sorted(orphaned))},
                code="last_admin",
            )
        updated = type(user).objects.filter(pk=user.pk, is_active=True).update(is_active=False)
        if updated:
            audit.record(AuditEvent.Action.ACCOUNT_DEACTIVATED, actor=by, target=user.get_username(), target_user=user)
    user.is_active = False


def account_reactivate(*, user, by) -> None:
    """Let a deactivated account sign in again, with the roles it had."""
    with transaction.atomic():
        if type(user).objects.filter(pk=user.pk, is_active=False).update(is_active=True):
            audit.record(AuditEvent.Action.ACCOUNT_REACTIVATED, actor=by, target=user.get_username(), target_user=user)
    user.is_active = True


@sensitive_variables()  # and every frame below: the hashers hold the raw password
def account_password_change(*, user, password: str) -> None:
    """Set the person's own new password."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(AuditEvent.Action.PASSWORD_CHANGED, actor=user, target=user.get_username(), target_user=user)
