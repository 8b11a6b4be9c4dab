"""Celery tasks: thin wrappers that load by id and call a service (restores/services/ explains
the flow). Services publish these by name (`publish.py`). All are idempotent, so a late
acknowledgement that delivers one twice does no harm."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache

from backups.cloud import CloudError

from . import publish
from .services import cleanup, rehearsals, requests, submission, tracking

log = logging.getLogger(__name__)

# The lease is renewed while the worker lives (services/leases.py): these limits only stop a
# send stuck past its calls' own bounds: at most four calls in a row (token, look-up by name,
# the source's spec, create), each bounded by CLOUD_TIMEOUT_SECONDS and the retry budget.
SEND_SOFT_TIME_LIMIT = int(4 * (2 * settings.CLOUD_TIMEOUT_SECONDS + settings.CLOUD_RETRY_TOTAL_SECONDS))
# One poll at a time: a second would only spend API calls. The lock outlives the poll's limit.
POLL_LOCK_SECONDS = 60


@shared_task(name=publish.SUBMIT_RESTORE, soft_time_limit=SEND_SOFT_TIME_LIMIT, time_limit=SEND_SOFT_TIME_LIMIT + 30)
def submit_restore(restore_id: int) -> None:
    # A call cut short by the soft time limit sends the restore back to the outbox (submission.py).
    submission.restore_submit(restore_id=restore_id)


@shared_task(
    name=publish.DELETE_REHEARSAL_INSTANCE, soft_time_limit=SEND_SOFT_TIME_LIMIT, time_limit=SEND_SOFT_TIME_LIMIT + 30
)
def delete_rehearsal_instance(restore_id: int) -> None:
    # Cut off mid-call, the lease lapses and the sweeper hands it over again.
    cleanup.rehearsal_instance_delete(restore_id=restore_id)


@shared_task
def sweep() -> int:
    """Beat: publish the restores and clean-ups the broker did not get; give up rehearsals and
    clean-ups whose worker died (services/cleanup.py)."""
    return requests.restores_dispatch_due() + cleanup.rehearsals_sweep()


@shared_task(time_limit=POLL_LOCK_SECONDS - 5, soft_time_limit=POLL_LOCK_SECONDS - 10)
def poll_restores() -> None:
    """Beat: follow restoring instances and rehearsal deletes that are due for a look."""
    if not cache.add("restores-poll-lock", 1, timeout=POLL_LOCK_SECONDS):
        return
    try:
        tracking.restores_poll()
    except (CloudError, SoftTimeLimitExceeded) as error:
        log.warning("Polling restores failed: %s", error or "took too long")
    finally:
        cache.delete("restores-poll-lock")


@shared_task
def rehearse_on_schedule() -> int:
    """Beat: start the rehearsals whose schedule is due."""
    return rehearsals.rehearsals_schedule_due()
