"""The backup pipeline under load: ten projects at once, real Celery workers and beat, the
simulator as the cloud.

Ten projects, each connected as its own IAM user (its own call budget here, its own rate
limit at the simulated gateway), 100 instances each. Within one minute every project's team
asks for a backup of each of its instances, a burst of 100 per project, the projects 6 s
apart, through `submission.backup_request` as the form and the API do. Two worker processes
(as docker-compose runs one) and a beat, with production pacing: the settings' defaults.

Measured: whether all complete; 429 answers from the gateway; cloud calls per backup; how
long after the cloud finished a backup the console showed it; each project's time to all
submitted and all ended (the slowest project's figures show whether any starved); and the
workers' CPU time per backup.
"""

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from access.models import CloudProject
from backups.models import Backup, BackupEvent, Instance
from backups.services import submission
from tests.fixtures.simulator import SimulatorHandle, start_simulator
from tests.fixtures.worker import Beat, Worker, purge_broker

PROJECTS = 10
INSTANCES_PER_PROJECT = 100
# Each project's burst of requests starts this long after the one before: all within a minute.
PROJECT_STAGGER_SECONDS = 6
REQUEST_WINDOW_LIMIT_SECONDS = 60
JOB_SECONDS = 40
WORKERS = 2
WORKER_CONCURRENCY = 4  # as docker-compose.yml runs a worker
# The gateway's published per-user limit for a sibling service (FIELD-NOTES): the simulator
# enforces it per IAM user, so any call over a budget would show up as a 429.
GATEWAY_LIMIT_PER_MINUTE = 60
CALLS_PER_BACKUP_LIMIT = 1.5
# Completion must be visible at most this long after the poll interval.
LAG_ALLOWANCE_SECONDS = 2
TIMEOUT_SECONDS = 600
PREFIX = "bench-pipeline"


def run(report) -> None:
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    process = start_simulator(
        "--world", "empty", "--job-seconds", str(JOB_SECONDS), "--failure-rate", "0", "--seed", "7",
        "--rate-limit", str(GATEWAY_LIMIT_PER_MINUTE), "--no-automated-backups",  # only our backups
        log_path=tmp / "simulator.log",
    )  # fmt: skip
    simulator = SimulatorHandle(process.url)
    env: dict[str, str] = {}  # production pacing: the settings' defaults
    workers = [Worker(tmp, env, name=f"worker{n}", concurrency=WORKER_CONCURRENCY, beat=False) for n in (1, 2)]
    beat = Beat(tmp, env)
    try:
        projects = _world(simulator)
        cache.clear()  # no token or budget left from an earlier run
        purge_broker()
        workers_started = timezone.now()
        for worker in workers:
            worker.start()
        beat.start()
        wait_for_startup_syncs(projects, workers, workers_started)
        _measure(report, simulator, projects, workers, beat, process.process.pid)
    finally:
        beat.stop()
        for worker in workers:
            worker.stop()
        process.stop()
    report.line(f"The pipeline part took {(time.monotonic() - started) / 60:.1f} min (limit about 8).")
    report.metric("pipeline_part_minutes", (time.monotonic() - started) / 60)


def _world(simulator: SimulatorHandle) -> list[CloudProject]:
    """Ten projects beside the pages' world, each its own IAM user, with 100 instances each in
    the simulator and in the console (as a sync left them: instances and policies read)."""
    old = CloudProject.objects.filter(name__startswith=PREFIX)
    Backup.objects.filter(instance__project__in=old).delete()
    Instance.objects.filter(project__in=old).delete()
    old.delete()
    projects = []
    for n in range(1, PROJECTS + 1):
        fields = simulator.add_project(f"eu-de_team{n:02d}", f"console-team{n:02d}", f"password-{n:02d}")
        project = CloudProject.objects.create(name=f"{PREFIX}-{n:02d}", **fields)
        for i in range(INSTANCES_PER_PROJECT):
            simulator.add_instance(f"cassandra-{n:02d}-{i:03d}", project_id=project.project_id)
        projects.append(project)
    now = timezone.now()
    by_project = {p.project_id: p for p in projects}
    Instance.objects.bulk_create(
        Instance(
            project=by_project[cloud["project_id"]],
            cloud_id=cloud["id"],
            name=cloud["name"],
            status=cloud["status"],
            mode="Cluster",
            synced_at=now,
            policy_keep_days=cloud["policy"]["keep_days"],
            policy_start_time=cloud["policy"]["start_time"],
            policy_period=cloud["policy"]["period"],
            policy_synced_at=now,
        )
        for cloud in simulator.state()["instances"]
        if cloud["project_id"] in by_project
    )
    return projects


