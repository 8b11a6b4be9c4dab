"""What the pages show about restores, already scoped to the user, in a fixed number of queries:
a restore's own page, the restore facts of an instance's and a backup's page, the "restored
from" mark of the instance list, and what the restore form suggests or refuses up front."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from access.permissions import Action, user_can
from access.selectors.projects import PAGE_DEFERRED, visible_projects
from backups.explanations import Explanation
from backups.models import Backup, Instance
from restores import validators
from restores.explanations import explain
from restores.models import RehearsalSchedule, Restore, RestoreEvent
from restores.services.rehearsals import rehearsal_blocker, rehearsal_problem
from restores.services.requests import restorable_backup_problem

Status = Restore.Status
Cleanup = Restore.Cleanup

RECENT_RESTORES = 5
# A rehearsal's page keeps following it while its temporary instance is being deleted.
CLEANUP_UNDER_WAY = (Cleanup.PENDING, Cleanup.DELETING)
# What the live part of a restore's page shows (its fingerprint, restores/views/restore_detail.py).
LIVE_FIELDS = (
    "status",
    "progress",
    "job_id",
    "instance_cloud_id",
    "submitted_at",
    "finished_at",
    "error_code",
    "error_message",
    "cleanup_status",
    "deleted_at",
)


def restore_for(user, pk: int) -> Restore:
    """A restore of one of the user's projects; 404 for anyone else."""
    visible = (
        Restore.objects.select_related("backup", "source_instance__project", "requested_by")
        .defer(*(f"source_instance__project__{name}" for name in PAGE_DEFERRED), "password")
        .filter(project__in=visible_projects(user))
    )
    return get_object_or_404(visible, pk=pk)


def restore_timeline(restore: Restore) -> list[RestoreEvent]:
    return list(restore.events.order_by("at", "id"))


def restore_under_way(restore: Restore) -> bool:
    """Whether its page should keep following it: the restore runs, or a rehearsal's temporary
    instance is still being deleted."""
    return restore.is_active or (restore.is_rehearsal and restore.cleanup_status in CLEANUP_UNDER_WAY)


def restore_explanation(restore: Restore) -> Explanation | None:
    if restore.status not in (Status.FAILED, Status.UNKNOWN):
        return None
    return explain(restore.error_code or ("LOST" if restore.status == Status.UNKNOWN else "CREATE_FAILED"))


def restored_instance(restore: Restore) -> Instance | None:
    """The new instance as the console lists it, once a sync has found it."""
    if not restore.instance_cloud_id:
        return None
    return Instance.objects.filter(project_id=restore.project_id, cloud_id=restore.instance_cloud_id).first()


def mark_restored_instances(instances) -> None:
    """Give each instance a restore of this console created its `restored_from` restore (None
    for the others): one query for a page of them."""
    instances = list(instances)
    keys = {(instance.project_id, instance.cloud_id) for instance in instances}
    found: dict[tuple[int, str], Restore] = {}
    if keys:
        which = Q()
        for project_id in {project_id for project_id, _ in keys}:
            which |= Q(project_id=project_id, instance_cloud_id__in=[c for p, c in keys if p == project_id])
        restores = Restore.objects.filter(which).select_related("backup", "source_instance").defer("password")
        found = {(restore.project_id, restore.instance_cloud_id): restore for restore in restores}
    for instance in instances:
        instance.restored_from = found.get((instance.project_id, instance.cloud_id))


@dataclass
class InstanceRestores:
    """The restore facts of an instance's page."""

    last_proven: Restore | None
    schedule: RehearsalSchedule | None
    recent: list[Restore]
    restored_from: Restore | None
    can_restore: bool
    point_in_time: bool
    rehearsal_blocker: str | None = None


def _proven(restores):
    return restores.filter(status=Status.COMPLETED, finished_at__isnull=False).order_by("-finished_at", "-id")


def _newest_proven(restores) -> Restore | None:
    proven = [r for r in restores if r.status == Status.COMPLETED and r.finished_at]
    return max(proven, key=lambda r: (r.finished_at, r.pk), default=None)


