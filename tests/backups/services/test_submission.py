"""Requesting and submitting backups (services/submission.py), in-process against the simulator
over real HTTP. One step at a time, to pin down each rule; test_worker.py runs the same
path end to end through Celery."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from access.models import CloudProject
from backups import publish, timeline
from backups.cloud import DjangoCacheCallBudget
from backups.models import Backup, BackupEvent, Instance
from backups.services import dispatch, leases, submission, sync, tracking
from tests.backups.services.lines import written

pytestmark = pytest.mark.django_db(transaction=True)


def request(instance, user, name="nightly-0001", description="before the upgrade"):
    return submission.backup_request(instance=instance, user=user, name=name, description=description)


def named(simulator, instance, name):
    return [b for b in simulator.backups(instance_id=instance.cloud_id) if b["name"] == name]


def test_request_is_recorded_queued_with_its_requester(instance, requester):
    backup = request(instance, requester)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED
    assert backup.requested_by == requester
    assert backup.origin == Backup.Origin.DASHBOARD
    assert list(backup.events.values_list("kind", flat=True)) == [BackupEvent.Kind.REQUESTED]
    assert written(backup.events.get()) == (timeline.REQUESTED, {"who": "Oscar Operator"})


def test_request_through_the_api_names_its_token_in_the_timeline(instance, requester):
    backup = submission.backup_request(
        instance=instance, user=requester, name="nightly-0001", description="deploy", api_token="ci"
    )
    requested = backup.events.get()
    assert written(requested) == (timeline.REQUESTED_THROUGH_API, {"who": "Oscar Operator", "token": "ci"})
    assert requested.message == "by Oscar Operator through the API (token ci)"


def test_invalid_request_changes_nothing_and_says_why(instance, requester):
    with pytest.raises(ValidationError) as error:
        request(instance, requester, name="9lives", description="a <b> tag")
    assert set(error.value.message_dict) == {"name", "description"}
    assert Backup.objects.count() == 0


def test_second_request_while_one_is_active_is_refused(instance, requester):
    request(instance, requester)
    with pytest.raises(ValidationError) as error:
        request(instance, requester, name="nightly-0002")
    assert "already queued" in error.value.message_dict[NON_FIELD_ERRORS][0]
    assert Backup.objects.count() == 1


def test_a_name_is_used_once_per_instance(instance, requester):
    first = request(instance, requester)
    Backup.objects.filter(pk=first.pk).update(status=Backup.Status.COMPLETED)
    with pytest.raises(ValidationError) as error:
        request(instance, requester)
    assert "already has a backup named nightly-0001" in error.value.message_dict["name"][0]


def test_instance_that_is_not_available_cannot_be_backed_up(instance, requester):
    Instance.objects.filter(pk=instance.pk).update(status="frozen")
    instance.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        request(instance, requester)
    assert "The instance is Frozen" in error.value.message_dict[NON_FIELD_ERRORS][0]


def test_submit_creates_one_cloud_backup_even_when_delivered_twice(instance, requester, simulator):
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    submission.backup_submit(backup_id=backup.pk)  # a duplicate delivery finds nothing to claim
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.job_id
    assert backup.backup_id
    assert len(named(simulator, instance, backup.name)) == 1
    assert simulator.counters()["by_kind"]["create_backup"] == 1
    submitted = written(backup.events.get(kind=BackupEvent.Kind.SUBMITTED))
    assert submitted == (timeline.SUBMITTED, {"job_id": backup.job_id, "backup_id": backup.backup_id})


def test_dropped_connection_after_create_is_reconciled_not_resent(instance, requester, simulator):
    simulator.configure(drop_connection_after_create=1)
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED  # ambiguous: back in the outbox
    Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())  # as when the backoff is over
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.backup_id == named(simulator, instance, backup.name)[0]["id"]
    assert len(named(simulator, instance, backup.name)) == 1
    assert simulator.counters()["by_kind"]["create_backup"] == 1
    submitted = written(backup.events.get(kind=BackupEvent.Kind.SUBMITTED))
    assert submitted == (timeline.ADOPTED, {"backup_id": backup.backup_id})


def test_backup_exists_answer_after_an_interrupted_attempt_adopts_the_backup(instance, requester, simulator):
    """The lookup before a retry can miss a backup an earlier attempt made (the backup list lags
    behind a create); the create then meets DBS.201201, and the backup is adopted, not lost."""
    simulator.configure(drop_connection_after_create=1)
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)  # made in the cloud, but the answer is lost
    simulator.configure(stale_backup_lists=1)  # the lookup before the next create misses it
    Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert backup.backup_id == named(simulator, instance, backup.name)[0]["id"]
    assert len(named(simulator, instance, backup.name)) == 1
    assert simulator.counters()["by_kind"]["create_backup"] == 2  # the lost answer, then DBS.201201
    assert (
        "Found in the cloud after an interrupted attempt" in backup.events.get(kind=BackupEvent.Kind.SUBMITTED).message
    )


def test_backup_exists_answer_while_the_list_still_lags_is_retried_not_failed(instance, requester, simulator):
    simulator.configure(drop_connection_after_create=1)
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    simulator.configure(stale_backup_lists=2)  # both lookups of the next attempt miss it
    Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED  # it exists: look again, never fail it
    Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())
    submission.backup_submit(backup_id=backup.pk)  # the list has caught up
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RUNNING
    assert len(named(simulator, instance, backup.name)) == 1


def test_a_name_taken_outside_the_console_fails_the_request_instead_of_adopting(instance, requester, simulator):
    """On a first attempt, "already exists" means someone else's backup: not ours to report on."""
    token = simulator.token()
    made_elsewhere = simulator.api(
        "POST",
        f"/v3/{simulator.project_id}/instances/{instance.cloud_id}/backups",
        token,
        json={"name": "nightly-0001", "description": "made in the cloud console"},
    )
    assert made_elsewhere.status_code == 202
    simulator.finish_backup(made_elsewhere.json()["backup_id"])
    backup = request(instance, requester, name="nightly-0001")
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "DBS.201201"
    assert backup.backup_id == ""
    assert len(named(simulator, instance, "nightly-0001")) == 1


