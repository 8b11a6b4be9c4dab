"""Keeping the console's picture of the cloud complete and honest: the instances of each
project (gone ones keep their history), and backups made outside this console.

The beat syncs every project periodically (`tasks.sync_projects`). A sync someone asks for
("Refresh from cloud") is recorded on the project first (`sync_requested_at`) and published
after commit, like a backup request: if the broker is down, `syncs_dispatch_due` (the
beat's outbox sweep, `tasks.dispatch_outbox`) publishes it once it is back.

At most one sync per project is queued or running (`sync_started_at` is a lease, so a sync
whose worker died does not block the next one): asking again while one is under way adds
nothing, and a sync the beat starts meanwhile skips a project another worker is syncing.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from access.models import CloudProject
from backups import publish, timeline
from backups.cloud import Instance as CloudInstance
from backups.cloud import client_for_project
from backups.models import REHEARSAL_INSTANCE_NAME, Backup, BackupEvent, Instance
from backups.services.policies import instance_policy_sync
from backups.services.protection import instances_protection_update
from webapp.throttle import Throttle

log = logging.getLogger(__name__)

Status = Backup.Status


# Above the task's hard time limit: a sync still "started" after this has died with its worker.
SYNC_LEASE = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
# The instance list shows each policy's retention and window, so a sync reads a policy only
# when those changed, or when it is this old (for the days of the week, which only the policy
# shows), and then the oldest few per sync: a hundred instances must not cost a hundred calls
# of the IAM user's minute at every sync.
POLICY_REFRESH = timedelta(hours=1)
POLICY_READS_PER_SYNC = 10


@dataclass
class SyncRequest:
    """What asking for a sync did: the projects now queued, and those already under way."""

    queued: list[CloudProject] = field(default_factory=list)
    under_way: list[CloudProject] = field(default_factory=list)


def _not_running(now) -> Q:
    return Q(sync_started_at__isnull=True) | Q(sync_started_at__lt=now - SYNC_LEASE)


def _no_sync_under_way(now) -> Q:
    return _not_running(now) & Q(sync_requested_at__isnull=True)


def refresh_throttle() -> Throttle:
    """How often one person may ask for a refresh (settings.REFRESH_LIMIT per window)."""
    return Throttle("refresh", settings.REFRESH_LIMIT, settings.REFRESH_WINDOW_SECONDS)


def projects_sync_request(*, projects: list[CloudProject]) -> SyncRequest:
    """Ask the worker to sync these projects now; the request outlives a broker outage.

    A project whose sync is already queued or running is left as it is: fifty clicks queue
    one sync, not fifty.
    """
    now = timezone.now()
    result = SyncRequest()
    with transaction.atomic():
        for project in projects:
            # A conditional UPDATE per project: of two requests at once, one finds the row taken.
            queued = CloudProject.objects.filter(_no_sync_under_way(now), pk=project.pk).update(
                sync_requested_at=now, sync_enqueued_at=None
            )
            if queued:
                result.queued.append(project)
                transaction.on_commit(partial(project_sync_publish, project_id=project.pk))
            else:
                result.under_way.append(project)
    return result


def project_sync_publish(*, project_id: int) -> bool:
    """Hand a project's sync to the broker. A failure only delays it: the sweep retries."""
    if not publish.hand_over(publish.SYNC_PROJECT, project_id, what=f"the sync of project {project_id}"):
        return False  # the project row is the durable copy
    CloudProject.objects.filter(pk=project_id, sync_requested_at__isnull=False).update(sync_enqueued_at=timezone.now())
    return True


def syncs_dispatch_due() -> int:
    """The sweep for requested syncs the broker did not get, or got long ago without a
    worker starting them."""
    stale = timezone.now() - publish.REPUBLISH_AFTER
    due = CloudProject.objects.filter(
        Q(sync_enqueued_at__isnull=True) | Q(sync_enqueued_at__lt=stale), sync_requested_at__isnull=False
    ).values_list("pk", flat=True)
    return sum(project_sync_publish(project_id=pk) for pk in due)


