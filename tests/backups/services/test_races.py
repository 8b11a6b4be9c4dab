"""Two requests for the same instance at the same moment, for real: two threads, each with its
own database connection, released together by a barrier. Exactly one backup is recorded; the
other request is told why (a ValidationError, a form error on the web), never an IntegrityError
or a 500. On SQLite the IMMEDIATE transactions serialise the two inserts; on PostgreSQL the
partial unique indexes make the second insert wait for the first and then refuse it.

Left alone, the loser usually finds the winner's row already at the rules' check. The "gated"
tests hold each request just after its check has passed, until both have passed it, so the
loser certainly reaches the database's constraint and the service's `except IntegrityError`.
"""

import threading
from types import SimpleNamespace

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from access.models import AuditEvent, Membership
from backups import rules
from backups.models import Backup, BackupEvent
from backups.services import submission
from tests.factories import CloudProjectFactory, InstanceFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BARRIER_SECONDS = 20
ROUNDS = 5  # ungated races: each round a fresh instance


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def published(monkeypatch):
    """The winner publishes its submit task after commit: collected here, not sent to a broker."""
    published = []
    lock = threading.Lock()

    def collect(task_name, *args):
        with lock:
            published.append((task_name, *args))

    monkeypatch.setattr("backups.publish.publish", collect)
    return published


@pytest.fixture
def project(db):
    return CloudProjectFactory(name="eu-de_race")


@pytest.fixture
def instance(project):
    return InstanceFactory(project=project, name="orders-prod")


@pytest.fixture
def operators(project):
    """Two operators of the project: two people (or tabs) clicking at the same moment."""
    people = []
    for username, first in (("oscar", "Oscar"), ("olga", "Olga")):
        user = UserFactory(username=username, first_name=first, last_name="Operator")
        MembershipFactory(user=user, project=project, role=Membership.Role.OPERATOR)
        people.append(user)
    return people


@pytest.fixture
def gate(monkeypatch):
    """Hold each request right after the service's own check has passed, until both have.

    Only the service's first check is held (its re-check after an IntegrityError is not), and
    only the service's: the form's check runs before it, unheld. Nothing else is replaced.
    """
    barrier = threading.Barrier(2, timeout=BARRIER_SECONDS)
    held = threading.local()

    def validate_then_wait(**kwargs):
        rules.validate_backup_request(**kwargs)
        if not getattr(held, "done", False):
            held.done = True
            barrier.wait()

    monkeypatch.setattr(submission, "rules", SimpleNamespace(validate_backup_request=validate_then_wait), raising=True)
    return barrier


def at_once(*calls):
    """Run the calls in threads released together; return what each returned or raised."""
    start = threading.Barrier(len(calls), timeout=BARRIER_SECONDS)
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            outcomes[index] = call()
        except BaseException as error:  # the outcome is what the test inspects
            outcomes[index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BARRIER_SECONDS * 3)
        assert not thread.is_alive(), "a racing request never finished"
    return outcomes


def requesting(instance, user, name, description="raced"):
    return lambda: submission.backup_request(instance=instance, user=user, name=name, description=description)


def winner_and_loser(outcomes):
    backups = [o for o in outcomes if isinstance(o, Backup)]
    errors = [o for o in outcomes if not isinstance(o, Backup)]
    assert len(backups) == 1, outcomes
    assert len(errors) == 1, outcomes
    (loser,) = errors
    assert isinstance(loser, ValidationError), f"the losing request raised {loser!r}"
    return backups[0], loser


def assert_only(backup, published):
    """One row, one timeline, one audit event, one task: the loser left nothing behind."""
    assert list(Backup.objects.values_list("pk", flat=True)) == [backup.pk]
    assert list(BackupEvent.objects.values_list("backup_id", flat=True)) == [backup.pk]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.BACKUP_REQUESTED).count() == 1
    assert [args for _, *args in published] == [[backup.pk]]


def active_message(winner: Backup) -> str:
    who = winner.requested_by.get_full_name()
    return f"A backup is already queued on this instance (requested by {who})."


def test_two_requests_at_the_same_moment_make_one_backup(operators, project, published):
    for round_ in range(ROUNDS):
        instance = InstanceFactory(project=project, name=f"race-{round_}")
        outcomes = at_once(
            requesting(instance, operators[0], f"first-{round_}"),
            requesting(instance, operators[1], f"second-{round_}"),
        )
        winner, loser = winner_and_loser(outcomes)
        assert loser.message_dict[NON_FIELD_ERRORS] == [active_message(winner)]
        assert Backup.objects.filter(instance=instance).count() == 1
        assert Backup.objects.get(instance=instance).pk == winner.pk
    assert Backup.objects.count() == ROUNDS
    assert len(published) == ROUNDS


def test_the_loser_of_a_race_past_the_check_is_told_why(instance, operators, gate, published):
    outcomes = at_once(
        requesting(instance, operators[0], "orders-first"),
        requesting(instance, operators[1], "orders-second"),
    )
    winner, loser = winner_and_loser(outcomes)
    # Both had passed the rules before either wrote: only the database could refuse the loser.
    assert gate.n_waiting == 0
    assert not gate.broken
    assert loser.message_dict == {NON_FIELD_ERRORS: [active_message(winner)]}
    assert_only(winner, published)


def test_the_same_name_raced_on_one_instance_is_refused_with_both_reasons(instance, operators, gate, published):
    outcomes = at_once(
        requesting(instance, operators[0], "orders-nightly"),
        requesting(instance, operators[1], "orders-nightly"),
    )
    winner, loser = winner_and_loser(outcomes)
    assert winner.name == "orders-nightly"
    assert loser.message_dict == {
        "name": ["This instance already has a backup named orders-nightly from this console. Choose another name."],
        NON_FIELD_ERRORS: [active_message(winner)],
    }
    assert_only(winner, published)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def posting(client, instance, name):
    url = reverse("backups:backup_create", args=[instance.pk])
    return lambda: client.post(url, {"name": name, "description": "raced through the web"})


@pytest.mark.parametrize("gated", [False, True], ids=["free", "gated"])
def test_two_posts_at_the_same_moment_make_one_backup_and_a_form_error(request, instance, operators, published, gated):
    if gated:
        request.getfixturevalue("gate")
    clients = [signed_in(user) for user in operators]
    responses = at_once(*(posting(client, instance, f"web-{i}") for i, client in enumerate(clients)))
    for response in responses:
        # The test client re-raises a view's exception (an IntegrityError would be a 500).
        assert not isinstance(response, BaseException), f"a request raised {response!r}"
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 302], statuses
    winning = next(r for r in responses if r.status_code == 302)
    losing = next(r for r in responses if r.status_code == 200)
    winner = Backup.objects.get()
    assert winning["Location"] == reverse("backups:backup_detail", args=[winner.pk])
    html = losing.content.decode()
    assert '<form id="backup-form"' in html
    assert escape(active_message(winner)) in html
    assert_only(winner, published)