def wait_for_startup_syncs(projects: list[CloudProject], workers: list[Worker], started) -> None:
    """Each worker syncs every project when it starts: let those finish before measuring."""
    ours = CloudProject.objects.filter(pk__in=[p.pk for p in projects])

    def synced() -> bool:
        fresh = ours.filter(instances_synced_at__gte=started).count() == len(projects)
        return fresh and not ours.filter(sync_started_at__isnull=False).exists()

    _wait(synced, 120, workers)
    time.sleep(2)  # the second worker's syncs, if they came after the first one's


def _measure(report, simulator, projects, workers, beat, simulator_pid) -> None:
    user, _ = get_user_model().objects.get_or_create(username="bench-operator")
    before = simulator.counters()
    cpu_before = [_tree_cpu_seconds(w.process.pid) for w in workers]
    beat_cpu_before = _tree_cpu_seconds(beat.process.pid)
    simulator_cpu_before = _tree_cpu_seconds(simulator_pid)
    started = time.monotonic()
    first_request: dict[int, float] = {}
    last_request: dict[int, float] = {}
    # One thread per project's team, each starting on its own schedule: a slow burst (the
    # machine is busy) does not push the next project's requests back.
    teams = [
        threading.Thread(
            target=_request_all,
            args=(project, user, started + n * PROJECT_STAGGER_SECONDS, first_request, last_request),
        )
        for n, project in enumerate(projects)
    ]
    for team in teams:
        team.start()
    submitted: dict[int, float] = {}
    ended: dict[int, float] = {}
    deadline = started + TIMEOUT_SECONDS
    while len(ended) < len(projects):
        if time.monotonic() > deadline:
            raise RuntimeError(f"pipeline benchmark timed out at {timezone.now()}:\n{workers[0].output()}")
        _record_progress(projects, dict(last_request), submitted, ended)
        time.sleep(0.25)
    finished = time.monotonic()
    for team in teams:
        team.join()
    cpu = sum(_tree_cpu_seconds(w.process.pid) for w in workers) - sum(cpu_before)
    beat_cpu = _tree_cpu_seconds(beat.process.pid) - beat_cpu_before
    simulator_cpu = _tree_cpu_seconds(simulator_pid) - simulator_cpu_before
    after = simulator.counters()
    _report(
        report,
        simulator=simulator,
        projects=projects,
        before=before,
        after=after,
        request_window=max(last_request.values()) - started,
        total=finished - started,
        first_request=first_request,
        submitted=submitted,
        ended=ended,
        cpu=(cpu, beat_cpu, simulator_cpu),
    )


def _request_all(project, user, at: float, first_request: dict, last_request: dict) -> None:
    """One team asks for a backup of each of its instances, at once, from ``at`` on."""
    try:
        instances = list(Instance.objects.filter(project=project).select_related("project"))
        time.sleep(max(0.0, at - time.monotonic()))
        first_request[project.pk] = time.monotonic()
        for instance in instances:
            with transaction.atomic():  # each request's on_commit publish, as after a form post
                submission.backup_request(instance=instance, user=user, name="bench-0001", description="benchmark")
        last_request[project.pk] = time.monotonic()
    finally:
        connection.close()