def test_the_outbox_sweep_publishes_what_the_broker_missed_and_lapsed_leases(instance, requester, monkeypatch):
    """The sweep (beat, every few seconds) is what makes a request survive a broker outage."""
    sent = []
    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: sent.append((task_name, *args)))
    now = timezone.now()
    missed = request(instance, requester)  # published after commit: sent once
    assert sent == [(publish.SUBMIT_BACKUP, missed.pk)]
    sent.clear()
    Backup.objects.filter(pk=missed.pk).update(enqueued_at=None)  # as if the broker had been down
    assert dispatch.backups_dispatch_due() == 1
    assert sent == [(publish.SUBMIT_BACKUP, missed.pk)]
    missed.refresh_from_db()
    assert missed.enqueued_at is not None
    sent.clear()
    assert dispatch.backups_dispatch_due() == 0  # just handed over: not again at the next tick

    Backup.objects.filter(pk=missed.pk).update(enqueued_at=now - publish.REPUBLISH_AFTER - timedelta(seconds=1))
    assert dispatch.backups_dispatch_due() == 1  # handed over long ago and still queued: again
    Backup.objects.filter(pk=missed.pk).update(
        status=Backup.Status.QUEUED, enqueued_at=None, next_attempt_at=now + timedelta(minutes=1)
    )
    sent.clear()
    assert dispatch.backups_dispatch_due() == 0  # waiting for its backoff: not yet

    dead = Backup.objects.filter(pk=missed.pk)
    dead.update(status=Backup.Status.SUBMITTING, claimed_at=now - leases.submit_lease() + timedelta(seconds=30))
    assert dispatch.backups_dispatch_due() == 0  # its worker may still be at it
    dead.update(claimed_at=now - leases.submit_lease() - timedelta(seconds=1))
    assert dispatch.backups_dispatch_due() == 1  # its worker died: another takes over
    assert sent == [(publish.SUBMIT_BACKUP, missed.pk)]


