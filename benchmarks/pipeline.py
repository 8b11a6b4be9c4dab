"""The backup pipeline under load: real Celery worker and beat, the simulator as the cloud.

100 backups are requested at once across 100 instances. Measured: time until all are
submitted, cloud API calls per completed backup by kind, polling calls while all run, and
the delay between the simulator ending a job and the history showing it.
"""

import statistics
import tempfile
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from access.models import CloudProject
from backups.models import Backup, BackupEvent, Instance
from backups.services import submission, sync
from tests.fixtures.simulator import SimulatorHandle, start_simulator
from tests.fixtures.worker import Worker

BACKUPS = 100
JOB_SECONDS = 40
# The gateway's published per-user limit for a sibling service (FIELD-NOTES): the simulator
# enforces it, so any call over budget would show up as a 429.
GATEWAY_LIMIT_PER_MINUTE = 60


def run(report) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    process = start_simulator(
        "--world", "empty", "--job-seconds", str(JOB_SECONDS), "--failure-rate", "0", "--seed", "7",
        "--rate-limit", str(GATEWAY_LIMIT_PER_MINUTE), "--no-automated-backups",  # only our 100 backups
        log_path=tmp / "simulator.log",
    )  # fmt: skip
    simulator = SimulatorHandle(process.url)
    worker = Worker(tmp, env={})  # production pacing: the settings' defaults
    try:
        project = _world(simulator)
        worker.start()
        _measure(report, simulator, project, worker)
    finally:
        worker.stop()
        process.stop()


def _world(simulator: SimulatorHandle) -> CloudProject:
    """A project of its own beside the pages' world, with 100 instances in the simulator."""
    old = CloudProject.objects.filter(name="bench-pipeline")
    Backup.objects.filter(instance__project__in=old).delete()
    Instance.objects.filter(project__in=old).delete()
    old.delete()
    project = CloudProject.objects.create(name="bench-pipeline", **simulator.project_fields())
    for i in range(BACKUPS):
        simulator.add_instance(f"cassandra-{i:03d}")
    sync.instances_sync(project=project)
    return project


def _measure(report, simulator: SimulatorHandle, project: CloudProject, worker: Worker) -> None:
    user, _ = get_user_model().objects.get_or_create(username="bench-operator")
    before = simulator.counters()
    started = time.monotonic()
    for instance in Instance.objects.filter(project=project):
        with transaction.atomic():
            submission.backup_request(instance=instance, user=user, name="bench-0001", description="benchmark")
    requested = time.monotonic()

    ours = Backup.objects.filter(instance__project=project)

    def count(*statuses):
        return ours.filter(status__in=statuses).count()

    submitted_at = _wait(lambda: count(Backup.Status.QUEUED, Backup.Status.SUBMITTING) == 0, 600, worker)
    all_running_calls = simulator.counters()
    time.sleep(20)  # a stretch where all run: what does following 100 backups cost?
    after_stretch = simulator.counters()
    _wait(lambda: count(*Backup.ACTIVE_STATUSES) == 0, 600, worker)
    finished = time.monotonic()
    after = simulator.counters()

    calls = {kind: after["by_kind"].get(kind, 0) - before["by_kind"].get(kind, 0) for kind in after["by_kind"]}
    completed = ours.filter(status=Backup.Status.COMPLETED).count()
    polling_in_stretch = sum(
        after_stretch["by_kind"].get(k, 0) - all_running_calls["by_kind"].get(k, 0)
        for k in ("get_job", "list_jobs", "list_backups")
    )
    delays = _completion_delays(simulator, project)
    throttled = after["by_status"].get("429", 0) - before["by_status"].get("429", 0)

    report.section("Pipeline: 100 backups at once (real Celery worker + beat, simulator)")
    report.line(f"Simulated backup duration {JOB_SECONDS} s; gateway limit {GATEWAY_LIMIT_PER_MINUTE} calls/min/user.")
    report.table(
        ["measure", "value"],
        [
            ["requests recorded (100 form posts' worth of service calls)", f"{requested - started:.2f} s"],
            ["time until all 100 were submitted to the cloud", f"{submitted_at - started:.1f} s"],
            ["time until all 100 ended", f"{finished - started:.1f} s"],
            ["completed", f"{completed} of {BACKUPS}"],
            ["429 answers from the gateway", str(throttled)],
            ["polling calls in 20 s while all 100 ran", str(polling_in_stretch)],
            ["completion visible after the cloud finished: p50 / p95 / max",
             " / ".join(f"{d:.1f} s" for d in delays)],
        ],
    )  # fmt: skip
    report.table(
        ["cloud API calls", "total", "per completed backup"],
        [[kind, str(n), f"{n / max(completed, 1):.2f}"] for kind, n in sorted(calls.items()) if n]
        + [["all", str(sum(calls.values())), f"{sum(calls.values()) / max(completed, 1):.2f}"]],
    )
    report.metric("pipeline_calls_per_backup", sum(calls.values()) / max(completed, 1))
    report.metric("pipeline_completion_delay_p95", delays[1])


def _completion_delays(simulator: SimulatorHandle, project: CloudProject) -> tuple[float, float, float]:
    """How long after the simulator ended each job the history showed it (p50, p95, max)."""
    ended = {b["id"]: b["ended_at_epoch"] for b in simulator.backups() if b.get("ended_at_epoch")}
    completions = BackupEvent.objects.filter(kind=BackupEvent.Kind.COMPLETED, backup__instance__project=project)
    seen = dict(completions.values_list("backup__backup_id", "at"))
    delays = sorted(seen[i].timestamp() - ended[i] for i in ended if i in seen)
    if not delays:
        return (0.0, 0.0, 0.0)
    return (statistics.median(delays), delays[int(len(delays) * 0.95) - 1], delays[-1])


def _wait(predicate, timeout: float, worker: Worker) -> float:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"pipeline benchmark timed out at {timezone.now()}:\n{worker.output()}")
        time.sleep(0.25)
    return time.monotonic()
