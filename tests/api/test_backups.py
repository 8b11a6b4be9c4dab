"""The backups API for a pipeline: the history's filters and keyset pages, one backup with its
timeline, and requests under the form's rules and words, safe to retry with an Idempotency-Key."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import AuditEvent
from api.models import IdempotentRequest
from backups.forms import BackupRequestForm
from backups.models import Backup, BackupEvent
from tests.factories import BackupEventFactory, BackupFactory, InstanceFactory

pytestmark = pytest.mark.django_db


def post(client, body: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/backups", json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def operator(api_world):
    return api_world.client("operator")


def test_a_request_answers_202_with_where_to_follow_it(api_world, operator):
    instance = api_world.free_instance
    response = post(operator, {"instance": instance.pk, "name": "pre-deploy-1234", "description": "Release 1234"})

    assert response.status_code == 202
    backup = Backup.objects.get(instance=instance, name="pre-deploy-1234")
    assert response["Location"] == f"/api/v1/backups/{backup.pk}"
    body = response.json()
    assert body["id"] == backup.pk
    assert body["status"] == "queued"
    assert body["url"] == f"/backups/{backup.pk}/"
    assert backup.requested_by == api_world.world.users["operator"]
    assert backup.description == "Release 1234"
    assert operator.get(response["Location"]).json()["name"] == "pre-deploy-1234"


def test_a_request_is_in_the_timeline_and_the_audit_trail_as_coming_through_the_api(api_world, operator):
    backup_id = post(operator, {"instance": api_world.free_instance.pk, "name": "from-ci"}).json()["id"]

    event = BackupEvent.objects.get(backup_id=backup_id, kind=BackupEvent.Kind.REQUESTED)
    assert event.message.startswith("by ")
    assert event.message.endswith(" through the API (token ci)")
    audit = AuditEvent.objects.get(action=AuditEvent.Action.BACKUP_REQUESTED, details__backup=backup_id)
    assert audit.actor == api_world.world.users["operator"]
    assert audit.details["via"] == "through the API (token ci)"
    assert Backup.objects.get(pk=backup_id).description.endswith("through the API")


@pytest.mark.parametrize(
    "name",
    ["", "x", "9lives", "has space", "a" * 65, "alpha-running"],
)
def test_a_bad_request_gets_the_forms_own_words_and_changes_nothing(api_world, operator, name):
    world = api_world.world
    instance = world.instance if name == "alpha-running" else api_world.free_instance
    before = Backup.objects.count()

    response = post(operator, {"instance": instance.pk, "name": name, "description": "ok"})

    # A broken request is invalid (422); one the state of things refuses conflicts with it (409).
    conflict = name == "alpha-running"
    assert response.status_code == (409 if conflict else 422)
    body = response.json()
    assert body["code"] == ("conflict" if conflict else "invalid")
    form = BackupRequestForm({"name": name, "description": "ok"}, instance=instance)
    assert not form.is_valid()
    expected = {
        ("request" if field == "__all__" else field): [e.message % (e.params or {}) for e in errors]
        for field, errors in form.errors.as_data().items()
    }
    got = {field: [e["message"] for e in errors] for field, errors in body["fields"].items()}
    assert got == expected
    assert all(e["code"] for errors in body["fields"].values() for e in errors)
    assert Backup.objects.count() == before


def test_a_busy_instance_is_refused_with_the_reason(api_world, operator):
    response = post(operator, {"instance": api_world.world.instance.pk, "name": "second-one"})

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    (error,) = response.json()["fields"]["request"]
    assert error["code"] == "instance"
    assert error["message"].startswith("A backup is already running on this instance")


def test_a_body_that_is_not_json_is_refused_plainly(operator):
    response = operator.post("/api/v1/backups", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed"


def test_the_same_key_twice_makes_one_backup_and_answers_with_it_again(api_world, operator):
    body = {"instance": api_world.free_instance.pk, "name": "deploy-77"}
    first = post(operator, body, key="run-77")
    again = post(operator, body, key="run-77")

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Backup.objects.filter(name="deploy-77").count() == 1


def test_a_key_sent_again_with_another_request_is_refused(api_world, operator):
    post(operator, {"instance": api_world.free_instance.pk, "name": "deploy-78"}, key="run-78")

    response = post(operator, {"instance": api_world.free_instance.pk, "name": "deploy-79"}, key="run-78")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert not Backup.objects.filter(name="deploy-79").exists()


def test_a_refused_request_does_not_use_up_its_key(api_world, operator):
    body = {"instance": api_world.free_instance.pk, "name": "x"}
    assert post(operator, body, key="run-80").status_code == 422
    assert not IdempotentRequest.objects.exists()

    # The same key, corrected: judged afresh, as if the first had never been sent.
    body["name"] = "deploy-80"
    assert post(operator, body, key="run-80").status_code == 202
    assert Backup.objects.filter(name="deploy-80").count() == 1


def test_keys_belong_to_their_token(api_world):
    body = {"instance": api_world.free_instance.pk, "name": "deploy-81"}
    assert post(api_world.client("operator"), body, key="shared").status_code == 202
    # The admin's token sends the same key: a request of its own, judged by the rules (the name is taken).
    response = post(api_world.client("admin"), body, key="shared")
    assert response.status_code == 409
    assert response.json()["fields"]["name"][0]["code"] == "unique"


@pytest.mark.parametrize("key", ["", "a" * 256, "schlüssel", "line\nbreak"])
def test_a_malformed_key_is_refused(api_world, operator, key):
    response = post(
        operator, {"instance": api_world.free_instance.pk, "name": "deploy-82"}, key=key.replace("\\n", "\n")
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Backup.objects.filter(name="deploy-82").exists()


def test_old_keys_are_forgotten(api_world, operator, settings):
    from api.services.requests import idempotency_keys_forget

    post(operator, {"instance": api_world.free_instance.pk, "name": "deploy-83"}, key="old")
    assert idempotency_keys_forget() == 0
    IdempotentRequest.objects.update(
        created_at=timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_KEY_HOURS + 1)
    )
    assert idempotency_keys_forget() == 1


@pytest.fixture
def history(api_world):
    """75 more backups of A's free instance, an hour apart, newest last; some failed, some automated."""
    world = api_world.world
    now = timezone.now()
    made = []
    for n in range(75):
        made.append(
            BackupFactory(
                instance=api_world.free_instance,
                name=f"nightly-{n:03d}",
                requested_at=now - timedelta(hours=75 - n),
                requested_by=None if n % 5 == 0 else world.users["admin"],
                **({"automated": True} if n % 5 == 0 else {"failed": True} if n % 7 == 0 else {}),
            )
        )
    return made


