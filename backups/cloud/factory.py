"""Build a client from a connected project."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .client import GeminiDBClient, RetryPolicy
from .types import CloudCredentials


def client_for_project(project: Any, **options: Any) -> GeminiDBClient:
    """A client for ``project`` (a ``backups.models.CloudProject`` or anything with its
    ``iam_endpoint, geminidb_endpoint, project_id, iam_domain, iam_user, iam_password``).

    ``options`` are passed on to ``GeminiDBClient`` (timeout, token_store, call_budget, ...).
    """
    credentials = CloudCredentials(
        iam_endpoint=project.iam_endpoint,
        geminidb_endpoint=project.geminidb_endpoint,
        project_id=project.project_id,
        domain=project.iam_domain,
        user=project.iam_user,
        password=project.iam_password,
    )
    options.setdefault("retry", RetryPolicy(max_total_wait=settings.CLOUD_RETRY_TOTAL_SECONDS))
    return GeminiDBClient(credentials, **options)
