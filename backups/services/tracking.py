"""Following running backups to their end, from the cloud's backup list and jobs.

`backups_poll` follows the running backups of a project, on an interval that grows with each
backup's age. One backup-list call per poll tells every outcome (and size) at once, however
many backups run; the jobs API, which only adds progress (and a failure's reason), is read at
most every PROGRESS_EVERY, so following a hundred backups costs about one call per poll. A
backup the cloud stops reporting becomes UNKNOWN instead of "running" forever; one that runs
far longer than usual is flagged by the watchdog.
"""

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from backups import publish, timeline
from backups.cloud import CloudBackup, DjangoCacheCallBudget, Job, Throttled, client_for_project
from backups.lifecycle import backup_event_record, backup_transition
from backups.models import Backup, BackupEvent
from backups.selectors.instances import usual_duration
from notifications.events import EventKind, notify
from webapp import metrics
from webapp.logcontext import log_context

Status = Backup.Status

# A running backup neither the jobs API nor the backup list has shown for this long is lost.
UNKNOWN_AFTER = timedelta(minutes=15)
# Jobs API: a query window may span at most 30 days (querying_tasks_and_details.rst).
JOBS_WINDOW = timedelta(days=30)
# Below this, a backup is not flagged as overdue whatever its history says.
OVERDUE_FLOOR = timedelta(minutes=30)
# How often a project's running backups' progress is read from the jobs API.
PROGRESS_EVERY = timedelta(seconds=30)
# A poll records this many outcomes itself and hands more to other workers, this many a task.
OUTCOMES_PER_TASK = 5
# The backup list filters on begin time, to the second: the margin covers rounding and clock
# skew between us and the cloud.
LIST_MARGIN = timedelta(minutes=5)


def poll_interval(age: timedelta) -> timedelta:
    """Poll young backups often and old ones rarely: most finish within minutes."""
    if age < timedelta(minutes=2):
        return timedelta(seconds=settings.BACKUP_POLL_FIRST_SECONDS)
    if age < timedelta(minutes=10):
        return timedelta(seconds=15)
    if age < timedelta(hours=1):
        return timedelta(seconds=30)
    return timedelta(minutes=2)


def backups_poll(*, project) -> int:
    """Update the running backups of one project from the cloud, if any is due. Returns how
    many were followed."""
    now = timezone.now()
    active = list(Backup.objects.filter(instance__project=project, status__in=[Status.RUNNING, Status.UNKNOWN]))
    due = [b for b in active if b.next_poll_at is not None and b.next_poll_at <= now]
    if not due:
        return 0
    oldest = min(_began(b) for b in due)
    # The answer covers every backup begun since the oldest due one: follow those too, for free.
    followed = [b for b in active if b in due or _began(b) >= oldest]
    # A poll waits briefly for budget, then gives way to the next beat tick.
    budget = DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE, max_wait=10)
    client = client_for_project(project, call_budget=budget)
    # Both types: imported automated backups are followed here too.
    listed = client.list_backups(begin_time=oldest - LIST_MARGIN, end_time=now + LIST_MARGIN)
    cloud_backups = {cb.id: cb for cb in listed}
    jobs: dict[str, Job] = {}
    jobs_since = max(oldest - LIST_MARGIN, now - JOBS_WINDOW + timedelta(minutes=1))
    # The listed state of each backup the jobs API may know (imported automated ones have no job id).
    listed_states = [cloud_backups.get(b.backup_id) for b in followed if b.job_id]
    if any(cb and cb.is_failed for cb in listed_states):
        # Only the jobs API tells why a backup failed.
        jobs.update((job.id, job) for job in client.list_jobs(status=Job.FAILED, start_time=jobs_since))
    still_building = any(not (cb and (cb.is_completed or cb.is_failed)) for cb in listed_states)
    if still_building and cache.add(f"poll-progress:{project.pk}", 1, timeout=PROGRESS_EVERY.total_seconds()):
        jobs.update((job.id, job) for job in _progress(project, jobs_since))
    ended: list[tuple[Backup, Outcome]] = []
    still_running = _StillRunning(now)
    for backup in followed:
        job, cloud_backup = jobs.get(backup.job_id), cloud_backups.get(backup.backup_id)
        outcome = Outcome.of(backup, job, cloud_backup)
        if outcome:
            ended.append((backup, outcome))
        else:
            with log_context(backup_id=backup.pk):
                _backup_follow(backup, job, cloud_backup, still_running)
    record_here = _outcomes_hand_out(ended, still_running)
    still_running.save()
    outcomes_record(outcomes=record_here)
    return len(followed)


