"""The outbox: queued backups handed to the broker, within each IAM user's call budget.

`backup_request` (submission.py) publishes a new backup once its row is committed; the beat's
sweep, `backups_dispatch_due`, publishes what the broker did not get, what is due again after a
retry's backoff, and what a dead worker left (a lapsed lease, leases.py). A backup the broker
refuses stays queued in the database for the next sweep: nothing is lost in an outage.
"""

import itertools

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from access.models import CloudProject
from backups import publish
from backups.cloud import DjangoCacheCallBudget
from backups.models import Backup
from backups.services import leases

Status = Backup.Status


def backup_publish(*, backup_id: int) -> bool:
    """Hand a queued backup to the broker. A failure only delays it: the sweep retries."""
    if not publish.hand_over(publish.SUBMIT_BACKUP, backup_id, what=f"backup {backup_id}"):
        return False  # the row is the durable copy; an outage is logged once (webapp/broker.py)
    Backup.objects.filter(pk=backup_id, status=Status.QUEUED).update(enqueued_at=timezone.now())
    return True


def backups_dispatch_due() -> int:
    """The outbox sweep: publish the queued backups that are due, and those whose submitting
    worker died (lapsed lease).

    Queued backups go out oldest request first and at most as many per IAM user as its
    creation budget has room for now, less those handed over and not started yet: the rest
    wait here, in the database, not in a worker. So a hundred backups waiting for one
    project's budget cost the workers nothing, and every other project's backups go out as
    soon as their own budget has room.
    """
    now = timezone.now()
    lapsed = Backup.objects.filter(leases.lapsed())
    published = _publish_while_the_broker_takes(lapsed.values_list("pk", flat=True)[:500])
    queued = Backup.objects.filter(status=Status.QUEUED)
    republish_before = now - publish.REPUBLISH_AFTER
    due = queued.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=republish_before), next_attempt_at__lte=now)
    projects_by_key = _projects_by_budget_key(due.values_list("instance__project_id", flat=True).distinct())
    if not projects_by_key:
        return published
    handed_over = dict(
        queued.filter(enqueued_at__gte=republish_before)
        .values_list("instance__project_id")
        .annotate(Count("pk"))
        .order_by()
    )
    budget = submission_budget()
    queues = []
    for key, project_ids in projects_by_key.items():
        room = budget.room(key) - sum(handed_over.get(project_id, 0) for project_id in project_ids)
        if room > 0:
            line = due.filter(instance__project_id__in=project_ids).order_by("requested_at", "pk")
            queues.append(list(line.values_list("pk", flat=True)[:room]))
    # Take turns between IAM users, so that none waits in the broker behind another's batch.
    turns = (pk for pk in itertools.chain.from_iterable(itertools.zip_longest(*queues)) if pk is not None)
    return published + _publish_while_the_broker_takes(turns)


def _publish_while_the_broker_takes(backup_ids) -> int:
    """Publish each until the broker refuses one (an outage): the rest stay queued for the next sweep."""
    published = 0
    for backup_id in backup_ids:
        if not backup_publish(backup_id=backup_id):
            break
        published += 1
    return published


def _projects_by_budget_key(project_ids) -> dict[str, list[int]]:
    """The projects grouped by call budget: projects connected as one IAM user share one."""
    rows = CloudProject.objects.filter(pk__in=project_ids).values_list("pk", "iam_endpoint", "iam_domain", "iam_user")
    grouped: dict[str, list[int]] = {}
    for pk, endpoint, domain, user in rows:
        grouped.setdefault(DjangoCacheCallBudget.key_for(endpoint, domain, user), []).append(pk)
    return grouped


def submission_budget() -> DjangoCacheCallBudget:
    # Creations leave a fifth of each minute's calls to polling, so that a burst of requests
    # cannot hide the outcome of running backups. They never wait for room (a worker waiting for
    # one IAM user's budget holds up every other project): back to the outbox (submission.py).
    limit = settings.CLOUD_CALLS_PER_MINUTE
    return DjangoCacheCallBudget(limit, reserve=max(1, limit // 5), max_wait=0)
