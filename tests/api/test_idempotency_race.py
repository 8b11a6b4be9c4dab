"""Two requests with one Idempotency-Key, sent at the same moment over real HTTP to the live
console (a threaded server, so they really overlap), then submitted by a real worker to the
simulator: one backup in the console, one in the cloud, and both callers told the same."""

import threading

import pytest
import requests

from access.models import CloudProject, Membership
from api.services.tokens import token_create
from backups.models import Backup
from backups.services.sync import instances_sync
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.simulator import wait_until

ROUNDS = 4

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(simulator, transactional_db):
    project = CloudProject.objects.create(name="eu-de_demo", **simulator.project_fields())
    for n in range(ROUNDS):
        simulator.add_instance(f"orders-{n}")
    instances_sync(project=project)
    operator = UserFactory(username="oscar")
    MembershipFactory(user=operator, project=project, role=Membership.Role.OPERATOR)
    _, secret = token_create(user=operator, name="deploy", role="operator", projects=[project])
    return project, secret


def race(url: str, secret: str, body: dict, key: str) -> list[requests.Response]:
    start = threading.Barrier(2)
    answers: list[requests.Response] = []

    def send():
        with requests.Session() as session:
            start.wait()
            answers.append(
                session.post(
                    url, json=body, headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": key}, timeout=30
                )
            )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_racing_requests_with_one_key_make_one_backup_here_and_in_the_cloud(
    live_server, pipeline, celery_worker, simulator
):
    project, secret = pipeline
    simulator.configure(job_seconds=1)
    for n, instance in enumerate(project.instances.order_by("name")):
        answers = race(
            f"{live_server.url}/api/v1/backups", secret, {"instance": instance.pk, "name": f"deploy-{n}"}, f"job-{n}"
        )

        assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
        assert answers[0].json()["id"] == answers[1].json()["id"]
        assert sorted(a.headers.get("Idempotent-Replayed", "no") for a in answers) == ["no", "true"]
        assert Backup.objects.filter(instance=instance).count() == 1

    def all_completed():
        return set(Backup.objects.values_list("status", flat=True)) == {"completed"}

    wait_until(all_completed, timeout=60, interval=0.2)
    for n, instance in enumerate(project.instances.order_by("name")):
        in_cloud = [b for b in simulator.backups(instance.cloud_id) if b["name"] == f"deploy-{n}"]
        assert len(in_cloud) == 1, in_cloud
    assert simulator.counters()["by_kind"]["create_backup"] == ROUNDS
