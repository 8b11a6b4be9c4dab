"""Channel deliveries with a real Celery worker (and beat): a webhook reaches a local receiver,
and a worker killed in the middle of a send leaves one delivery, sent again by the next worker
once its lease lapses, with the same X-Console-Delivery id for the receiver to drop the copy."""

import threading

import pytest
from django.db import transaction

from notifications.events import EventKind, notify
from notifications.models import Delivery, Event
from tests.factories import BackupFactory, InstanceFactory
from tests.fixtures.worker import WORKER_ENV, Worker, purge_broker, wait_for
from tests.notifications.helpers import add_channel, project_with_admin

pytestmark = pytest.mark.integration
Status = Delivery.Status
FAST = {"DELIVERY_DISPATCH_SECONDS": "1", "DELIVERY_RETRY_BASE_SECONDS": "0.3", "DELIVERY_LEASE_SECONDS": "3"}


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    workers = []

    def start(name: str) -> Worker:
        if not workers:
            purge_broker()
        folder = tmp_path / name
        folder.mkdir()
        worker = Worker(folder, env={**WORKER_ENV, **FAST})
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    purge_broker()


def delivered(delivery_id: int):
    def check():
        delivery = Delivery.objects.get(pk=delivery_id)
        return delivery if delivery.status == Status.DELIVERED else None

    check.__doc__ = f"delivery {delivery_id} to be delivered"
    return check


def test_a_worker_killed_mid_send_leaves_exactly_one_delivery(start_worker, receiver):
    project, admin = project_with_admin()
    _channel, secret = add_channel(project, admin, target=receiver.url)
    receiver.secret = secret
    receiver.hold = threading.Event()  # the receiver takes the message and keeps the worker waiting
    backup = BackupFactory(instance=InstanceFactory(project=project), failed=True)
    first = start_worker("first")
    with transaction.atomic():
        notify(kind=EventKind.BACKUP_FAILED, key=f"backup:{backup.pk}:failed", project=project, backup=backup)
    delivery = Delivery.objects.get()

    def in_the_receiver():
        return len(receiver.received) == 1

    in_the_receiver.__doc__ = "the first worker's POST to reach the receiver"
    wait_for(in_the_receiver, worker=first)
    first.kill()  # between the receiver taking it and the console recording it
    receiver.hold.set()
    assert Delivery.objects.get().status == Status.SENDING

    second = start_worker("second")
    done = wait_for(delivered(delivery.pk), timeout=40, worker=second)
    assert done.attempts == 2
    assert (Event.objects.count(), Delivery.objects.count()) == (1, 1)
    ids = {got.headers["x-console-delivery"] for got in receiver.received}
    assert ids == {str(delivery.uuid)}  # the copy carries the same id: the receiver drops it
    assert len(receiver.received) == 2
    assert receiver.refused == []
    assert "tasks.dispatch_deliveries" in second.output()
