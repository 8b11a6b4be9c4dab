"""What the restore form reads from the cloud about its source while someone waits: the source
instance's specification (to prefill the form, and to hold the new instance to at least its
nodes and storage) and the times a point-in-time restore may aim at.

Reads only, each one attempt with a short timeout and no waiting for the call budget, as the
instance page's policy change does (backups/services/policies.py): someone is watching the page.
When the cloud cannot be asked the form says so; the worker's create then meets the cloud's own
checks, whose refusal the restore's page explains.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from backups.cloud import (
    CloudError,
    CloudUnavailable,
    DjangoCacheCallBudget,
    InstanceNotFound,
    RetryPolicy,
    Throttled,
    client_for_project,
)
from backups.cloud import Instance as CloudInstance
from backups.models import Instance

log = logging.getLogger(__name__)

CALL_TIMEOUT = (3.0, 8.0)


@dataclass(frozen=True)
class SourceSpec:
    """The source instance as the cloud lists it now, or why it could not be read."""

    instance: CloudInstance | None
    error: str = ""


@dataclass(frozen=True)
class RestorableWindow:
    """The (start, end) pairs, in UTC, the cloud can restore the instance to; None when the
    cloud could not be asked (`error` says why)."""

    periods: list[tuple[datetime, datetime]] | None
    error: str = ""


def _client(instance: Instance):
    return client_for_project(
        instance.project,
        call_budget=DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE, max_wait=0),
        retry=RetryPolicy(attempts=1),
        timeout=CALL_TIMEOUT,
    )


def _failure(error: Exception, what: str) -> str:
    """Why `what` (a phrase: "the specification of X") could not be read."""
    if isinstance(error, Throttled):
        message = _("The cloud is limiting calls right now, so %(what)s could not be read. Try again in a minute.")
    elif isinstance(error, CloudUnavailable | requests.RequestException):
        message = _("The cloud did not answer in time, so %(what)s could not be read. Try again in a minute.")
    else:
        message = _("The cloud refused to tell %(what)s (%(error)s).")
    return message % {"what": what, "error": error}


def source_spec(instance: Instance) -> SourceSpec:
    """The source's flavor, network and placement, read from the cloud's instance list."""
    what = _("the specification of %(instance)s") % {"instance": instance.name}
    client = _client(instance)
    try:
        found = client.get_instance(instance.cloud_id)
    except (CloudError, requests.RequestException) as error:
        log.info("Reading the spec of instance %s failed: %s", instance.cloud_id, type(error).__name__)
        return SourceSpec(
            None,
            _("%(failure)s Fill in the new instance's specification yourself.") % {"failure": _failure(error, what)},
        )
    finally:
        client.close()
    if found is None:
        return SourceSpec(
            None,
            _("The cloud no longer lists %(instance)s: fill in the new instance's specification yourself.")
            % {"instance": instance.name},
        )
    return SourceSpec(found)


def restorable_window(instance: Instance) -> RestorableWindow:
    """The times the cloud says the instance can be restored to (empty: none)."""
    what = _("the times %(instance)s can be restored to") % {"instance": instance.name}
    client = _client(instance)
    try:
        return RestorableWindow(client.restorable_time_periods(instance.cloud_id))
    except InstanceNotFound:
        return RestorableWindow([], _("The cloud no longer lists %(instance)s.") % {"instance": instance.name})
    except (CloudError, requests.RequestException) as error:
        log.info("Reading the restorable window of %s failed: %s", instance.cloud_id, type(error).__name__)
        return RestorableWindow(None, _failure(error, what))
    finally:
        client.close()
