"""Requests, responses and the documented error codes the simulator answers with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# HTTP status and message of every DBS code the simulator uses, copied from error_codes.rst.
DBS_ERRORS: dict[str, tuple[int, str]] = {
    "DBS.200001": (400, "Parameter error."),
    "DBS.200002": (404, "The DB instance does not exist."),
    "DBS.200019": (
        403,
        "Another operation is being performed on the DB instance or the DB instance is faulty.",
    ),
    "DBS.200998": (500, "The system is busy. Try again later."),
    "DBS.201015": (
        403,
        "This operation cannot be performed because another operation is being performed on "
        "the DB instance or the DB instance is faulty. Try again later.",
    ),
    "DBS.201201": (400, "The backup already exists."),
    # The automated backup policy's rules (configuring_an_automated_backup_policy.rst).
    "DBS.280067": (400, "Invalid start time."),
    "DBS.280214": (400, "Invalid retention period."),
    "DBS.280215": (400, "Invalid backup cycle."),
    "DBS.280251": (400, "Invalid backup period."),
    "DBS.280416": (400, "Invalid backup end time."),
    "DBS.280032": (
        403,
        "You do not have permission to perform this operation. Contact the administrator to obtain permission.",
    ),
    "DBS.280347": (400, "Unsupported database type."),
    # Creating (and restoring to) an instance (creating_an_instance.rst).
    "DBS.200024": (400, "The region is unavailable."),
    "DBS.201214": (400, "The backup file does not exist."),
    "DBS.201215": (400, "Time is illegal."),
    "DBS.280122": (400, "Invalid DB engine."),
    "DBS.280123": (400, "Invalid node number."),
    "DBS.280124": (400, "Invalid backup."),
    "DBS.280200": (400, "The password contains invalid characters."),
    "DBS.280234": (400, "Invalid DB instance name."),
    "DBS.280235": (400, "Invalid database type."),
    "DBS.280236": (400, "Invalid database version."),
    "DBS.280239": (400, "Invalid specifications."),
    "DBS.280241": (400, "Invalid storage type."),
    "DBS.280242": (400, "The storage space is out of range."),
    "DBS.280244": (400, "Invalid AZ."),
    "DBS.280247": (400, "Invalid VPC."),
    "DBS.280248": (400, "Invalid subnet."),
    "DBS.280249": (400, "Invalid security group."),
    "DBS.280266": (400, "Invalid storage space."),
    "DBS.280269": (400, "Invalid Datastore Info."),
    "DBS.280342": (400, "Invalid DB instance mode."),
    "DBS.280465": (400, "Invalid password."),
    "DBS.301024": (400, "Invalid backup restore information."),
}


@dataclass
class Request:
    """One parsed HTTP request, as the handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    base_url: str
    request_id: str

    def json(self) -> Any:
        """Return the body decoded as JSON; raise ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8") or "null")


@dataclass
class Response:
    """What to send back. ``drop`` means: close the socket without answering at all."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class ApiError(Exception):
    """An error answered in the cloud's format: ``{"error_code": ..., "error_msg": ...}``.

    Errors raised by the API gateway in front of the service (authentication, throttling,
    unknown paths) also carry ``request_id`` in the body, as real APIG answers do.
    """

    def __init__(self, status: int, code: str, message: str, *, gateway: bool = False):
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.gateway = gateway

    @classmethod
    def dbs(cls, code: str) -> ApiError:
        """Build the error for a documented DBS code with its documented status and message."""
        status, message = DBS_ERRORS[code]
        return cls(status, code, message)

    def to_response(self, request_id: str) -> Response:
        """Render the error body, adding the request id for gateway errors."""
        body = {"error_code": self.code, "error_msg": self.message}
        if self.gateway:
            body["request_id"] = request_id
        return Response(self.status, body)


def parameter_error() -> ApiError:
    """400 DBS.200001, the code error_codes.rst gives for any invalid parameter."""
    return ApiError.dbs("DBS.200001")
