"""Accounts: created by a project admin with an initial password, deactivated and
reactivated by site administrators, and a person's own password change."""

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from access.models import AuditEvent, CloudProject, InitialPassword, Membership
from access.services import audit
from access.services.team import Role, lock_team, member_add, other_active_admins


def account_create(
    *, username: str, email: str, first_name: str, last_name: str, initial_password: str, by, project=None
):
    """Create an account whose first sign-in must replace `initial_password`.

    Raises ValidationError (keyed by field) for a taken username or a weak password.
    """
    User = get_user_model()
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    password_validation.validate_password(initial_password, user)
    user.set_password(initial_password)
    try:
        with transaction.atomic():
            user.save()
            InitialPassword.objects.create(user=user, set_by=by)
            audit.record(
                AuditEvent.Action.ACCOUNT_CREATED,
                actor=by,
                project=project,
                target=username,
                target_user=user,
                details={"initial_password": True},
            )
    except IntegrityError:
        raise ValidationError({"username": f"The username {username} is taken."}, code="taken") from None
    return user


def member_add_new_account(
    *,
    project: CloudProject,
    role: str,
    by,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    initial_password: str,
) -> Membership:
    """Create an account with an initial password and give it a role in the project, together."""
    with transaction.atomic():
        user = account_create(
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            initial_password=initial_password,
            by=by,
            project=project,
        )
        return member_add(project=project, user=user, role=role, by=by)


def account_deactivate(*, user, by) -> None:
    """Stop an account from signing in (its sessions end too; memberships and history stay).

    Refused for one's own account and for the last active admin of any project.
    """
    if user.pk == by.pk:
        raise ValidationError("You cannot deactivate your own account.", code="self")
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
                f"{user.get_username()} is the last admin of {', '.join(sorted(orphaned))}. "
                "Make someone else admin there first.",
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


def account_password_change(*, user, password: str) -> None:
    """Set the person's own new password; an initial password an admin set is replaced by it."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        initial, _ = InitialPassword.objects.filter(user=user).delete()
        audit.record(
            AuditEvent.Action.PASSWORD_CHANGED,
            actor=user,
            target=user.get_username(),
            target_user=user,
            details={"replaced_initial_password": bool(initial)},
        )
