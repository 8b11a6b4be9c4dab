"""The soak run itself: the world, the processes, the load, the drain, and the outcome of every
request (see soak.py for what and why)."""

import contextlib
import io
import os
import statistics
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Min
from django.utils import timezone

from access.models import CloudProject, Membership
from backups.models import Backup, BackupEvent, Instance
from notifications.events import EventKind
from notifications.services.channels import channel_add
from notifications.services.subscriptions import subscription_set
from tests.fixtures.simulator import SimulatorHandle, start_simulator
from tests.fixtures.worker import Beat, Worker

from .pipeline import wait_for_startup_syncs
from .refresh import Gunicorn
from .soak_probe import Processes, sample
from .soak_users import HTTP_TIMEOUT, ApiUser, InstancePool, WebhookReceiver, WebUser, run_user

REPO = Path(__file__).resolve().parent.parent
PROJECTS = 3
INSTANCES_PER_PROJECT = 30
WEB_USERS = 4
API_USERS = 2
PASSWORD = "soak-only-password-0123"  # noqa: S105 - a throwaway account in a throwaway database
WORKER_CONCURRENCY = 2  # as Procfile.prod runs a worker
GATEWAY_LIMIT_PER_MINUTE = 60
# Throughout: the cloud's everyday faults. Each minute also drops the answer to one create;
# every third minute is slow, and the one after it expires every token.
FAULTS = {
    "failure_rate": 0.05,
    "error_rate": 0.05,
    "throttle_rate": 0.05,
    "drop_connection_rate": 0.02,
    "latency_ms": 20,
    "job_seconds": 20,
}
SLOW_MINUTE = {"latency_ms": 1500, "job_seconds": 90}
FAULT_CYCLE_SECONDS = 180  # a slow minute, a minute with every token expired, a plain one
RECEIVER_FAILURE_RATE = 0.05
TRACK_SECONDS = 2
# A request that got no answer but whose backup is not in the database after this long never landed.
UNANSWERED_GRACE_SECONDS = 60
TERMINAL_EVENTS = (BackupEvent.Kind.COMPLETED, BackupEvent.Kind.FAILED, BackupEvent.Kind.UNKNOWN)


def soak(args, run_dir: Path) -> dict:
    simulator_process = start_simulator(
        "--world", "empty", "--job-seconds", str(FAULTS["job_seconds"]), "--failure-rate", "0", "--seed", "16",
        "--rate-limit", str(GATEWAY_LIMIT_PER_MINUTE), "--no-automated-backups",  # only the soak's backups
        log_path=run_dir / "simulator.log",
    )  # fmt: skip
    simulator = SimulatorHandle(simulator_process.url)
    receiver = WebhookReceiver(RECEIVER_FAILURE_RATE)
    projects, web_people, api_people = _world(simulator, receiver)
    workers = [Worker(run_dir, {}, name=f"worker{n}", concurrency=WORKER_CONCURRENCY, beat=False) for n in (1, 2)]
    beat = Beat(run_dir, {})
    with contextlib.ExitStack() as running:  # stopped in reverse: web, beat, workers, receiver, cloud
        running.callback(simulator_process.stop)
        running.callback(receiver.stop)
        started = timezone.now()
        for worker in [*workers, beat]:
            worker.start()
            running.callback(worker.stop)
        wait_for_startup_syncs(projects, workers, started)  # the instances come in through the sync
        web = running.enter_context(Gunicorn(REPO))
        processes = Processes(web.process.pid, [w.process.pid for w in workers], beat.process.pid, run_dir / "metrics")
        instances = list(Instance.objects.filter(project__in=projects).values_list("pk", flat=True))
        users = [WebUser(web.url, name, PASSWORD) for name in web_people]
        users += [ApiUser(web.url, name, token) for name, token in api_people.items()]
        for user in users:
            if isinstance(user, WebUser):
                user.sign_in()
        simulator.configure(**FAULTS)
        counters_before = simulator.counters()
        pool = InstancePool(instances)
        samples, schedule = _load(args, simulator, processes, pool, users)
        counters_after = simulator.counters()
        cloud_backups = simulator.backups()
    return {
        "run_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "settings": _settings(args, len(instances)),
        "outcome": _outcome(pool, cloud_backups),
        "faults": {"schedule": schedule, "answers": _answers(counters_before, counters_after)},
        "answers": {user.username: dict(user.pages) for user in users},
        "api_replayed": sum(getattr(user, "replayed", 0) for user in users),
        "refusals": dict(Counter(r.detail for r in pool.requests if r.outcome == "refused")),
        "errors": dict(Counter(r.detail for r in pool.requests if r.outcome == "error")),
        "skipped_no_free_instance": pool.skipped,
        "webhook": {
            "answered": dict(receiver.answered),
            "delivered": len(receiver.received),
            "delivered_twice": sum(1 for n in receiver.received.values() if n > 1),
        },
        # gunicorn restarts a worker after about 1,000 requests (gunicorn.conf.py): its memory starts again.
        "gunicorn_workers_recycled": len(
            {pid for row in samples for pid in row["web_pids"]} - set(samples[0]["web_pids"])
        ),
        "samples": samples,
    }


