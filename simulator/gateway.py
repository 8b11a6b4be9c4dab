"""What the API gateway in front of GeminiDB does before and after the service answers:
token checks, project scope, rate limits, and the injected faults."""

from __future__ import annotations

import dataclasses

from .messages import ApiError, Request, Response
from .world import Token, World

# Calls a rate limit counts over (FIELD-NOTES: "calls/min per user").
RATE_WINDOW_SECONDS = 60

# The published per-API default of a sibling service (RDS, FIELD-NOTES); named in the message
# of injected throttling, which stands for the whole API being over its limit.
API_RATE_LIMIT = 8000


def _unauthorized(detail: str) -> ApiError:
    # The gateway rejects bad tokens before the call reaches the DBS service, with 401
    # APIGW.0301 "Incorrect IAM authentication information: ..." (seen in Huawei/OTC answers).
    # error_codes.rst has DBS.280056 "Token invalid." (403), but that is the service's own
    # check and is not reached when the gateway has already refused the token.
    return ApiError(401, "APIGW.0301", f"Incorrect IAM authentication information: {detail}", gateway=True)


def _throttled(policy: str, limit: int) -> ApiError:
    # FIELD-NOTES: the gateway answers 429 APIG.0308 with this message when over a rate limit.
    return ApiError(
        429,
        "APIG.0308",
        f"The throttling threshold has been reached: policy {policy} over ratelimit,limit:{limit},time:1 minute",
        gateway=True,
    )


def authenticate(world: World, request: Request, project_id: str) -> Token:
    """Return the caller's token, or raise 401 (missing, unknown, expired) or 403 (other project)."""
    value = request.headers.get("X-Auth-Token")
    if not value:
        raise _unauthorized("x-auth-token not found")
    token = world.tokens.get(value)
    # The IAM page: "If 'The token must be updated' is returned ... the token has expired or
    # is invalid." Unknown and expired tokens get the same answer.
    if token is None or world.now() >= token.expires_at:
        raise _unauthorized("The token must be updated.")
    # A valid token scoped to another project (or to the domain only) is authenticated but
    # not authorised here. error_codes.rst's 403 for that is DBS.280032 "You do not have
    # permission to perform this operation"; DBS.200010 (400) is about a tenant/instance
    # mismatch and DBS.280056 (403) about invalid tokens, neither of which this is.
    if token.project_id != project_id:
        raise ApiError.dbs("DBS.280032")
    return token


def enforce_rate_limit(world: World, user_id: str) -> None:
    """Allow each IAM user ``rate_limit_per_minute`` calls (its own limit, if it has one) in any
    rolling minute, counted apart from every other user's; raise 429 beyond."""
    user = world.users.get(user_id)
    own = user.rate_limit_per_minute if user else None
    limit = world.config.rate_limit_per_minute if own is None else own
    if not limit:
        return
    now = world.now()
    calls = world.recent_calls[user_id]
    while calls and calls[0] <= now - RATE_WINDOW_SECONDS:
        calls.popleft()
    if len(calls) >= limit:
        raise _throttled("user", limit)
    calls.append(now)


def admit(world: World, request: Request, project_id: str) -> Response | None:
    """Run the gateway's checks and injected faults for one GeminiDB call.

    Raises ApiError for an answer in the cloud's error format, returns a dropping Response
    when the connection is to be cut, and None when the call goes through to the service.
    """
    token = authenticate(world, request, project_id)
    enforce_rate_limit(world, token.user_id)
    config = world.config
    if world.chance(config.throttle_rate):
        raise _throttled("api", API_RATE_LIMIT)
    if world.chance(config.error_rate):
        raise ApiError.dbs("DBS.200998")
    if request.method == "GET" and world.chance(config.drop_connection_rate):
        return Response(0, drop=True)
    return None


# The setting that drops the answer of each kind of write, once it was carried out.
DROP_AFTER = {
    "create_backup": "drop_connection_after_create",
    "create_instance": "drop_connection_after_instance_create",
    "delete_instance": "drop_connection_after_instance_delete",
}


def after_write(world: World, kind: str | None, response: Response) -> Response:
    """Drop the answer of a write of ``kind`` that succeeded while its ``DROP_AFTER`` setting
    lasts: the backup (or instance) is made (or deleted) but the client never hears so, the
    ambiguous failure."""
    setting = DROP_AFTER.get(kind)
    remaining = getattr(world.config, setting) if setting else 0
    if response.status != 202 or remaining <= 0:
        return response
    world.config = dataclasses.replace(world.config, **{setting: remaining - 1})
    return Response(0, drop=True)
