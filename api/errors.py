"""Every error the API answers has one shape: a stable machine `code`, a human `message` (the
same words the pages use), and for invalid input the errors of each `field`.

    {"code": "invalid", "message": "The request has errors.", "fields": {"name": [{"code": "unique", "message": "…"}]}}
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as SchemaValidationError

from api.services.requests import KeyRefused

# Where the errors that belong to no one field go (Django's __all__).
REQUEST_FIELD = "request"


class FieldError(Schema):
    code: str
    message: str


class Error(Schema):
    code: str
    message: str
    fields: dict[str, list[FieldError]] | None = None


class Conflict(Exception):
    """A valid request the console's current state refuses (the name is taken, the instance is
    busy or unavailable): 409, with the same field errors a 422 has."""

    def __init__(self, error: DjangoValidationError):
        super().__init__(error)
        self.error = error


# The rules' codes (backups/rules.py) that describe the state of things, not the request.
CONFLICT_CODES = frozenset({"unique", "instance"})


def conflict_or_invalid(error: DjangoValidationError) -> Exception:
    by_field = error.error_dict if hasattr(error, "error_dict") else {"": error.error_list}
    codes = {e.code for errors in by_field.values() for e in errors}
    return Conflict(error) if codes <= CONFLICT_CODES else error


def reject_unknown_parameters(request: HttpRequest, schema: type[Schema] | None = None) -> None:
    """A misspelt filter is an error, not a filter silently left out of the answer; so is one
    given twice, of which only one would count."""
    known = set(schema.model_fields) if schema else set()
    errors = {}
    for name in request.GET:
        if name not in known:
            errors[name] = [DjangoValidationError("No such parameter here.", code="unknown")]
        elif len(request.GET.getlist(name)) > 1:
            errors[name] = [DjangoValidationError("Give this parameter once.", code="repeated")]
    if errors:
        raise DjangoValidationError(errors)


class NotAuthenticated(AuthenticationError):
    def __init__(self, message: str):
        super().__init__(401, message)


# The answers each operation documents besides its success, so generated clients and the
# OpenAPI tester know them.
AUTHENTICATED = {401: Error, 429: Error}
READ = {**AUTHENTICATED, 404: Error, 422: Error}
WRITE = {**READ, 400: Error, 403: Error, 409: Error}


def _answer(api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, fields=None) -> HttpResponse:
    body = {"code": code, "message": message, "fields": fields}
    return api.create_response(request, body, status=status)


def _field_errors(error: DjangoValidationError) -> dict[str, list[dict]]:
    fields = {}
    for field, errors in (
        error.error_dict.items() if hasattr(error, "error_dict") else [(NON_FIELD_ERRORS, error.error_list)]
    ):
        name = REQUEST_FIELD if field == NON_FIELD_ERRORS else field
        fields[name] = [{"code": e.code or "invalid", "message": next(iter(e))} for e in errors]
    return fields


def _schema_field_errors(error: SchemaValidationError) -> dict[str, list[dict]]:
    fields: dict[str, list[dict]] = {}
    for item in error.errors:
        # loc is (source, [schema name,] field, …): body/query/path, then where in it.
        location = [str(part) for part in item.get("loc", ())[1:] if part not in ("payload", "filters")]
        name = ".".join(location) or REQUEST_FIELD
        fields.setdefault(name, []).append(
            {"code": item.get("type", "invalid"), "message": item.get("msg", "Invalid.")}
        )
    return fields


def install(api: NinjaAPI) -> None:
    """Answer every error in the one shape, with the console's words."""

    @api.exception_handler(NotAuthenticated)
    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, error):
        message = str(error) if isinstance(error, NotAuthenticated) else None
        response = _answer(
            api,
            request,
            401,
            "not_authenticated",
            message
            or "Send a personal access token: Authorization: Bearer <token> (make one on your API tokens page).",
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(Throttled)
    def throttled(request, error):
        response = _answer(
            api, request, 429, "throttled", f"Too many requests with this token; try again in {error.wait} s."
        )
        response["Retry-After"] = str(error.wait)
        return response

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, error):
        return _answer(api, request, 403, "permission_denied", str(error) or "This token may not do that.")

    @api.exception_handler(Http404)
    def not_found(request, error):
        return _answer(api, request, 404, "not_found", "Nothing of that kind with that id, among what you may see.")

    @api.exception_handler(SchemaValidationError)
    def schema_invalid(request, error):
        return _answer(api, request, 422, "invalid", "The request has errors.", _schema_field_errors(error))

    @api.exception_handler(DjangoValidationError)
    def invalid(request, error):
        return _answer(api, request, 422, "invalid", "The request has errors.", _field_errors(error))

    @api.exception_handler(Conflict)
    def conflict(request, error):
        return _answer(
            api, request, 409, "conflict", "The request conflicts with the state of things.", _field_errors(error.error)
        )

    @api.exception_handler(KeyRefused)
    def key_refused(request, error):
        return _answer(api, request, 422, error.code, str(error))

    @api.exception_handler(HttpError)
    def http_error(request, error):
        # What ninja itself refuses: a body that is not JSON, mostly.
        code = "malformed" if error.status_code == 400 else "error"
        return _answer(api, request, error.status_code, code, str(error))
