"""The console's REST API, version 1, at /api/v1/ (django-ninja: typed endpoints and an
OpenAPI 3 document generated from them, with its own Swagger UI served by the console).

Endpoints live in `endpoints/`, one module per resource, and call the same selectors and
services as the pages. Who may do what is decided by `access.permissions`, for the token's
owner narrowed to the token's scope (auth.py).
"""

from django.views.decorators.http import require_GET
from ninja import NinjaAPI

from api import errors
from api.auth import TokenAuth
from api.endpoints import backups, instances, projects

DESCRIPTION = """
Automate backups of GeminiDB Cassandra instances from pipelines and scripts.

Authenticate with a personal access token (made on your *API tokens* page, or with
`manage.py create_api_token`): `Authorization: Bearer <token>`. A token acts for its owner,
in the projects of its scope, at no more than its role (and its owner's) there.

Errors are JSON: `{"code": "…", "message": "…", "fields": {"<field>": [{"code", "message"}]}}`.
Requests per token are limited per minute: past the limit, 429 with `Retry-After`.
"""

api = NinjaAPI(
    title="GeminiDB Backup Console API",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    urls_namespace="api_v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    # The description and its Swagger UI are public, like any published API reference: no data in them.
    docs_decorator=require_GET,
)
errors.install(api)
api.add_router("/projects", projects.router)
api.add_router("/instances", instances.router)
api.add_router("/backups", backups.router)