def _world(simulator: SimulatorHandle, receiver: WebhookReceiver):
    """Projects (each its own IAM user) with instances in the cloud; operators for the pages
    who asked for an email per outcome, pipelines' tokens, a webhook channel per project."""
    users = get_user_model().objects
    admin = users.create_user("soak-admin", "soak-admin@example.com", PASSWORD)
    web_people = [f"soak-web{n}" for n in range(1, WEB_USERS + 1)]
    api_people = [f"soak-api{n}" for n in range(1, API_USERS + 1)]
    people = [users.create_user(name, f"{name}@example.com", PASSWORD) for name in web_people + api_people]
    projects = []
    for n in range(1, PROJECTS + 1):
        fields = simulator.add_project(f"eu-de_soak{n}", f"console-soak{n}", f"password-soak-{n}")
        project = CloudProject.objects.create(name=f"soak-{n}", **fields)
        for i in range(1, INSTANCES_PER_PROJECT + 1):
            simulator.add_instance(f"cassandra-{n}-{i:02d}", project_id=project.project_id)
        Membership.objects.create(user=admin, project=project, role=Membership.Role.ADMIN)
        Membership.objects.bulk_create(
            Membership(user=person, project=project, role=Membership.Role.OPERATOR) for person in people
        )
        channel_add(
            project=project,
            by=admin,
            kind="webhook",
            name="soak receiver",
            target=f"{receiver.url}/hooks/{n}",
            events=[EventKind.BACKUP_COMPLETED, EventKind.BACKUP_FAILED, EventKind.BACKUP_LOST],
        )
        projects.append(project)
    for person in people[:WEB_USERS]:
        subscription_set(user=person, backup_outcomes=True)
    tokens = {name: _api_token(name) for name in api_people}
    return projects, web_people, tokens