def _record_progress(projects, requested, submitted, ended) -> None:
    """Note when each project whose requests are all in has none waiting to be submitted, and
    none active."""
    counts: dict[int, dict[str, int]] = {p.pk: {} for p in projects}
    rows = (
        Backup.objects.filter(instance__project__in=list(requested))
        .values_list("instance__project_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for project_id, status, n in rows:
        counts[project_id][status] = n
    now = time.monotonic()
    for project_id in requested:
        by_status = counts[project_id]
        if project_id not in submitted and not (
            by_status.get(Backup.Status.QUEUED) or by_status.get(Backup.Status.SUBMITTING)
        ):
            submitted[project_id] = now
        if project_id not in ended and not any(by_status.get(s) for s in Backup.ACTIVE_STATUSES):
            ended[project_id] = now


def _report(report, *, simulator, projects, before, after, request_window, total, first_request, submitted, ended, cpu):
    backups = PROJECTS * INSTANCES_PER_PROJECT
    ours = Backup.objects.filter(instance__project__in=projects)
    completed = ours.filter(status=Backup.Status.COMPLETED).count()
    calls = {kind: after["by_kind"].get(kind, 0) - before["by_kind"].get(kind, 0) for kind in after["by_kind"]}
    all_calls = sum(calls.values())
    throttled = after["by_status"].get("429", 0) - before["by_status"].get("429", 0)
    lags = _completion_lags(simulator, projects)
    all_lags = sorted(lag for project_lags in lags.values() for lag in project_lags)
    poll_interval = settings.BACKUP_POLL_FIRST_SECONDS
    tick = settings.CELERY_BEAT_SCHEDULE["poll-running-backups"]["schedule"]
    lag_limit = poll_interval + LAG_ALLOWANCE_SECONDS
    worker_cpu, beat_cpu, simulator_cpu = cpu

    rows = []
    for project in projects:
        pk = project.pk
        project_calls = _project_calls(before, after, project.project_id)
        rows.append(
            [
                project.name,
                f"{submitted[pk] - first_request[pk]:.0f} s",
                f"{ended[pk] - first_request[pk]:.0f} s",
                _p95_text(lags[pk]),
                f"{project_calls / INSTANCES_PER_PROJECT:.2f}",
            ]
        )
    slowest = max(projects, key=lambda p: ended[p.pk] - first_request[p.pk])
    slowest_ended = ended[slowest.pk] - first_request[slowest.pk]
    fastest_ended = min(ended[p.pk] - first_request[p.pk] for p in projects)

    report.section(f"Pipeline: {PROJECTS} projects at once (real Celery workers + beat, simulator)")
    report.line(
        f"{PROJECTS} projects, each its own IAM user, {INSTANCES_PER_PROJECT} instances each; one backup of every "
        f"instance requested through `submission.backup_request`, {INSTANCES_PER_PROJECT} per project at once, "
        f"the projects {PROJECT_STAGGER_SECONDS} s apart. Simulated backups take {JOB_SECONDS} s; the gateway allows "
        f"{GATEWAY_LIMIT_PER_MINUTE} calls/min per IAM user; the console budgets "
        f"{settings.CLOUD_CALLS_PER_MINUTE} (`CLOUD_CALLS_PER_MINUTE`). {WORKERS} worker processes "
        f"(`--concurrency {WORKER_CONCURRENCY}` each) and a beat, with the settings' default pacing."
    )
    report.line()
    report.line(
        f"The poll interval: a backup younger than 2 minutes is polled every `BACKUP_POLL_FIRST_SECONDS` = "
        f"{poll_interval:g} s, the poll tick (`BACKUP_POLL_TICK_SECONDS`) is {tick:g} s; so completion should "
        f"show within {poll_interval:g} + {LAG_ALLOWANCE_SECONDS} = {lag_limit:g} s."
    )
    report.line()
    report.table(
        ["measure", "limit", "value"],
        [
            ["all requests recorded within", f"{REQUEST_WINDOW_LIMIT_SECONDS} s", f"{request_window:.1f} s"],
            ["completed", f"{backups}", f"{completed}"],
            ["429 answers from the gateway", "0", str(throttled)],
            ["cloud calls per backup", f"<= {CALLS_PER_BACKUP_LIMIT}", f"{all_calls / max(completed, 1):.2f}"],
            ["completion visible after the cloud finished, p95", f"<= {lag_limit:g} s", _p95_text(all_lags)],
            ["... p50 / max", "", f"{_quantile(all_lags, 0.5):.1f} s / {all_lags[-1]:.1f} s" if all_lags else "—"],
            ["slowest project: all ended after its first request", f"peer: fastest {fastest_ended:.0f} s",
             f"{slowest_ended:.0f} s ({slowest.name})"],
            ["slowest project: all submitted / completion p95",  "",
             f"{submitted[slowest.pk] - first_request[slowest.pk]:.0f} s / {_p95_text(lags[slowest.pk])}"],
            ["everything ended after the first request", "", f"{total:.0f} s"],
            ["worker CPU per backup (2 workers, pool processes included)", "",
             f"{worker_cpu / max(completed, 1) * 1000:.0f} ms ({worker_cpu:.0f} s in all)"],
            ["peers: beat CPU / simulator CPU, in all", "", f"{beat_cpu:.1f} s / {simulator_cpu:.1f} s"],
        ],
    )  # fmt: skip
    report.table(["project", "all submitted", "all ended", "completion p95", "calls per backup"], rows)
    report.table(
        ["cloud API calls", "total", "per completed backup"],
        [[kind, str(n), f"{n / max(completed, 1):.2f}"] for kind, n in sorted(calls.items()) if n]
        + [["all", str(all_calls), f"{all_calls / max(completed, 1):.2f}"]],
    )
    report.metric("pipeline_completed", completed)
    report.metric("pipeline_429", throttled)
    report.metric("pipeline_calls_per_backup", all_calls / max(completed, 1))
    report.metric("pipeline_completion_delay_p95", _quantile(all_lags, 0.95))
    report.metric("pipeline_slowest_project_ended_seconds", slowest_ended)
    report.metric("pipeline_worker_cpu_ms_per_backup", worker_cpu / max(completed, 1) * 1000)


def _project_calls(before: dict, after: dict, project_id: str) -> int:
    def total(counters: dict) -> int:
        return sum(counters.get("by_project", {}).get(project_id, {}).get("by_kind", {}).values())

    return total(after) - total(before)


def _completion_lags(simulator: SimulatorHandle, projects: list[CloudProject]) -> dict[int, list[float]]:
    """Per project, how long after the simulator ended each job the history showed it."""
    ended = {b["id"]: b["ended_at_epoch"] for b in simulator.backups() if b.get("ended_at_epoch")}
    completions = BackupEvent.objects.filter(kind=BackupEvent.Kind.COMPLETED, backup__instance__project__in=projects)
    lags: dict[int, list[float]] = {p.pk: [] for p in projects}
    for project_id, backup_id, at in completions.values_list("backup__instance__project_id", "backup__backup_id", "at"):
        if backup_id in ended:
            lags[project_id].append(at.timestamp() - ended[backup_id])
    return {pk: sorted(values) for pk, values in lags.items()}


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if q == 0.5:
        return statistics.median(values)
    return values[max(0, int(len(values) * q + 0.5) - 1)]


def _p95_text(values: list[float]) -> str:
    return f"{_quantile(values, 0.95):.1f} s" if values else "—"


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (reaped ones included), from /proc."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = text[text.rindex(")") + 2 :].split()  # from field 3 (state) on
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            utime, stime, cutime, cstime = (int(v) for v in stats[current][11:15])
            total += utime + stime + cutime + cstime
        todo.extend(children.get(current, []))
    return total / ticks


def _wait(predicate, timeout: float, workers: list[Worker]) -> float:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"pipeline benchmark timed out at {timezone.now()}:\n{workers[0].output()}")
        time.sleep(0.25)
    return time.monotonic()