def _outcomes_hand_out(ended: list[tuple[Backup, "Outcome"]], later: "_StillRunning") -> list["Outcome"]:
    """Hand all but a few outcomes, in chunks, to other workers, and return the few to record
    here: a hundred backups ending at once show in the console as fast as all the workers
    can record them.

    A handed-out backup is next polled at its usual interval, as if still running: by then
    its outcome is recorded (and the poll passes it by), or the chunk was lost on its way
    (broker down, worker killed) and the poll finds it ended again. Recording an outcome
    twice changes nothing (`backup_transition`)."""
    here = [outcome for _, outcome in ended[:OUTCOMES_PER_TASK]]
    others = ended[OUTCOMES_PER_TASK:]
    for start in range(0, len(others), OUTCOMES_PER_TASK):
        chunk = others[start : start + OUTCOMES_PER_TASK]
        payload = [outcome.to_task() for _, outcome in chunk]
        if publish.hand_over(publish.RECORD_OUTCOMES, payload, what=f"{len(chunk)} outcomes"):
            for backup, _ in chunk:
                later.add(backup, seen=True)
        else:  # the broker is down (logged once): record them here instead
            here += [outcome for _, outcome in chunk]
    return here


def outcomes_record(*, outcomes: list["Outcome"]) -> None:
    """Record how each of these backups ended, unless that is recorded already."""
    for outcome in outcomes:
        with log_context(backup_id=outcome.backup_id):
            outcome.record()