def _api_token(username: str) -> str:
    """A token as an operator would make one from the shell (it prints the token alone)."""
    out = io.StringIO()
    call_command("create_api_token", username, "--name", "soak pipeline", stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def _load(args, simulator, processes, pool: InstancePool, users) -> tuple[list[dict], list[str]]:
    """The steady stream for args.minutes, sampled; then the drain, until every backup asked
    for has ended (or args.drain_seconds)."""
    interval = len(users) * 60 / args.backups_per_minute
    stop = threading.Event()
    start = time.monotonic()
    threads = [
        threading.Thread(target=run_user, args=(user, pool, stop, interval, start + i * interval / len(users)))
        for i, user in enumerate(users)
    ]
    samples = [sample(processes, elapsed=0, phase="start", requested=0)]
    for thread in threads:
        thread.start()
    schedule: list[str] = []
    load_end = start + args.minutes * 60
    next_sample, next_fault, minute = start + args.sample_seconds, start + 60, 0
    while time.monotonic() < load_end:
        _track(pool)
        now = time.monotonic()
        if now >= next_fault and now < load_end - 1:
            minute += 1
            schedule.append(_fault_minute(simulator, minute))
            next_fault += 60
        if now >= next_sample and now < load_end - 1:
            samples.append(sample(processes, elapsed=now - start, phase="load", requested=len(pool.requests)))
            next_sample += args.sample_seconds
        time.sleep(TRACK_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(HTTP_TIMEOUT * 4)
    simulator.configure(**FAULTS)  # a slow minute ends with the load; the everyday faults stay
    samples.append(
        sample(processes, elapsed=time.monotonic() - start, phase="end of load", requested=len(pool.requests))
    )
    drain_end = time.monotonic() + args.drain_seconds
    while pool.claims() and time.monotonic() < drain_end:
        _track(pool)
        time.sleep(TRACK_SECONDS)
    time.sleep(15)  # the last outcomes' notifications and emails leave through their outboxes
    samples.append(
        sample(processes, elapsed=time.monotonic() - start, phase="after drain", requested=len(pool.requests))
    )
    return samples, schedule


def _fault_minute(simulator: SimulatorHandle, minute: int) -> str:
    """Each minute one create's answer is dropped; every third minute is slow, and the minute
    after it every token expires."""
    changes: dict = {"drop_connection_after_create": 1}
    what = [f"minute {minute}: the next create's answer dropped"]
    if minute % (FAULT_CYCLE_SECONDS // 60) == 1:
        changes.update(SLOW_MINUTE)
        what.append(f"slow (answers +{SLOW_MINUTE['latency_ms']} ms, jobs {SLOW_MINUTE['job_seconds']} s)")
    elif minute % (FAULT_CYCLE_SECONDS // 60) == 2:
        changes.update(latency_ms=FAULTS["latency_ms"], job_seconds=FAULTS["job_seconds"], expire_tokens=True)
        what.append("every token expired")
    simulator.configure(**changes)
    return ", ".join(what)


def _track(pool: InstancePool) -> None:
    """Free the instances whose backups ended; find the backups of requests that got no answer."""
    claims = pool.claims()
    by_backup = {c.request.backup: c for c in claims if c.request.backup}
    for pk in (
        Backup.objects.filter(pk__in=by_backup).exclude(status__in=Backup.ACTIVE_STATUSES).values_list("pk", flat=True)
    ):
        pool.release(by_backup[pk].request.instance)
    for claim in claims:
        request = claim.request
        if request.backup is None and time.monotonic() - claim.since > 5:
            found = Backup.objects.filter(instance_id=request.instance, name=request.name).values_list("pk", flat=True)
            if found:
                request.backup = found[0]
            elif time.monotonic() - claim.since > UNANSWERED_GRACE_SECONDS:
                pool.release(request.instance)


def _outcome(pool: InstancePool, cloud_backups: list[dict]) -> dict:
    """Each request's fate from the database and the cloud: requested, completed, failed, lost,
    made twice, and the time from request to its end."""
    requests = pool.requests
    rows = {
        name: (pk, status)
        for pk, name, status in Backup.objects.filter(name__startswith="soak-").values_list("pk", "name", "status")
    }
    ended_at = dict(
        BackupEvent.objects.filter(backup__name__startswith="soak-", kind__in=TERMINAL_EVENTS)
        .values("backup_id")
        .annotate(at=Min("at"))
        .values_list("backup_id", "at")
    )
    accepted = [r for r in requests if r.outcome == "accepted"]
    unanswered_but_made = [r for r in requests if r.outcome == "error" and r.name in rows]
    asked = accepted + unanswered_but_made
    status = Counter(rows[r.name][1] if r.name in rows else "missing" for r in asked)
    durations = sorted(
        ended_at[rows[r.name][0]].timestamp() - r.sent_at
        for r in asked
        if r.name in rows and rows[r.name][0] in ended_at
    )
    in_cloud = Counter((b["instance_id"], b["name"]) for b in cloud_backups if b["name"].startswith("soak-"))
    cloud_status = {b["name"]: b["status"].lower() for b in cloud_backups if b["name"].startswith("soak-")}
    ended = {Backup.Status.COMPLETED, Backup.Status.FAILED}
    disagree = [
        r.name
        for r in asked
        if r.name in rows and rows[r.name][1] in ended and cloud_status.get(r.name) != rows[r.name][1]
    ]
    stuck = sum(status[s] for s in Backup.ACTIVE_STATUSES)
    return {
        "requested": len(asked),
        "requested_web": sum(1 for r in asked if r.door == "web"),
        "requested_api": sum(1 for r in asked if r.door == "api"),
        "unanswered_but_made": len(unanswered_but_made),
        "refused": sum(1 for r in requests if r.outcome == "refused"),
        "errors_not_made": sum(1 for r in requests if r.outcome == "error" and r.name not in rows),
        "completed": status[Backup.Status.COMPLETED],
        "failed": status[Backup.Status.FAILED],
        "unknown": status[Backup.Status.UNKNOWN],
        "missing": status["missing"],
        "stuck": stuck,
        "lost": status["missing"] + stuck + status[Backup.Status.UNKNOWN],
        "duplicated": sum(1 for n in in_cloud.values() if n > 1),
        "in_cloud_not_in_console": sum(1 for name in cloud_status if name not in rows),
        "disagree_with_cloud": len(disagree),
        "seconds_to_end_p50": statistics.median(durations) if durations else None,
        "seconds_to_end_p95": durations[max(0, int(len(durations) * 0.95 + 0.5) - 1)] if durations else None,
        "seconds_to_end_max": durations[-1] if durations else None,
    }


def _answers(before: dict, after: dict) -> dict:
    """The cloud's answers during the run, by HTTP status (the injected 500s and 429s among them)."""
    statuses = set(before["by_status"]) | set(after["by_status"])
    return {s: after["by_status"].get(s, 0) - before["by_status"].get(s, 0) for s in sorted(statuses)}


def _settings(args, instances: int) -> dict:
    return {
        "minutes": args.minutes,
        "backups_per_minute": args.backups_per_minute,
        "sample_seconds": args.sample_seconds,
        "drain_seconds": args.drain_seconds,
        "projects": PROJECTS,
        "instances": instances,
        "web_users": WEB_USERS,
        "api_users": API_USERS,
        "worker_processes": 2,
        "worker_concurrency": WORKER_CONCURRENCY,
        "web_concurrency": int(os.environ.get("WEB_CONCURRENCY", "2")),
        "faults": FAULTS,
        "slow_minute": SLOW_MINUTE,
        "fault_cycle_seconds": FAULT_CYCLE_SECONDS,
        "gateway_limit_per_minute": GATEWAY_LIMIT_PER_MINUTE,
        "cloud_calls_per_minute": settings.CLOUD_CALLS_PER_MINUTE,
        "submit_lease_seconds": settings.BACKUP_SUBMIT_LEASE_SECONDS,
        "receiver_failure_rate": RECEIVER_FAILURE_RATE,
    }
