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
from .types import (
    BackupPolicy,
    CloudBackup,
    CloudCredentials,
    CreatedBackup,
    CreatedInstance,
    Instance,
    Job,
    NewInstance,
)

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
    "CreatedInstance",
    "DjangoCacheCallBudget",
    "DjangoCacheTokenStore",
    "Forbidden",
    "GeminiDBClient",
    "Instance",
    "InstanceBusy",
    "InstanceNotFound",
    "InvalidRequest",
    "Job",
    "NewInstance",
    "RetryPolicy",
    "ServerBusy",
    "Throttled",
    "client_for_project",
]
