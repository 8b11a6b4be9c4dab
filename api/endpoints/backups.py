from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from ninja import Header, Query, Router, Status

from access.decorators import require
from access.permissions import Action
from api.errors import READ, WRITE, conflict_or_invalid, reject_unknown_parameters
from api.paging import history_cursor
from api.schemas import BackupDetail, BackupFilters, BackupIn, BackupList, BackupOut, Id
from api.services.requests import backup_request_once
from backups.selectors import history as history_selectors
from backups.selectors.backups import backup_for, backup_timeline
from backups.selectors.history import HISTORY_ROW_FIELDS, PERSON_AUTOMATED, PERSON_CLOUD_CONSOLE, HistoryFilters
from backups.selectors.instances import instance_for

router = Router(tags=["backups"])

# What an API row shows besides what a history row does, loaded in the page's one query.
API_ROW_FIELDS = (
    *HISTORY_ROW_FIELDS,
    "description",
    "job_id",
    "backup_id",
    "error_code",
    "error_message",
    "instance__cloud_id",
    "instance__project_id",
)


@router.get("", response={200: BackupList, **READ}, url_name="backups")
def backup_list(request, filters: Query[BackupFilters]):
    """The backup history this token may see, newest first, filtered as on the History page.
    Pages by keyset: as fast on the last page of a million rows as on the first."""
    reject_unknown_parameters(request, BackupFilters)
    person = filters.requested_by or ""
    not_a_person = person in (PERSON_AUTOMATED, PERSON_CLOUD_CONSOLE)
    history = history_selectors.history_for(
        request.user,
        HistoryFilters(
            project=filters.project,
            instance=filters.instance,
            status=filters.status or "",
            person=person if not_a_person else "",
            requester="" if not_a_person else person,
            since=filters.since,
            until=filters.until,
            search=filters.q.strip(),
        ),
    )
    page = history_selectors.history_page(
        history, after=history_cursor(filters.cursor), size=filters.limit, fields=API_ROW_FIELDS
    )
    return {
        "items": [BackupOut.of(b) for b in page.backups],
        "next_cursor": page.older.encode() if page.older else None,
    }


@router.get("/{backup_id}", response={200: BackupDetail, **READ}, url_name="backup")
def backup_detail(request, backup_id: Id):
    """One backup with its timeline, from the request to its end."""
    reject_unknown_parameters(request)
    backup = backup_for(request.user, backup_id)
    events = [{"at": e.at, "kind": e.kind, "message": e.message} for e in backup_timeline(backup)]
    return {**BackupOut.of(backup), "events": events}


@router.post("", response={202: BackupOut, **WRITE}, url_name="backups")
def backup_create(
    request,
    response: HttpResponse,
    payload: BackupIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description="Any unique string up to 255 ASCII characters, e.g. a UUID."
    ),
):
    """Request a backup: the same rules and messages as the form, answered at once with 202
    while the worker submits it to the cloud. Follow it at `Location`.

    Send an `Idempotency-Key` (e.g. a UUID) to retry safely: the same key from the same token
    answers with the backup the first request made, and never makes a second one, even when
    the two requests race. The key is remembered for a day."""
    instance = instance_for(request.user, payload.instance)
    require(request.user, Action.BACKUP, instance.project_id)
    who = request.user.get_full_name() or request.user.username
    description = payload.description if payload.description is not None else f"Requested by {who} through the API"
    reject_unknown_parameters(request)
    try:
        requested = backup_request_once(
            token=request.auth, key=idempotency_key, instance=instance, name=payload.name, description=description
        )
    except ValidationError as error:
        raise conflict_or_invalid(error) from None
    backup = backup_for(request.user, requested.backup.pk)
    response["Location"] = reverse("api_v1:backup", args=[backup.pk])
    if requested.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(202, BackupOut.of(backup))