def instances_sync(*, project: CloudProject) -> dict[str, int]:
    """Refresh the project's Cassandra instances from the cloud, with each one's automated
    backup policy; keep the history of gone ones."""
    client = client_for_project(project)
    cloud_instances = client.list_instances(datastore_type="cassandra")
    now = timezone.now()
    seen = set()
    created = 0
    policies_changed = 0
    stale: list[tuple[datetime, Instance]] = []
    for item in cloud_instances:
        if REHEARSAL_INSTANCE_NAME.fullmatch(item.name):
            continue  # a rehearsal's temporary instance, which the restores app deletes
        seen.add(item.id)
        instance, was_created = Instance.objects.update_or_create(
            project=project,
            cloud_id=item.id,
            defaults={
                "name": item.name,
                "status": item.status,
                "mode": item.mode,
                "datastore_version": item.datastore_version,
                "synced_at": now,
                "gone_at": None,
            },
        )
        created += was_created
        instance.project = project  # already loaded: no query per instance
        if _policy_read_due(instance, item):
            policies_changed += instance_policy_sync(instance=instance, client=client)
        elif instance.policy_synced_at is not None and instance.policy_synced_at < now - POLICY_REFRESH:
            stale.append((instance.policy_synced_at, instance))
    # Only the policy itself tells the days of the week: read the oldest few each sync.
    stale.sort(key=lambda read: read[0])
    for _, instance in stale[:POLICY_READS_PER_SYNC]:
        policies_changed += instance_policy_sync(instance=instance, client=client)
    gone = Instance.objects.filter(project=project, gone_at__isnull=True).exclude(cloud_id__in=seen).update(gone_at=now)
    CloudProject.objects.filter(pk=project.pk).update(instances_synced_at=now)
    return {"instances": len(seen), "new": created, "gone": gone, "policies_changed_outside": policies_changed}


def _policy_read_due(instance: Instance, listed: CloudInstance) -> bool:
    """Whether to read the instance's policy now: never read, or the instance list shows another
    retention or window than the one stored (or does not show them)."""
    if instance.policy_synced_at is None or listed.backup_keep_days is None:
        return True
    if listed.backup_keep_days != instance.policy_keep_days:
        return True
    return bool(listed.backup_keep_days) and listed.backup_start_time != instance.policy_start_time


def backups_import(*, project: CloudProject) -> dict[str, int]:
    """Bring backups made outside this console into the history, and notice deleted ones."""
    cloud_backups = client_for_project(project).list_backups()
    instances = {i.cloud_id: i for i in Instance.objects.filter(project=project)}
    known = dict(
        Backup.objects.filter(instance__project=project).exclude(backup_id="").values_list("backup_id", "status")
    )
    ours_in_flight = set(
        Backup.objects.filter(
            instance__project=project, origin=Backup.Origin.DASHBOARD, status__in=Backup.ACTIVE_STATUSES
        ).values_list("instance__cloud_id", "name")
    )
    now = timezone.now()
    imported = 0
    for cb in cloud_backups:
        instance = instances.get(cb.instance_id)
        if cb.id in known or instance is None or (cb.instance_id, cb.name) in ours_in_flight:
            continue  # already ours, an instance we do not follow, or our own create in flight
        status = {"COMPLETED": Status.COMPLETED, "FAILED": Status.FAILED}.get(cb.status, Status.RUNNING)
        origin = Backup.Origin.CLOUD_AUTO if cb.type == "Auto" else Backup.Origin.CLOUD_MANUAL
        try:
            with transaction.atomic():
                backup = Backup.objects.create(
                    instance=instance,
                    name=cb.name,
                    description=cb.description,
                    origin=origin,
                    requested_at=cb.begin_time or now,
                    status=status,
                    progress=100 if status == Status.COMPLETED else None,
                    backup_id=cb.id,
                    size_kb=cb.size_kb,
                    started_at=cb.begin_time,
                    finished_at=cb.end_time if status != Status.RUNNING else None,
                    last_seen_in_cloud_at=now,
                    next_poll_at=now if status == Status.RUNNING else None,
                    error_code="JOB_FAILED" if status == Status.FAILED else "",
                )
                line = timeline.line(timeline.IMPORTED, backup_type=cb.type)
                BackupEvent.objects.create(
                    backup=backup,
                    at=now,
                    kind=BackupEvent.Kind.NOTE,
                    code=line.code,
                    params=line.params,
                    message=line.message,
                )
        except IntegrityError:
            continue  # another running backup on the instance; the next sync retries
        imported += 1
    listed = {cb.id for cb in cloud_backups}
    deleted = (
        Backup.objects.filter(instance__project=project, status=Status.COMPLETED, deleted_in_cloud_at__isnull=True)
        .exclude(backup_id="")
        .exclude(backup_id__in=listed)
        .update(deleted_in_cloud_at=now)
    )
    return {"imported": imported, "deleted_in_cloud": deleted}


def project_sync(*, project: CloudProject) -> dict[str, int]:
    """Instances first, then backups: imported backups need their instance. Answers a
    requested sync too, whatever its outcome (a failure is logged; the beat tries again).

    Skipped (``{"skipped": 1}``) while another worker syncs the project.
    """
    now = timezone.now()
    claimed = CloudProject.objects.filter(_not_running(now), pk=project.pk).update(
        sync_started_at=now, sync_requested_at=None, sync_enqueued_at=None
    )
    if not claimed:
        log.info("Project %s is being synced by another worker; skipped", project)
        return {"skipped": 1}
    try:
        result = instances_sync(project=project) | backups_import(project=project)
        # What the cloud said may move instances in or out of protection (imports, policies).
        instances_protection_update(project=project)
        return result
    finally:
        CloudProject.objects.filter(pk=project.pk, sync_started_at=now).update(sync_started_at=None)
