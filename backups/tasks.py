"""Celery tasks: thin wrappers that load by id and call a service (backups/services/ explains the flow).

Services publish these by name (`publish.py`), so this module is the only one that imports both.

All are idempotent, so late acknowledgement (settings) may deliver one twice without harm.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings
from django.core.cache import cache

from access.models import CloudProject

from . import publish
from .cloud import CloudError
from .selectors.pipeline import projects_with_due_polls
from .services import dispatch, protection, submission, sync, tracking

log = logging.getLogger(__name__)


# A submit's lease is renewed while its worker lives (services/leases.py), so these limits only
# stop a submit stuck past its calls' own bounds: at most four calls in a row (token, look-up
# by name, create, look-up again), each waiting CLOUD_TIMEOUT_SECONDS to connect and as long
# for an answer, and at most CLOUD_RETRY_TOTAL_SECONDS between retries.
SUBMIT_SOFT_TIME_LIMIT = int(4 * (2 * settings.CLOUD_TIMEOUT_SECONDS + settings.CLOUD_RETRY_TOTAL_SECONDS))


@shared_task(name=publish.SUBMIT_BACKUP, soft_time_limit=SUBMIT_SOFT_TIME_LIMIT, time_limit=SUBMIT_SOFT_TIME_LIMIT + 30)
def submit_backup(backup_id: int) -> None:
    # A call cut short by the soft time limit sends the backup back to the outbox (submission.py).
    submission.backup_submit(backup_id=backup_id)


@shared_task
def dispatch_outbox() -> int:
    """Beat: the outbox sweep. Publishes the queued backups and the requested syncs that the
    broker did not get (or got long ago without a worker starting them)."""
    return dispatch.backups_dispatch_due() + sync.syncs_dispatch_due()


# One poll per project at a time: a second one would only spend API calls. The lock
# outlives the poll's hard time limit, and lapses soon after a worker dies holding it.
POLL_LOCK_SECONDS = 30


@shared_task
def poll_running_backups() -> None:
    """Beat: start one poll per project that has backups due for a look."""
    for project_id in projects_with_due_polls():
        if cache.add(f"poll-lock:{project_id}", 1, timeout=POLL_LOCK_SECONDS):
            poll_project.delay(project_id)


@shared_task(time_limit=POLL_LOCK_SECONDS - 5, soft_time_limit=POLL_LOCK_SECONDS - 10)
def poll_project(project_id: int) -> None:
    try:
        project = CloudProject.objects.get(pk=project_id)
        tracking.backups_poll(project=project)
    except (CloudError, SoftTimeLimitExceeded) as error:
        # The next beat tick tries again; the backups keep their state meanwhile.
        log.warning("Polling project %s failed: %s", project_id, error or "took too long")
    finally:
        cache.delete(f"poll-lock:{project_id}")


@shared_task(name=publish.RECORD_OUTCOMES)
def record_outcomes(outcomes: list[dict]) -> None:
    """Part of a poll's outcomes, recorded beside the poll by another worker."""
    tracking.outcomes_record(outcomes=[tracking.Outcome.from_task(outcome) for outcome in outcomes])


@shared_task
def sync_projects() -> None:
    """Beat: refresh instances and import cloud backups for every project."""
    for project_id in CloudProject.objects.values_list("pk", flat=True):
        sync_project.delay(project_id)


@shared_task(name=publish.SYNC_PROJECT)
def sync_project(project_id: int) -> None:
    project = CloudProject.objects.get(pk=project_id)
    try:
        sync.project_sync(project=project)
    except CloudError as error:
        log.warning("Syncing project %s failed: %s", project, error)


@shared_task
def watchdog() -> int:
    return tracking.backups_watchdog()


@shared_task
def assess_protection() -> int:
    """Beat: time alone moves an instance out of its RPO; assess every instance again."""
    return protection.instances_protection_update()


@worker_ready.connect
def sync_when_a_worker_starts(**kwargs) -> None:
    # Beat's first sync is a whole interval away; a fresh worker should not show stale instances.
    sync_projects.delay()