def instance_restores(user, instance: Instance, *, last_good: Backup | None) -> InstanceRestores:
    """The latest restores of the instance, its last proven one, a rehearsal under way and the
    restore that made it (if one of ours did), in one query; its schedule in another. Why a
    rehearsal cannot start now (for Admins) comes from those and `last_good`, the instance's
    last good backup, which its page has read already."""
    of_instance = Restore.objects.filter(source_instance=instance)
    recent_ids = of_instance.order_by("-requested_at", "-id").values("pk")[:RECENT_RESTORES]
    proven_id = _proven(of_instance).values("pk")[:1]
    made_it = Q(project_id=instance.project_id, instance_cloud_id=instance.cloud_id)
    under_way = Q(source_instance=instance, kind=Restore.Kind.REHEARSAL, status__in=Restore.ACTIVE_STATUSES)
    rows = list(
        Restore.objects.filter(Q(pk__in=recent_ids) | Q(pk__in=proven_id) | made_it | under_way)
        .select_related("backup", "source_instance")
        .defer("password")
    )
    # The last proven one, when it is not among the latest, is older than all of them.
    mine = sorted((r for r in rows if r.source_instance_id == instance.pk), key=lambda r: (r.requested_at, r.pk))
    recent = mine[::-1][:RECENT_RESTORES]
    restored_from = next((r for r in rows if r.instance_cloud_id == instance.cloud_id), None)
    instance.restored_from = restored_from  # type: ignore[attr-defined]  # read by the instance row tag
    can_restore = user_can(user, Action.RESTORE, instance.project_id)
    return InstanceRestores(
        last_proven=_newest_proven(mine),
        schedule=RehearsalSchedule.objects.filter(instance=instance).first(),
        recent=recent,
        restored_from=restored_from,
        can_restore=can_restore,
        point_in_time=instance.mode == validators.MODE and not instance.gone_at,
        rehearsal_blocker=_rehearsal_blocker(instance, mine, last_good) if can_restore else None,
    )


def _rehearsal_blocker(instance: Instance, mine: list[Restore], last_good: Backup | None) -> str | None:
    under_way = any(r.is_rehearsal and r.status in Restore.ACTIVE_STATUSES for r in mine)
    # A good backup the cloud gave no id to cannot be restored: then ask the service's own rule.
    if last_good is not None and not last_good.backup_id:
        return rehearsal_problem(instance)
    return rehearsal_blocker(instance, under_way=under_way, has_backup=last_good is not None)


@dataclass
class BackupRestores:
    """The restore facts of a backup's page."""

    proven: Restore | None
    recent: list[Restore] = field(default_factory=list)
    can_restore: bool = False
    blocker: str | None = None


def backup_restores(user, backup: Backup) -> BackupRestores:
    """The latest restores of the backup and its last proven one, in one query."""
    of_backup = Restore.objects.filter(backup=backup)
    recent_ids = of_backup.order_by("-requested_at", "-id").values("pk")[:RECENT_RESTORES]
    proven_id = _proven(of_backup).values("pk")[:1]
    rows = sorted(
        Restore.objects.filter(Q(pk__in=recent_ids) | Q(pk__in=proven_id)).defer("password"),
        key=lambda r: (r.requested_at, r.pk),
        reverse=True,
    )
    return BackupRestores(
        proven=_newest_proven(rows),
        recent=rows[:RECENT_RESTORES],
        can_restore=user_can(user, Action.RESTORE, backup.instance.project_id),
        blocker=restorable_backup_problem(backup),
    )


def point_in_time_blocker(instance: Instance) -> str | None:
    """Why the instance cannot be restored to a point in time, or None."""
    if instance.gone_at:
        return _("%(instance)s is gone from the cloud: restore one of its backups instead.") % {
            "instance": instance.name
        }
    if instance.mode != validators.MODE:
        return _("Only a %(mode)s instance can be restored to a point in time.") % {"mode": validators.MODE}
    return None


_NOT_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]+")


def suggested_target_name(source: Instance, now: datetime | None = None) -> str:
    """`<source>-restored-YYYYMMDD-HHMM`, fitted to the API's name rules and not used by another
    restore of the project."""
    stamp = (now or timezone.now()).astimezone(UTC).strftime("%Y%m%d-%H%M")
    base = _NOT_NAME_CHARACTERS.sub("-", source.name).strip("-_")
    if not base or not base[0].isascii() or not base[0].isalpha():
        base = f"restore-{base}".rstrip("-_")
    suffix = f"-restored-{stamp}"
    base = base[: validators.NAME_MAX_LENGTH - len(suffix) - 3].rstrip("-_")
    name = candidate = f"{base}{suffix}"
    taken = set(
        Restore.objects.filter(project_id=source.project_id, target_name__startswith=name).values_list(
            "target_name", flat=True
        )
    )
    for number in range(2, 100):
        if candidate not in taken:
            break
        candidate = f"{name}-{number}"
    return candidate