def test_a_publish_that_fails_leaves_the_request_queued_for_the_sweep(instance, requester, monkeypatch):
    def broker_down(task_name, *args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("backups.publish.publish", broker_down)
    backup = request(instance, requester)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED
    assert backup.enqueued_at is None  # the sweep's sign that the broker never got it


def test_the_sweep_stops_at_the_first_refusal_of_a_broker_that_is_down(project, requester, simulator, monkeypatch):
    attempts = []

    def broker_down(task_name, *args):
        attempts.append(args)
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr("backups.publish.publish", broker_down)
    for n in range(5):
        simulator.add_instance(f"shard-{n}")
    sync.instances_sync(project=project)
    for instance in Instance.objects.filter(project=project):
        request(instance, requester)
    attempts.clear()
    # Each refusal costs the sweep the broker's connection timeout: one tells it all.
    assert dispatch.backups_dispatch_due() == 0
    assert len(attempts) == 1
    assert Backup.objects.filter(status=Backup.Status.QUEUED, enqueued_at__isnull=True).count() == 5


def test_permanent_cloud_refusal_fails_the_backup_with_code_and_message(instance, requester, simulator):
    simulator.set_instance_status(instance.cloud_id, "frozen")  # the console still thinks it is normal
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "DBS.201015"
    assert backup.error_message
    failed = backup.events.get(kind=BackupEvent.Kind.FAILED)
    assert written(failed) == (timeline.SUBMIT_FAILED, {"error_code": "DBS.201015", "reason": backup.error_message})
    assert failed.message == f"DBS.201015: {backup.error_message}"


def test_system_busy_is_retried_later(instance, requester, simulator):
    simulator.configure(error_rate=1.0)
    backup = request(instance, requester)
    submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.QUEUED
    assert backup.next_attempt_at > timezone.now()
    code, values = written(backup.events.get(kind=BackupEvent.Kind.RETRY))
    assert (code, values["attempt"]) == (timeline.RETRY, 1)
    assert values["error"].startswith("DBS.")  # the cloud's own words, as it wrote them
    assert 0 < values["seconds"] <= 300


def test_gives_up_after_bounded_attempts(instance, requester, simulator):
    simulator.configure(error_rate=1.0)
    backup = request(instance, requester)
    for _ in range(submission.MAX_SUBMIT_ATTEMPTS):
        Backup.objects.filter(pk=backup.pk).update(next_attempt_at=timezone.now())
        submission.backup_submit(backup_id=backup.pk)
    backup.refresh_from_db()
    assert backup.status == Backup.Status.FAILED
    assert backup.error_code == "DBS.200998"
    assert backup.submit_attempts == submission.MAX_SUBMIT_ATTEMPTS


def test_a_spent_call_budget_defers_creation_but_leaves_room_for_polling(project, requester, simulator, settings):
    simulator.configure(job_seconds=600)  # still running at the poll: one backup-list call
    first, second = (simulator.add_instance(name) for name in ("orders-prod", "orders-dr"))
    # Synced before the budget shrinks: on 3 calls a minute the sync itself would wait a minute.
    sync.instances_sync(project=project)
    settings.CLOUD_CALLS_PER_MINUTE = 3  # creations may use 2 of them: the token call and one create
    # Start the minute afresh: the sync spent calls of its own.
    from django.core.cache import cache

    cache.clear()
    backups = [request(Instance.objects.get(cloud_id=c["id"]), requester) for c in (first, second)]
    for backup in backups:
        submission.backup_submit(backup_id=backup.pk)
    running, deferred = (Backup.objects.get(pk=b.pk) for b in backups)
    assert running.status == Backup.Status.RUNNING
    assert deferred.status == Backup.Status.QUEUED
    assert deferred.submit_attempts == 0  # no call was made: not an attempt
    assert not deferred.events.filter(kind=BackupEvent.Kind.RETRY).exists()
    assert simulator.counters()["by_kind"]["create_backup"] == 1
    Backup.objects.filter(pk=running.pk).update(next_poll_at=timezone.now())
    assert tracking.backups_poll(project=project) == 1  # the reserved unit
    # The progress read takes only spare room, and there was none: it was skipped, not awaited.
    assert simulator.counters()["by_kind"]["list_jobs"] == 0


def test_the_sweep_hands_over_no_more_than_each_iam_users_budget_has_room_for(
    project, requester, simulator, settings, monkeypatch
):
    """Backups waiting for a spent budget wait in the outbox, not in a worker; another IAM
    user's backups go out at once; and a budget's room goes to its oldest requests."""
    other = CloudProject.objects.create(name="eu-de_team2", **simulator.add_project("eu-de_team2", "team2", "pw-2"))
    for n in range(7):
        simulator.add_instance(f"busy-{n}")
    for n in range(2):
        simulator.add_instance(f"calm-{n}", project_id=other.project_id)
    # Synced before the budget shrinks: on 6 calls a minute the syncs themselves would wait.
    sync.instances_sync(project=project)
    sync.instances_sync(project=other)
    settings.CLOUD_CALLS_PER_MINUTE = 6  # creations may use 5 a minute
    cache.clear()  # a fresh minute: the syncs spent calls of their own
    sent = []
    monkeypatch.setattr("backups.publish.publish", lambda task_name, *args: sent.append(args[0]))
    busy = [request(i, requester).pk for i in Instance.objects.filter(project=project).order_by("name")]
    calm = [request(i, requester).pk for i in Instance.objects.filter(project=other).order_by("name")]
    Backup.objects.update(enqueued_at=None)  # as if each had found its budget spent
    spend = DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE, max_wait=0)
    for _ in range(settings.CLOUD_CALLS_PER_MINUTE):
        spend.take(DjangoCacheCallBudget.key_for(project.iam_endpoint, project.iam_domain, project.iam_user))
    sent.clear()

    assert dispatch.backups_dispatch_due() == 2
    assert sorted(sent) == sorted(calm)  # the other IAM user's, at once

    cache.clear()  # the minute has passed for the busy one
    sent.clear()
    assert dispatch.backups_dispatch_due() == 5
    assert sent == busy[:5]  # as much as its budget has room for, oldest request first
    sent.clear()
    assert dispatch.backups_dispatch_due() == 0  # those five are on their way: no room left
    assert Backup.objects.filter(pk__in=busy[5:], status=Backup.Status.QUEUED, enqueued_at=None).count() == 2
