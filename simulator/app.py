"""Routing: which handler answers a request, with the gateway checks and call counting around it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import admin, gateway, geminidb, iam, instances, policies
from .messages import ApiError, Request, Response
from .world import World

ADMIN_PREFIX = "/_sim/"


@dataclass(frozen=True)
class Route:
    """A method and path pattern, its handler, and the kind it is counted as (None: admin)."""

    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Response]
    kind: str | None = None

    def kind_for(self, request: Request) -> str | None:
        # GET /jobs?id=... reads one job; it is counted apart from listing jobs.
        if self.kind == "list_jobs" and request.query.get("id"):
            return "get_job"
        return self.kind


_PROJECT = r"(?P<project_id>[^/]+)"
_INSTANCE = r"instances/(?P<instance_id>[^/]+)"
_POLICY = rf"{_INSTANCE}/backups/policy"

API_ROUTES = (
    Route("POST", re.compile(r"/v3/auth/tokens"), iam.issue_token, "token"),
    Route("GET", re.compile(rf"/v3/{_PROJECT}/instances"), geminidb.list_instances, "list_instances"),
    Route("POST", re.compile(rf"/v3/{_PROJECT}/instances"), instances.create_instance, "create_instance"),
    Route("DELETE", re.compile(rf"/v3/{_PROJECT}/{_INSTANCE}"), instances.delete_instance, "delete_instance"),
    Route(
        "GET",
        re.compile(rf"/v3/{_PROJECT}/{_INSTANCE}/backups/restorable-time-periods"),
        instances.restorable_time_periods,
        "restorable_time_periods",
    ),
    Route(
        "POST",
        re.compile(rf"/v3/{_PROJECT}/instances/(?P<instance_id>[^/]+)/backups"),
        geminidb.create_backup,
        "create_backup",
    ),
    Route("GET", re.compile(rf"/v3/{_PROJECT}/jobs"), geminidb.list_jobs, "list_jobs"),
    Route("GET", re.compile(rf"/v3\.1/{_PROJECT}/backups"), geminidb.list_backups, "list_backups"),
    Route("GET", re.compile(rf"/v3\.1/{_PROJECT}/{_POLICY}"), policies.get_policy, "get_backup_policy"),
    Route("PUT", re.compile(rf"/v3/{_PROJECT}/{_POLICY}"), policies.set_policy, "set_backup_policy"),
)

ADMIN_ROUTES = (
    Route("GET", re.compile(r"/_sim/state"), admin.state),
    Route("GET", re.compile(r"/_sim/config"), admin.get_config),
    Route("GET", re.compile(r"/_sim/clock"), admin.get_clock),
    Route("POST", re.compile(r"/_sim/clock"), admin.advance_clock),
    Route("POST", re.compile(r"/_sim/config"), admin.set_config),
    Route("POST", re.compile(r"/_sim/reset"), admin.reset),
    Route("POST", re.compile(r"/_sim/projects"), admin.add_project),
    Route("POST", re.compile(r"/_sim/users"), admin.add_user),
    Route("POST", re.compile(r"/_sim/instances"), admin.add_instance),
    Route("PATCH", re.compile(r"/_sim/instances/(?P<instance_id>[^/]+)"), admin.patch_instance),
    Route("DELETE", re.compile(r"/_sim/instances/(?P<instance_id>[^/]+)"), admin.delete_instance),
    Route("POST", re.compile(r"/_sim/backups"), admin.start_automated_backup),
    Route("POST", re.compile(r"/_sim/backups/(?P<backup_id>[^/]+)/finish"), admin.finish_backup),
    Route("DELETE", re.compile(r"/_sim/backups/(?P<backup_id>[^/]+)"), admin.delete_backup),
)


def is_admin(request: Request) -> bool:
    return request.path.startswith(ADMIN_PREFIX)


def latency_seconds(world: World, request: Request) -> float:
    """The injected delay for this request; admin calls are never slowed down."""
    return 0.0 if is_admin(request) else world.config.latency_ms / 1000


def _match(request: Request) -> tuple[Route | None, dict[str, str]]:
    for route in ADMIN_ROUTES if is_admin(request) else API_ROUTES:
        found = route.pattern.fullmatch(request.path)
        if found and route.method == request.method:
            return route, found.groupdict()
    return None, {}


def handle(world: World, request: Request) -> Response:
    """Answer one request under the world lock, counting every cloud API call and its outcome."""
    route, params = _match(request)
    with world.lock:
        policies.settle(world)
        if is_admin(request):
            return _admin(world, request, route, params)
        response = _api(world, request, route, params)
        kind = route.kind_for(request) if route else None
        status = "dropped" if response.drop else str(response.status)
        if kind:
            world.calls_by_kind[kind] += 1
        world.calls_by_status[status] += 1
        # GeminiDB calls per project; token requests (IAM's) only count in the totals.
        project_id = params.get("project_id")
        if kind and project_id in world.projects:
            world.project_calls_by_kind[project_id][kind] += 1
            world.project_calls_by_status[project_id][status] += 1
        return response


def _admin(world: World, request: Request, route: Route | None, params: dict[str, str]) -> Response:
    if route is None:
        return Response(404, {"error": f"no admin endpoint {request.method} {request.path}"})
    try:
        return route.handler(world, request, **params)
    except admin.AdminError as error:
        return Response(error.status, {"error": error.message})


def _api(world: World, request: Request, route: Route | None, params: dict[str, str]) -> Response:
    try:
        if route is None:
            # What the API gateway answers for a path or method it does not publish.
            raise ApiError(
                404,
                "APIG.0101",
                "The API does not exist or has not been published in the environment.",
                gateway=True,
            )
        if "project_id" in params:
            dropped = gateway.admit(world, request, params["project_id"])
            if dropped:
                return dropped
        response = route.handler(world, request, **params)
        return gateway.after_write(world, route.kind, response)
    except ApiError as error:
        return error.to_response(request.request_id)
