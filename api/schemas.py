"""What the API's answers and requests look like: the OpenAPI document is generated from these.

Times are ISO 8601 in UTC. Lists are pages: `items`, and `next_cursor` to pass as `cursor`
for the next page (null: there is none). There is no total: counting a million rows on
every page is what keeps other consoles slow.
"""

import re
from datetime import date, datetime
from typing import Annotated, Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import BaseModel, BeforeValidator, ConfigDict

from backups.explanations import explain
from backups.models import Backup, Instance

BackupStatus = Literal["queued", "submitting", "running", "completed", "failed", "unknown"]
InstanceStatusFilter = Literal[
    "normal", "abnormal", "creating", "frozen", "data_disk_full", "createfail", "enlargefail", "gone"
]
ProtectionStatus = Literal["protected", "at_risk", "unprotected"]
Role = Literal["viewer", "operator", "admin"]

MAX_LIMIT = 200
# Free text from a query string: anything but NUL, which no PostgreSQL text can hold (the pages'
# forms refuse it too, with Django's ProhibitNullCharactersValidator).
NO_NUL = r"^[^\x00]*$"


def _iso_day(value):
    # pydantic would also read a number as seconds since 1970: a day here is written as one.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("Write the day as YYYY-MM-DD.")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
# An id as the database stores it (BIGINT): a larger number is refused, not overflowed.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Out(BaseModel):
    """An answer. Plain pydantic: the endpoints build answers as dicts, which pydantic checks
    natively, where ninja's Schema wraps every nested dict in its attribute getter first (a
    page of 50 instances: 5 ms instead of 0.4 ms)."""


class ProjectOut(Out):
    id: int
    name: str
    region: str
    project_id: str = Field(description="The project's id in the cloud.")
    role: Role = Field(description="What this token may do there: the lower of its role and its owner's.")


class ProjectList(Out):
    items: list[ProjectOut]


class Ref(Out):
    id: int
    name: str


class InstanceRef(Ref):
    cloud_id: str


class ProtectionOut(Out):
    status: ProtectionStatus
    reason: str
    next_step: str
    changed_at: datetime | None


class PolicyOut(Out):
    keep_days: int = Field(description="0: automated backups are off.")
    start_time: str = Field(description="The daily window in UTC, hh:mm-HH:MM.")
    period: str = Field(description="Days of the week, 1 = Monday.")


class InstanceOut(Out):
    id: int
    project: Ref
    name: str
    cloud_id: str
    status: str
    status_label: str
    mode: str
    datastore_version: str
    synced_at: datetime
    gone_at: datetime | None = Field(description="When it disappeared from the cloud; its history stays.")
    policy: PolicyOut | None = Field(description="The automated backup policy; null until read from the cloud.")
    rpo_hours: int
    protection: ProtectionOut | None = Field(description="Null until first assessed, and for gone instances.")

    @staticmethod
    def of(instance: Instance) -> dict:
        from backups.rules import instance_status_label

        return {
            "id": instance.pk,
            "project": {"id": instance.project_id, "name": instance.project.name},
            "name": instance.name,
            "cloud_id": instance.cloud_id,
            "status": instance.status,
            "status_label": instance_status_label(instance.status),
            "mode": instance.mode,
            "datastore_version": instance.datastore_version,
            "synced_at": instance.synced_at,
            "gone_at": instance.gone_at,
            "policy": None
            if instance.policy_keep_days is None
            else {
                "keep_days": instance.policy_keep_days,
                "start_time": instance.policy_start_time,
                "period": instance.policy_period,
            },
            "rpo_hours": instance.effective_rpo_hours,
            "protection": None
            if not instance.protection_status or instance.gone_at
            else {
                "status": instance.protection_status,
                "reason": instance.protection_reason,
                "next_step": instance.protection_next_step,
                "changed_at": instance.protection_changed_at,
            },
        }


class InstanceList(Out):
    items: list[InstanceOut]
    next_cursor: str | None


class ExplanationOut(Out):
    summary: str
    next_step: str


