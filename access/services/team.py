"""A project's team: who is in it and with which role. The last active admin of a project
can be neither demoted nor removed, under a lock, so two admins demoting each other at the
same moment cannot both succeed."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from access.models import AuditEvent, CloudProject, Membership
from access.services import audit

Role = Membership.Role


def lock_team(project_id: int) -> None:
    """Serialise changes to one project's team until the transaction ends.

    Two admins demoting each other at the same moment must not both see "another admin is
    left". On PostgreSQL the project row is locked; SQLite takes its write lock at BEGIN
    (settings: transaction_mode IMMEDIATE), which serialises the whole transaction anyway.
    """
    list(CloudProject.objects.select_for_update().filter(pk=project_id).values_list("pk", flat=True))


def other_active_admins(project_id: int, user_id: int) -> int:
    return (
        Membership.objects.filter(project_id=project_id, role=Role.ADMIN, user__is_active=True)
        .exclude(user_id=user_id)
        .count()
    )


def _last_admin_error(membership: Membership, *, removing: bool) -> ValidationError:
    names = {"user": membership.user.get_username(), "project": membership.project.name}
    if removing:
        message = _("%(user)s is the last admin of %(project)s and cannot be removed. Make someone else admin first.")
    else:
        message = _("%(user)s is the last admin of %(project)s and cannot be demoted. Make someone else admin first.")
    return ValidationError(message % names, code="last_admin")


def member_add(*, project: CloudProject, user, role: str, by) -> Membership:
    """Give an existing, active account a role in the project.

    Raises ValidationError if the account is deactivated or already a member.
    """
    if not user.is_active:
        raise ValidationError(
            _("The account %(user)s is deactivated; a site administrator can reactivate it.")
            % {"user": user.get_username()},
            code="inactive",
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, project=project, role=role)
            audit.record(
                AuditEvent.Action.MEMBER_ADDED,
                actor=by,
                project=project,
                target=user.get_username(),
                target_user=user,
                details={"role": role},
            )
    except IntegrityError:
        current = Membership.objects.filter(user=user, project=project).first()
        label = current.get_role_display() if current else _("a member")
        raise ValidationError(
            _("%(user)s is already a member of %(project)s (%(role)s). Change their role in the list.")
            % {"user": user.get_username(), "project": project.name, "role": label},
            code="already_member",
        ) from None
    return membership


def member_role_change(*, membership: Membership, role: str, by) -> Membership:
    """Change a member's role. The last active admin of a project cannot be demoted."""
    if role not in Role.values:
        raise ValidationError(_("Unknown role %(role)r.") % {"role": role}, code="invalid")
    with transaction.atomic():
        lock_team(membership.project_id)
        current = Membership.objects.select_related("user", "project").filter(pk=membership.pk).first()
        if current is None:
            raise ValidationError(_("This person is no longer a member of the project."), code="gone")
        if current.role == role:
            return current
        if current.role == Role.ADMIN and not other_active_admins(current.project_id, current.user_id):
            raise _last_admin_error(current, removing=False)
        previous = current.role
        Membership.objects.filter(pk=current.pk).update(role=role)
        current.role = role
        audit.record(
            AuditEvent.Action.ROLE_CHANGED,
            actor=by,
            project=current.project,
            target=current.user.get_username(),
            target_user=current.user,
            details={"from": previous, "to": role},
        )
    return current


def member_remove(*, membership: Membership, by) -> None:
    """Take a person out of a project (their account stays). Not its last active admin."""
    with transaction.atomic():
        lock_team(membership.project_id)
        current = Membership.objects.select_related("user", "project").filter(pk=membership.pk).first()
        if current is None:
            return  # already removed, by someone else or an earlier click
        if current.role == Role.ADMIN and not other_active_admins(current.project_id, current.user_id):
            raise _last_admin_error(current, removing=True)
        current.delete()
        audit.record(
            AuditEvent.Action.MEMBER_REMOVED,
            actor=by,
            project=current.project,
            target=current.user.get_username(),
            target_user=current.user,
            details={"role": current.role},
        )