def _progress(project, since: datetime) -> list[Job]:
    """The running backup jobs, if the call budget has room to spare: progress is a nicety
    that must wait neither a worker nor the outcomes and creations behind it."""
    limit = settings.CLOUD_CALLS_PER_MINUTE
    spare = DjangoCacheCallBudget(limit, reserve=max(1, limit // 5), max_wait=0)
    try:
        return client_for_project(project, call_budget=spare).list_jobs(status=Job.RUNNING, start_time=since)
    except Throttled as error:
        if error.status is not None:  # the cloud's 429, not our budget: let the poll report it
            raise
        return []


def _began(backup: Backup) -> datetime:
    return backup.started_at or backup.requested_at


@dataclass(frozen=True)
class Outcome:
    """How the cloud says a backup ended, from one poll's answers; recorded by that poll or
    handed to another worker (``to_task``/``from_task``: plain JSON for the broker)."""

    backup_id: int
    completed: bool
    size_kb: int | None = None
    began: datetime | None = None
    ended: datetime | None = None
    # The cloud's own words for a failure (only the jobs API has them).
    reason: str = ""

    @classmethod
    def of(cls, backup: Backup, job: Job | None, cloud_backup: CloudBackup | None) -> "Outcome | None":
        """The outcome the answers tell for ``backup``, or None while it has not ended."""
        if cloud_backup and cloud_backup.is_completed:
            return cls(
                backup.pk,
                completed=True,
                size_kb=cloud_backup.size_kb,
                began=cloud_backup.begin_time or backup.started_at,
                ended=cloud_backup.end_time,
            )
        if (job and job.is_failed) or (cloud_backup and cloud_backup.is_failed):
            ended = (job.end_time if job else None) or (cloud_backup.end_time if cloud_backup else None)
            return cls(backup.pk, completed=False, ended=ended, reason=job.fail_reason if job else "")
        return None

    def to_task(self) -> dict:
        """Plain JSON for the broker: the times in ISO 8601."""
        began, ended = (time.isoformat() if time else None for time in (self.began, self.ended))
        return {**dataclasses.asdict(self), "began": began, "ended": ended}

    @classmethod
    def from_task(cls, data: dict) -> "Outcome":
        began, ended = (datetime.fromisoformat(text) if text else None for text in (data["began"], data["ended"]))
        return cls(**{**data, "began": began, "ended": ended})

    def record(self) -> None:
        now = timezone.now()
        if self.completed:
            recorded = backup_transition(
                self.backup_id,
                Status.COMPLETED,
                event=BackupEvent.Kind.COMPLETED,
                message=timeline.line(timeline.COMPLETED, size_kb=self.size_kb, seconds=self._seconds),
                progress=100,
                size_kb=self.size_kb,
                started_at=self.began,
                finished_at=self.ended or now,
                last_seen_in_cloud_at=now,
                next_poll_at=None,
            )
        else:
            # Only the cloud's own words are stored as its reason: the page sends people to read it.
            recorded = backup_transition(
                self.backup_id,
                Status.FAILED,
                event=BackupEvent.Kind.FAILED,
                message=(
                    timeline.line(timeline.FAILED, reason=self.reason)
                    if self.reason
                    else timeline.line(timeline.FAILED_WITHOUT_REASON)
                ),
                error_code="JOB_FAILED",
                error_message=self.reason,
                finished_at=self.ended or now,
                last_seen_in_cloud_at=now,
                next_poll_at=None,
            )
        if recorded:
            metrics.completion_lag(self.ended)

    @property
    def _seconds(self) -> int | None:
        """How long it took, when the cloud says when it began and ended."""
        return int((self.ended - self.began).total_seconds()) if self.began and self.ended else None


class _StillRunning:
    """The backups of one poll that go on running: each gets its next poll time (and, if the
    cloud showed it, the time it was seen) in one UPDATE per interval, not one per backup."""

    def __init__(self, now: datetime):
        self.now = now
        self.seen: dict[timedelta, list[int]] = defaultdict(list)
        self.unseen: dict[timedelta, list[int]] = defaultdict(list)

    def add(self, backup: Backup, *, seen: bool) -> None:
        interval = poll_interval(self.now - _began(backup))
        (self.seen if seen else self.unseen)[interval].append(backup.pk)

    def save(self) -> None:
        for interval, pks in self.seen.items():
            Backup.objects.filter(pk__in=pks, status=Status.RUNNING).update(
                last_seen_in_cloud_at=self.now, next_poll_at=self.now + interval
            )
        for interval, pks in self.unseen.items():
            Backup.objects.filter(pk__in=pks).update(next_poll_at=self.now + interval)


def _backup_follow(backup: Backup, job: Job | None, cloud_backup: CloudBackup | None, later: _StillRunning) -> None:
    """A backup the cloud does not report as ended: note that it was seen (and its progress),
    or, once it has not been seen for long, that it is lost."""
    now = later.now
    if job is not None or cloud_backup is not None:
        if backup.status == Status.UNKNOWN:
            backup_transition(
                backup.pk, Status.RUNNING, event=BackupEvent.Kind.NOTE, message=timeline.line(timeline.REAPPEARED)
            )
        if job and job.progress is not None and job.progress != backup.progress:
            Backup.objects.filter(pk=backup.pk, status=Status.RUNNING).update(progress=job.progress)
            if job.progress // 25 > (backup.progress or 0) // 25:
                backup_event_record(
                    backup.pk, BackupEvent.Kind.PROGRESS, timeline.line(timeline.PROGRESS, progress=job.progress)
                )
        later.add(backup, seen=True)
        return
    last_seen = backup.last_seen_in_cloud_at or _began(backup)
    if backup.status == Status.RUNNING and now - last_seen > UNKNOWN_AFTER:
        backup_transition(
            backup.pk,
            Status.UNKNOWN,
            event=BackupEvent.Kind.UNKNOWN,
            message=timeline.line(timeline.LOST, last_seen=last_seen.isoformat()),
            error_code="LOST",
            error_message="The cloud stopped reporting on this backup.",
            next_poll_at=now + timedelta(minutes=5),
        )
    else:
        later.add(backup, seen=False)


def backups_watchdog() -> int:
    """Flag running backups that take far longer than their instance usually needs."""
    now = timezone.now()
    flagged = 0
    running = Backup.objects.filter(status=Status.RUNNING, overdue=False, started_at__lt=now - OVERDUE_FLOOR)
    for backup in running.select_related("instance__project"):
        usual = usual_duration(backup.instance)
        limit = max(OVERDUE_FLOOR, 3 * usual) if usual else timedelta(hours=6)
        if backup.started_at is not None and now - backup.started_at > limit:
            if usual:
                line = timeline.line(timeline.OVERDUE, usual_seconds=int(usual.total_seconds()))
            else:
                line = timeline.line(timeline.OVERDUE_WITHOUT_HISTORY)
            with transaction.atomic():
                if not Backup.objects.filter(pk=backup.pk, overdue=False).update(overdue=True):
                    continue  # another watchdog flagged it meanwhile
                backup_event_record(backup.pk, BackupEvent.Kind.NOTE, line)
                notify(
                    kind=EventKind.BACKUP_LOST,
                    key=f"backup:{backup.pk}:overdue",
                    project=backup.instance.project,
                    instance=backup.instance,
                    backup=backup,
                    reason=line.message,
                )
            flagged += 1
    return flagged