class BackupOut(Out):
    id: int
    url: str = Field(description="The backup's page in the console (a path).")
    name: str
    description: str
    status: BackupStatus
    progress: int | None = Field(description="Percent, while the cloud reports it.")
    origin: Literal["dashboard", "cloud_auto", "cloud_manual"]
    overdue: bool = Field(description="Running far longer than this instance's backups usually take.")
    project: Ref
    instance: InstanceRef
    requested_by: str | None = Field(description="The username of who asked for it; null for the cloud's own.")
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    size_kb: int | None
    job_id: str
    backup_id: str = Field(description="The backup's id in the cloud.")
    error_code: str
    error_message: str
    explanation: ExplanationOut | None = Field(
        description="For a failure: what happened and what to do, in plain words."
    )

    @staticmethod
    def of(backup: Backup) -> dict:
        explanation = explain(backup.error_code, backup.error_message) if backup.status == "failed" else None
        instance = backup.instance
        return {
            "id": backup.pk,
            "url": reverse("backups:backup_detail", args=[backup.pk]),
            "name": backup.name,
            "description": backup.description,
            "status": backup.status,
            "progress": backup.progress,
            "origin": backup.origin,
            "overdue": backup.overdue,
            "project": {"id": instance.project_id, "name": instance.project.name},
            "instance": {"id": instance.pk, "name": instance.name, "cloud_id": instance.cloud_id},
            "requested_by": backup.requested_by.username if backup.requested_by else None,
            "requested_at": backup.requested_at,
            "started_at": backup.started_at,
            "finished_at": backup.finished_at,
            "size_kb": backup.size_kb,
            "job_id": backup.job_id,
            "backup_id": backup.backup_id,
            "error_code": backup.error_code,
            "error_message": backup.error_message,
            "explanation": {"summary": explanation.summary, "next_step": explanation.next_step}
            if explanation
            else None,
        }


class EventOut(Out):
    at: datetime
    kind: str
    message: str


class BackupDetail(BackupOut):
    events: list[EventOut]


class BackupList(Out):
    items: list[BackupOut]
    next_cursor: str | None


class BackupIn(Schema):
    """The rules are checked by the console (`backups.rules`, as for the form), so a broken one
    gets the form's own words; the patterns here only describe them."""

    # A misspelt field is an error, not a default silently taken.
    model_config = ConfigDict(extra="forbid")

    instance: Id = Field(description="The console's id of the instance (see /instances).")
    name: str = Field(
        "",
        description="4 to 64 characters: letters, digits, - and _, starting with a letter. Unique on the instance.",
        json_schema_extra={"pattern": "^[A-Za-z][A-Za-z0-9_-]{3,63}$"},
    )
    description: str | None = Field(
        None,
        description="Up to 256 characters, without > ! < \" & ' =. Default: who asked for it, through the API.",
        json_schema_extra={"pattern": "^[^>!<\"&'=\\x00]*[^>!<\"&'=\\s\\x00][^>!<\"&'=\\x00]*$", "maxLength": 256},
    )


class InstanceFilters(Schema):
    q: str = Field("", max_length=128, pattern=NO_NUL, description="Part of the instance's name or cloud id.")
    project: Id | None = None
    status: InstanceStatusFilter | None = None
    protection: ProtectionStatus | None = None
    cursor: str | None = Field(None, pattern=r"^[0-9]{1,18}$", description="A `next_cursor`, as it came.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class BackupFilters(Schema):
    q: str = Field("", max_length=64, pattern=NO_NUL, description="Part of the backup's name.")
    project: Id | None = None
    instance: Id | None = None
    status: BackupStatus | None = None
    requested_by: str | None = Field(
        None,
        max_length=150,
        pattern=NO_NUL,
        description="A username, or `auto` (the cloud's policy) or `cloud` (its console).",
    )
    since: Day | None = Field(None, description="Requested on or after this day (UTC), YYYY-MM-DD.")
    until: Day | None = Field(None, description="Requested on or before this day (UTC), YYYY-MM-DD.")
    # Microseconds since 1970 and an id: no more digits than a date before the year 5000 and a BIGINT take.
    cursor: str | None = Field(None, pattern=r"^[0-9]{1,17}\.[0-9]{1,18}$", description="A `next_cursor`, as it came.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
