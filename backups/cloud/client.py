"""The GeminiDB (Cassandra) API's operations: instances, backups, automated backup policies and jobs.

Paths, fields and codes follow the reference pages in /work/shared/reference/geminidb-api/;
how each call is authenticated, paced, retried and classified is `transport.py`. Creating a
backup is never retried: the API has no idempotency key (FIELD-NOTES), so when the answer is
lost the caller gets ``AmbiguousRequest`` and must look for the backup by name
(``find_backup_by_name``) before sending again. Creating (restoring to), deleting and looking
up single instances is ``instances.py``, which this client builds on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from .errors import AmbiguousRequest, ServerBusy
from .instances import InstanceCalls
from .paging import read_pages
from .transport import RetryPolicy, logger
from .types import BackupPolicy, CloudBackup, CreatedBackup, Instance, Job, format_time

__all__ = ["GeminiDBClient", "RetryPolicy"]

# querying_instances_and_details.rst and querying_backups_v3.1.rst: limit 1..100;
# querying_tasks_and_details.rst: limit 10, 20 or 50.
INSTANCES_PAGE = 100
BACKUPS_PAGE = 100
JOBS_PAGE = 50
# querying_tasks_and_details.rst: "the time span cannot exceed 30 days".
JOBS_MAX_WINDOW = timedelta(days=30)


class GeminiDBClient(InstanceCalls):
    """The API's operations for one project as one IAM user (``CloudSession`` says how the
    calls are made and what its options mean; ``InstanceCalls`` adds creating, restoring and
    deleting instances)."""

    # Instances

    def list_instances(self, datastore_type: str | None = "cassandra") -> list[Instance]:
        """All instances of ``datastore_type`` in the project (all types when None), every page read."""
        params = {"datastore_type": datastore_type} if datastore_type else {}
        path = f"/v3/{self._project}/instances"
        instances = [
            Instance.from_api(item) for item in read_pages(self._call, path, "instances", params, INSTANCES_PAGE)
        ]
        if datastore_type:
            # The filter is the server's; checking again keeps a misapplied one from leaking through.
            instances = [i for i in instances if i.datastore_type == datastore_type]
        return instances

    # Backups

    def create_backup(self, instance_id: str, name: str, description: str) -> CreatedBackup:
        """Start a manual backup of ``instance_id``; the API answers 202 with the job and backup ids.

        Never retried. Raises ``AmbiguousRequest`` when the request may have been carried out
        but no answer says so (timeout or dropped connection after sending, a 5xx answer, an
        unreadable 202): look for the backup with ``find_backup_by_name`` before trying again.
        Raises ``CloudUnavailable`` only when nothing was sent.
        """
        path = f"/v3/{self._project}/instances/{quote(instance_id, safe='')}/backups"
        try:
            data = self._call(
                "POST", path, body={"name": name, "description": description}, expected=(202,), write=True
            )
        except ServerBusy as error:
            # A 5xx can come from a gateway after the service accepted the request
            # (FIELD-NOTES: "ambiguous create (timeout, reset, 5xx after sending)").
            raise AmbiguousRequest(
                error.error_msg, status=error.status, error_code=error.error_code, request_id=error.request_id
            ) from error
        created = CreatedBackup.from_api(data)
        if not created.backup_id:
            raise AmbiguousRequest("the 202 answer names no backup_id", status=202)
        return created

    def list_backups(
        self,
        *,
        instance_id: str | None = None,
        backup_id: str | None = None,
        backup_type: str | None = None,
        begin_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> list[CloudBackup]:
        """Backups matching the filters (v3.1 API), every page read, newest first.

        ``backup_type`` is "Auto" or "Manual"; ``begin_time`` and ``end_time`` go together
        (querying_backups_v3.1.rst: each is mandatory when the other is set).
        """
        if (begin_time is None) != (end_time is None):
            raise ValueError("begin_time and end_time must be given together")
        params: dict[str, str] = {}
        if instance_id:
            params["instance_id"] = instance_id
        if backup_id:
            params["backup_id"] = backup_id
        if backup_type:
            params["backup_type"] = backup_type
        if begin_time and end_time:
            params["begin_time"] = format_time(begin_time)
            params["end_time"] = format_time(end_time)
        path = f"/v3.1/{self._project}/backups"
        # querying_backups_v3.1.rst heads its response table "Status code: 202" and its
        # example "Status code: 200"; either is a success.
        items = read_pages(self._call, path, "backups", params, BACKUPS_PAGE, expected=(200, 202))
        return [CloudBackup.from_api(item) for item in items]

    def get_backup(self, backup_id: str) -> CloudBackup | None:
        """The backup with this id, or None when the list does not show it."""
        return next((b for b in self.list_backups(backup_id=backup_id) if b.id == backup_id), None)

    def find_backup_by_name(self, instance_id: str, name: str) -> CloudBackup | None:
        """The instance's manual backup named exactly ``name`` (names are case-sensitive), or None.

        This is how an ambiguous create is reconciled: the name is the only handle the
        caller controls (FIELD-NOTES).
        """
        matches = [
            b for b in self.list_backups(instance_id=instance_id, backup_type=CloudBackup.MANUAL) if b.name == name
        ]
        if len(matches) > 1:
            logger.warning("%d manual backups of instance %s are named %s", len(matches), instance_id, name)
        # With several, the oldest is the one the first request made.
        return min(matches, key=lambda b: b.begin_time or datetime.max.replace(tzinfo=UTC), default=None)

    # Automated backup policies

    def get_backup_policy(self, instance_id: str) -> BackupPolicy:
        """The instance's automated backup policy (querying_an_automated_backup_policy.rst); a read,
        retried like the others. Raises ``InstanceNotFound`` for an instance the project lacks."""
        path = f"/v3.1/{self._project}/instances/{quote(instance_id, safe='')}/backups/policy"
        data = self._call("GET", path, params={"type": "Instance"})
        policy = data.get("backup_policy")
        return BackupPolicy.from_api(policy if isinstance(policy, dict) else {})

    def set_backup_policy(self, instance_id: str, policy: BackupPolicy) -> None:
        """Replace the instance's automated backup policy (configuring_an_automated_backup_policy.rst).

        Sent once, like every write; check ``policy`` with ``validators.validate_backup_policy``
        first. The cloud answers 204 without a body. Raises ``InvalidRequest`` for a policy the
        cloud refuses; ``AmbiguousRequest`` when the answer is lost and ``ServerBusy`` for a 5xx,
        after which the policy may or may not have changed (setting it again is harmless).
        """
        path = f"/v3/{self._project}/instances/{quote(instance_id, safe='')}/backups/policy"
        # Not _call: it reads a JSON answer, and a 204 has none.
        token = self._retrying("POST /v3/auth/tokens", self._token)
        self._send_with_token(
            "PUT",
            self._geminidb + path,
            token,
            body={"backup_policy": policy.to_api()},
            expected=(200, 204),
            write=True,
        )

    # Jobs

    def get_job(self, job_id: str) -> Job | None:
        """The job with this id, or None when the jobs API does not know it.

        The job id of a manual backup may never show up in the jobs API (FIELD-NOTES: a sister
        service does not list them); follow the backup in the backup list then.
        """
        data = self._call("GET", f"/v3/{self._project}/jobs", params={"id": job_id})
        jobs = [Job.from_api(item) for item in data.get("jobs") or []]
        return next((job for job in jobs if job.id == job_id), None)

    def list_jobs(
        self,
        *,
        status: str | None = None,
        name: str | None = Job.BACKUP_INSTANCE,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> list[Job]:
        """Jobs matching the filters, every page read.

        ``status`` is Running, Completed or Failed; ``name`` a task name (all tasks when None).
        Without times the API looks at the last 30 days; a window may not span more.
        """
        if start_time and (end_time or datetime.now(UTC)) - start_time > JOBS_MAX_WINDOW:
            raise ValueError("the jobs API accepts a window of at most 30 days")
        if start_time and end_time and end_time <= start_time:
            raise ValueError("end_time must be later than start_time")
        params: dict[str, str] = {}
        if status:
            params["status"] = status
        if name:
            params["name"] = name
        if start_time:
            params["start_time"] = format_time(start_time)
        if end_time:
            params["end_time"] = format_time(end_time)
        return [
            Job.from_api(item)
            for item in read_pages(self._call, f"/v3/{self._project}/jobs", "jobs", params, JOBS_PAGE)
        ]
