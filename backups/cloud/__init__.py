"""The GeminiDB (Cassandra) cloud client: typed results, classified errors, shared token and budget."""

from .client import GeminiDBClient, RetryPolicy
from .errors import (
    AmbiguousRequest,
    AuthenticationFailed,
    CloudError,
    CloudUnavailable,
    Forbidden,
    InstanceBusy,
    InstanceNotFound,
    InvalidRequest,
    ServerBusy,
    Throttled,
)
from .factory import client_for_project
from .stores import CachedToken, DjangoCacheCallBudget, DjangoCacheTokenStore
from .types import BackupPolicy, CloudBackup, CloudCredentials, CreatedBackup, Instance, Job

__all__ = [
    "AmbiguousRequest",
    "AuthenticationFailed",
    "BackupPolicy",
    "CachedToken",
    "CloudBackup",
    "CloudCredentials",
    "CloudError",
    "CloudUnavailable",
    "CreatedBackup",
    "DjangoCacheCallBudget",
    "DjangoCacheTokenStore",
    "Forbidden",
    "GeminiDBClient",
    "Instance",
    "InstanceBusy",
    "InstanceNotFound",
    "InvalidRequest",
    "Job",
    "RetryPolicy",
    "ServerBusy",
    "Throttled",
    "client_for_project",
]
