"""Several projects at once, each connected as its own IAM user, with a real Celery worker and
the simulator: one project over its call budget holds up no other project's backups, and
loses none of its own."""

import pytest
from django.core.cache import cache
from django.db import transaction

from access.models import CloudProject
from backups.cloud import DjangoCacheCallBudget
from backups.models import Backup, BackupEvent, Instance
from backups.services import submission, sync
from tests.fixtures.worker import WORKER_ENV, Worker, purge_broker, wait_for

pytestmark = pytest.mark.integration

# Enough that a worker waiting for the busy budget (up to 5 s a task, on 2 processes: a
# minute for 24) would miss the calm project's 45 s below; no more, as each costs test time.
BUSY_BACKUPS = 24
# Room for all the busy project's backups once its minute is over (creations get four fifths).
CALLS_PER_MINUTE = 100


@pytest.fixture
def roomy_worker(transactional_db, tmp_path, settings):
    settings.CLOUD_CALLS_PER_MINUTE = CALLS_PER_MINUTE  # this process and the worker alike
    purge_broker()
    worker = Worker(tmp_path, env={**WORKER_ENV, "CLOUD_CALLS_PER_MINUTE": str(CALLS_PER_MINUTE)})
    worker.start()
    yield worker
    worker.stop()
    purge_broker()


def request_all(project, user):
    ids = []
    for instance in Instance.objects.filter(project=project).order_by("name"):
        with transaction.atomic():  # published after commit, as after a form post
            backup = submission.backup_request(instance=instance, user=user, name="fair-0001", description="fair")
            ids.append(backup.pk)
    return ids


def test_a_project_over_its_budget_holds_up_no_other_projects_backups(
    roomy_worker, simulator, project, requester, settings
):
    calm = CloudProject.objects.create(name="eu-de_calm", **simulator.add_project("eu-de_calm", "calm", "calm-pw"))
    for n in range(BUSY_BACKUPS):
        simulator.add_instance(f"busy-{n:02d}")
    for n in range(2):
        simulator.add_instance(f"calm-{n}", project_id=calm.project_id)
    sync.instances_sync(project=project)
    sync.instances_sync(project=calm)
    # The busy project's IAM user has spent its minute (as other processes' calls would).
    spend = DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE, max_wait=0)
    busy_key = DjangoCacheCallBudget.key_for(project.iam_endpoint, project.iam_domain, project.iam_user)
    while spend.room(busy_key):
        spend.take(busy_key)

    busy = request_all(project, requester)  # first in the broker's queue
    calm_ids = request_all(calm, requester)

    def calm_submitted():
        return not Backup.objects.filter(pk__in=calm_ids, status__in=[Backup.Status.QUEUED, Backup.Status.SUBMITTING])

    calm_submitted.__doc__ = "the calm project's backups to be submitted while the busy one waits for its budget"
    # On Redis a second or two; the filesystem broker of a development setup hands the worker
    # a task or two a second, so the busy project's quick deferrals come first.
    wait_for(calm_submitted, timeout=45, worker=roomy_worker)
    waiting = Backup.objects.filter(pk__in=busy)
    # Still waiting (one may be between its claim and its deferral), none sent, none failed.
    assert not waiting.exclude(status__in=[Backup.Status.QUEUED, Backup.Status.SUBMITTING]).exists()
    assert not BackupEvent.objects.filter(backup__in=busy, kind=BackupEvent.Kind.RETRY).exists()
    busy_calls = simulator.counters()["by_project"].get(project.project_id, {}).get("by_kind", {})
    assert "create_backup" not in busy_calls

    cache.clear()  # the busy user's minute is over

    def busy_submitted():
        return not waiting.filter(status__in=[Backup.Status.QUEUED, Backup.Status.SUBMITTING])

    busy_submitted.__doc__ = "the busy project's backups to be submitted once its budget has room"
    wait_for(busy_submitted, timeout=180, worker=roomy_worker)  # a hung pipeline, not a slow one
    for backup in waiting.select_related("instance"):
        copies = [b for b in simulator.backups(instance_id=backup.instance.cloud_id) if b["name"] == backup.name]
        assert len(copies) == 1, backup.instance.name
