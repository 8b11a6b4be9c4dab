"""The pipeline's state (selectors/pipeline.py) and `manage.py pipeline_state`, which prints it:
how many backups wait in each state and since when, how many are overdue or were never handed
to the broker, and the last day's outcomes. Every figure is checked against backups made here."""

from datetime import UTC, datetime, timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from backups.management.commands import pipeline_state as command
from backups.models import Backup
from backups.selectors.pipeline import PipelineState, pipeline_state
from backups.services import submission
from tests.factories import BackupFactory, InstanceFactory

pytestmark = pytest.mark.django_db

Status = Backup.Status
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def make(project, status, requested, **fields) -> Backup:
    """A backup of its own instance (one active backup per instance), requested at `requested`."""
    instance = InstanceFactory(project=project)
    before_the_cloud = status in (Status.QUEUED, Status.SUBMITTING)
    defaults = {
        "progress": 40 if status == Status.RUNNING else 0,
        "size_kb": None,
        "started_at": None if before_the_cloud else requested + timedelta(seconds=5),
        "finished_at": None,
        "job_id": "" if before_the_cloud else f"job-{instance.pk}",
        "backup_id": "" if before_the_cloud else f"{instance.pk:028x}br06",
    }
    return BackupFactory(instance=instance, status=status, requested_at=requested, **{**defaults, **fields})


def ended(project, status, finished) -> Backup:
    return make(project, status, finished - timedelta(minutes=4), finished_at=finished)


@pytest.fixture
def busy(project):
    """Backups in every state, requested at known times before NOW. Each figure differs from
    the others, so a figure printed in another's place is seen."""
    make(project, Status.QUEUED, ago(seconds=300))  # never handed to the broker
    make(project, Status.QUEUED, ago(seconds=200))  # nor this one
    make(project, Status.QUEUED, ago(seconds=120), enqueued_at=ago(seconds=100))
    make(project, Status.QUEUED, ago(seconds=30), enqueued_at=ago(seconds=29))
    make(project, Status.SUBMITTING, ago(seconds=60), claimed_at=ago(seconds=2), submit_attempts=1)
    make(project, Status.RUNNING, ago(seconds=3600), overdue=True)
    make(project, Status.RUNNING, ago(seconds=1800))
    # Lost track of while overdue: it is unknown now, not overdue-and-running.
    make(project, Status.UNKNOWN, ago(seconds=7200), overdue=True)
    for hours in (1, 5, 23.98):
        ended(project, Status.COMPLETED, ago(hours=hours))
    ended(project, Status.COMPLETED, ago(hours=24, minutes=1))  # a day and a minute ago: not counted
    for hours in (2, 3, 4, 6):
        ended(project, Status.FAILED, ago(hours=hours))
    ended(project, Status.FAILED, ago(hours=30))  # not counted


def run_command(monkeypatch) -> list[str]:
    # The command reads the clock once; it reads NOW here, so the ages are exact.
    monkeypatch.setattr(command, "timezone", SimpleNamespace(now=lambda: NOW))
    out = StringIO()
    call_command("pipeline_state", stdout=out)
    return out.getvalue().splitlines()


def test_the_state_counts_each_active_status_with_its_oldest(busy):
    assert pipeline_state(NOW) == PipelineState(
        in_flight=[
            ("queued", 4, ago(seconds=300)),
            ("running", 2, ago(seconds=3600)),
            ("submitting", 1, ago(seconds=60)),
            ("unknown", 1, ago(seconds=7200)),
        ],
        overdue=1,
        unpublished=2,
        completed_24h=3,
        failed_24h=4,
    )


def test_the_command_prints_every_figure(busy, monkeypatch):
    assert run_command(monkeypatch) == [
        "queued           4  oldest requested 300 s ago",
        "running          2  oldest requested 3600 s ago",
        "submitting       1  oldest requested 60 s ago",
        "unknown          1  oldest requested 7200 s ago",
        "overdue (running far longer than usual): 1",
        "queued but not yet handed to the broker: 2",
        "last 24 h: 3 completed, 4 failed",
    ]


def test_the_command_says_when_nothing_is_in_flight(db, monkeypatch):
    assert run_command(monkeypatch) == [
        "Nothing in flight: no queued, submitting, running or unknown backups.",
        "overdue (running far longer than usual): 0",
        "queued but not yet handed to the broker: 0",
        "last 24 h: 0 completed, 0 failed",
    ]


def test_ended_backups_count_only_in_the_last_day(project, monkeypatch):
    ended(project, Status.COMPLETED, ago(minutes=10))
    ended(project, Status.FAILED, ago(hours=23))
    ended(project, Status.FAILED, ago(hours=3))
    ended(project, Status.FAILED, ago(days=3))
    lines = run_command(monkeypatch)
    assert lines[0] == "Nothing in flight: no queued, submitting, running or unknown backups."
    assert lines[-1] == "last 24 h: 1 completed, 2 failed"


@pytest.mark.parametrize(("broker_up", "unpublished"), [(True, 0), (False, 1)])
def test_a_request_is_unpublished_until_the_broker_takes_it(
    instance, operator, monkeypatch, django_capture_on_commit_callbacks, broker_up, unpublished
):
    def publish(task_name, *args):
        if not broker_up:
            raise ConnectionError("broker down")

    monkeypatch.setattr("backups.publish.publish", publish)
    with django_capture_on_commit_callbacks(execute=True):
        submission.backup_request(instance=instance, user=operator, name="orders-nightly", description="d")
    state = pipeline_state()
    assert [(status, count) for status, count, _ in state.in_flight] == [("queued", 1)]
    assert state.unpublished == unpublished
    out = StringIO()
    call_command("pipeline_state", stdout=out)
    assert f"queued but not yet handed to the broker: {unpublished}" in out.getvalue().splitlines()
