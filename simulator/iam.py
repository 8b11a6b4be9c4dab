"""POST /v3/auth/tokens: password authentication, as in
iam_obtaining_a_user_token_through_password_authentication.rst."""

from __future__ import annotations

import secrets
from typing import Any

from .messages import Request, Response
from .timefmt import iam_time
from .world import IamUser, Project, Token, World

# IAM is Keystone-based and answers its own errors in Keystone's shape, not the DBS one.
# The page lists the statuses (400, 401, ...) but shows no error body; this is Keystone's.
_TITLES = {400: "Bad Request", 401: "Unauthorized"}

# Real tokens are long opaque PKI blobs that start like this (the page's example header).
_TOKEN_PREFIX = "MIIDkgYJKoZIhvcNAQcC"  # noqa: S105 - a fixed prefix, not a credential


def _iam_error(status: int, message: str) -> Response:
    return Response(status, {"error": {"code": status, "title": _TITLES[status], "message": message}})


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def issue_token(world: World, request: Request) -> Response:
    """Check the password, then answer 201 with the token in X-Subject-Token and its details."""
    try:
        body = request.json()
    except ValueError:
        return _iam_error(400, "The request body is not valid JSON.")
    identity = _dig(body, "auth", "identity")
    user = _dig(identity, "password", "user")
    if not isinstance(identity, dict) or "password" not in (identity.get("methods") or []):
        return _iam_error(400, "Expecting to find password in identity.methods.")
    if not isinstance(user, dict) or not isinstance(_dig(user, "domain"), dict):
        return _iam_error(400, "Expecting to find user name, password and domain in identity.")

    account = world.account
    domain = user["domain"]
    domain_matches = domain.get("name") == account.domain_name or domain.get("id") == account.domain_id
    found = _user(world, name=user.get("name"), id=user.get("id"))
    if not (domain_matches and found and user.get("password") == found.password):
        return _iam_error(401, "The username or password is wrong.")

    project: Project | None = None
    wanted = _dig(body, "auth", "scope", "project")
    if wanted is not None:
        project = _project(world, found, id=_dig(wanted, "id"), name=_dig(wanted, "name"))
        if project is None:
            return _iam_error(401, "The user has no access to the requested project.")

    now = world.now()
    token = Token(
        value=_TOKEN_PREFIX + secrets.token_urlsafe(96),
        user_id=found.id,
        project_id=project.id if project else None,
        issued_at=now,
        expires_at=now + world.config.token_ttl,
    )
    world.tokens[token.value] = token
    return Response(
        201,
        {"token": _token_body(world, request, token, found, project)},
        headers={"X-Subject-Token": token.value},
    )


def _user(world: World, *, name: Any, id: Any) -> IamUser | None:
    """The domain's user with this name or id."""
    return next((user for user in world.users.values() if name == user.name or id == user.id), None)


def _project(world: World, user: IamUser, *, id: Any, name: Any) -> Project | None:
    """The project with this id or name, if ``user`` has a role in it."""
    return next(
        (p for p in world.projects.values() if p.id in user.project_ids and (id == p.id or name == p.name)),
        None,
    )


def _token_body(world: World, request: Request, token: Token, user: IamUser, project: Project | None) -> dict:
    account = world.account
    domain = {"id": account.domain_id, "name": account.domain_name}
    body: dict[str, Any] = {
        "methods": ["password"],
        "expires_at": iam_time(token.expires_at),
        "issued_at": iam_time(token.issued_at),
        "user": {
            "domain": domain,
            "id": user.id,
            "name": user.name,
            # null: the password never expires (Table 10, token.user).
            "password_expires_at": None,
        },
        "roles": [{"name": "te_admin", "id": "0"}],
    }
    # A project-scoped token describes its project, any other its domain (Table 3, token).
    if project:
        body["project"] = {"domain": domain, "id": project.id, "name": project.name}
    else:
        body["domain"] = domain
    if not request.query.get("nocatalog"):
        body["catalog"] = [
            _catalog_entry("identity", "iam", f"{request.base_url}/v3"),
            _catalog_entry("nosql", "nosql", request.base_url),
        ]
    return body


def _catalog_entry(service_type: str, name: str, url: str) -> dict:
    return {
        "type": service_type,
        "id": secrets.token_hex(16),
        "name": name,
        "endpoints": [
            {
                "url": url,
                "region": "eu-de",
                "region_id": "eu-de",
                "interface": "public",
                "id": secrets.token_hex(16),
            }
        ],
    }