def test_pages_follow_one_another_without_gaps_or_repeats(api_world, history, operator):
    seen, cursor, pages = [], None, 0
    while True:
        response = operator.get("/api/v1/backups", {"limit": 20, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    everything = Backup.objects.filter(instance__project=api_world.world.project).order_by("-requested_at", "-id")
    assert seen == list(everything.values_list("pk", flat=True))
    assert pages == 4  # 77 rows (the two of the world, 75 here) by 20


def test_the_history_filters_work_as_on_the_page(api_world, history, operator):
    def names(**query):
        return [item["name"] for item in operator.get("/api/v1/backups", {"limit": 200, **query}).json()["items"]]

    assert names(status="failed") == [b.name for b in reversed(history) if b.status == "failed"]
    assert names(requested_by="auto") == [b.name for b in reversed(history) if b.origin == "cloud_auto"]
    assert set(names(requested_by=api_world.world.users["operator"].username)) == {api_world.world.backup.name}
    assert names(q="nightly-07") == [f"nightly-07{n}" for n in range(4, -1, -1)]
    assert names(instance=api_world.world.instance.pk) == [api_world.world.backup.name]
    yesterday = (timezone.now() - timedelta(days=1)).date()
    assert all(
        item >= yesterday.isoformat()
        for item in [
            b["requested_at"][:10]
            for b in operator.get("/api/v1/backups", {"since": yesterday.isoformat(), "limit": 200}).json()["items"]
        ]
    )
    assert names(project=api_world.world.other_project.pk) == []  # not theirs: nothing, and no error


def test_a_page_of_the_history_costs_a_fixed_number_of_queries(
    api_world, history, operator, django_assert_max_num_queries
):
    operator.get("/api/v1/backups")  # the token's last use is written once a minute: not in the count
    with django_assert_max_num_queries(6):
        body = operator.get("/api/v1/backups", {"limit": 50}).json()
    assert len(body["items"]) == 50


def test_a_cursor_not_of_ours_is_refused_at_its_field(operator):
    response = operator.get("/api/v1/backups", {"cursor": "99999999999999999999999.1"})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["cursor"]


def test_one_backup_comes_with_its_timeline(api_world, operator):
    backup = api_world.world.backup
    BackupEventFactory(
        backup=backup, at=backup.requested_at + timedelta(seconds=5), kind="submitted", message="Cloud job 1"
    )

    body = operator.get(f"/api/v1/backups/{backup.pk}").json()

    assert body["status"] == "running"
    assert body["instance"]["name"] == "alpha-orders"
    timeline = [(e.kind, e.message) for e in backup.events.order_by("at", "id")]
    assert [(e["kind"], e["message"]) for e in body["events"]] == timeline
    assert ("submitted", "Cloud job 1") in timeline


def test_a_failed_backup_says_why_in_plain_words(api_world, operator):
    backup = BackupFactory(instance=api_world.free_instance, failed=True, error_code="DBS.201015", error_message="busy")

    body = operator.get(f"/api/v1/backups/{backup.pk}").json()

    assert body["error_code"] == "DBS.201015"
    assert body["explanation"]["summary"].startswith("Another operation is running")


def test_instances_list_with_the_pages_filters_and_protection(api_world, operator):
    world = api_world.world
    for n in range(3):
        InstanceFactory(project=world.project, name=f"zeta-{n}", protection_status="at_risk", protection_reason="old")
    body = operator.get("/api/v1/instances", {"protection": "at_risk"}).json()
    assert [i["name"] for i in body["items"]] == ["zeta-0", "zeta-1", "zeta-2"]
    assert body["items"][0]["protection"] == {"status": "at_risk", "reason": "old", "next_step": "", "changed_at": None}
    first = operator.get("/api/v1/instances", {"limit": 2}).json()
    rest = operator.get("/api/v1/instances", {"limit": 50, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) + len(rest["items"]) == 5
    assert rest["next_cursor"] is None
    assert [i["name"] for i in operator.get("/api/v1/instances", {"q": "free"}).json()["items"]] == ["alpha-free"]


def test_a_misspelt_filter_or_field_is_an_error_not_ignored(api_world, operator):
    response = operator.get("/api/v1/backups", {"stauts": "failed"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"stauts": [{"code": "unknown", "message": "No such parameter here."}]}

    response = post(operator, {"instance": api_world.free_instance.pk, "name": "deploy-90", "descripton": "typo"})
    assert response.status_code == 422
    assert "descripton" in response.json()["fields"]
    assert not Backup.objects.filter(name="deploy-90").exists()


def test_a_nul_character_is_refused_in_words_not_a_server_error(api_world, operator):
    # PostgreSQL text cannot hold NUL: found by the OpenAPI fuzz test as a 500 on PostgreSQL.
    for url in ("/api/v1/backups", "/api/v1/instances"):
        response = operator.get(url, {"q": "a\x00b"})
        assert response.status_code == 422, url
        assert list(response.json()["fields"]) == ["q"]
    assert operator.get("/api/v1/backups", {"requested_by": "x\x00"}).status_code == 422

    response = post(operator, {"instance": api_world.free_instance.pk, "name": "deploy-91", "description": "a\x00b"})

    assert response.status_code == 422
    assert response.json()["fields"]["description"] == [
        {"code": "null_characters_not_allowed", "message": "Null characters are not allowed."}
    ]
    form = BackupRequestForm({"name": "deploy-91", "description": "a\x00b"}, instance=api_world.free_instance)
    assert "Null characters are not allowed." in form.errors["description"]
