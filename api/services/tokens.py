"""Personal access tokens: made by their owner (or `manage.py create_api_token`), shown once,
stored as a hash, revoked at will. Both are audited in each project of the token's scope.
Authenticating a request with one is `authenticate`, called by the API's auth (api/auth.py)."""

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import AuditEvent, CloudProject
from access.permissions import Action, user_can
from access.services import audit
from api.models import ApiToken

# Recognisable in a leaked log or a secret scanner's rules.
TOKEN_PREFIX = "gdbc_"  # noqa: S105 - a prefix, not a secret
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
NAME_MAX_LENGTH = 100
MAX_EXPIRY_DAYS = 366 * 2
# last_used_at is written when it is older than this: one write a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_ACTION: dict[str, Action] = {ApiToken.Role.VIEWER: Action.VIEW, ApiToken.Role.OPERATOR: Action.BACKUP}


def validate_token_request(*, user, name: str, role: str, projects: list[CloudProject], expires_in_days: int | None):
    """Raise a ValidationError keyed by field for everything wrong with this token request."""
    errors: dict[str, list[ValidationError]] = {}
    if not name.strip():
        errors["name"] = [ValidationError(_("Give the token a name that says where it is used."), code="required")]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [
            ValidationError(_("At most %(limit)s characters.") % {"limit": NAME_MAX_LENGTH}, code="length")
        ]
    if role not in ApiToken.Role.values:
        errors["role"] = [ValidationError(_("Choose Viewer or Operator."), code="invalid")]
    if not projects:
        errors["projects"] = [ValidationError(_("Choose at least one project."), code="required")]
    elif role in ApiToken.Role.values:
        beyond = [p.name for p in projects if not user_can(user, _ACTION[role], p)]
        if beyond:
            errors["projects"] = [
                ValidationError(
                    _("A token cannot do more than you: your role in %(projects)s is lower than %(role)s."),
                    code="role",
                    params={"projects": ", ".join(beyond), "role": ApiToken.Role(role).label},
                )
            ]
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = [
            ValidationError(_("Between 1 and %(limit)s days, or no expiry.") % {"limit": MAX_EXPIRY_DAYS}, code="range")
        ]
    if errors:
        raise ValidationError(errors)


def token_create(
    *, user, name: str, role: str, projects: list[CloudProject], expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Make a token for `user`; answers the token and its secret, which is never stored."""
    validate_token_request(user=user, name=name, role=role, projects=projects, expires_in_days=expires_in_days)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            token_hash=ApiToken.hash(secret),
            prefix=secret[:SHOWN_PREFIX_LENGTH],
            role=role,
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        token.projects.set(projects)
        _audit(AuditEvent.Action.TOKEN_CREATED, token, actor=user, projects=projects)
    return token, secret


def token_revoke(*, token: ApiToken, by) -> bool:
    """Revoke the token at once; False if it was revoked already."""
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
        if revoked:
            _audit(AuditEvent.Action.TOKEN_REVOKED, token, actor=by, projects=list(token.projects.all()))
    return bool(revoked)


def _audit(action: str, token: ApiToken, *, actor, projects: list[CloudProject]) -> None:
    details = {
        "token": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "role": token.role,
        "owner": token.user.get_username(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }
    for project in projects:
        audit.record(action, actor=actor, project=project, target=f"{token.name} ({token.prefix}…)", details=details)


class TokenRefused(Exception):
    """The token does not authenticate; the message says why, without revealing whose it is."""


def authenticate(secret: str, now: datetime | None = None) -> ApiToken:
    """The usable token whose secret this is, with its owner loaded and narrowed to its scope."""
    now = now or timezone.now()
    token = ApiToken.objects.select_related("user").filter(token_hash=ApiToken.hash(secret)).first()
    if token is None or token.revoked_at is not None:
        raise TokenRefused("The token is not valid: it is mistyped, revoked, or its owner was removed.")
    if token.is_expired(now):
        raise TokenRefused("The token has expired. Make a new one on your API tokens page.")
    if not token.user.is_active:
        raise TokenRefused("The token's owner is deactivated.")
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
