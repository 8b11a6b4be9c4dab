"""Making and removing instances: look one up, create one (which is how a backup is restored),
delete one, and read the point-in-time window a restore may aim at.

Creating an instance is never retried, like creating a backup: the API has no idempotency key
(FIELD-NOTES), so when the answer is lost the caller gets ``AmbiguousRequest`` and must look for
the instance by its name (``find_instance_by_name``) before sending again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from django.views.decorators.debug import sensitive_variables

from .creation import CreatedInstance, NewInstance, restorable_periods_from_api
from .errors import AmbiguousRequest, InstanceNotFound, InvalidRequest, ServerBusy
from .paging import read_pages
from .parsing import as_list, format_time, text, whole_or_none
from .transport import CloudSession, logger
from .types import Instance

# querying_instances_and_details.rst: limit 1..100.
LOOKUP_PAGE = 100
# querying_the_time_window_when_a_backup_can_be_restored.rst: limit 0..1000.
PERIODS_PAGE = 1000


class InstanceCalls(CloudSession):
    """The instance calls of ``GeminiDBClient`` (which adds backups, policies and jobs)."""

    def get_instance(self, instance_id: str) -> Instance | None:
        """The project's instance with this id (any datastore), or None: a deleted instance
        leaves the list once its DeleteInstance job has ended."""
        items = read_pages(self._call, self._instances_path(), "instances", {"id": instance_id}, LOOKUP_PAGE)
        return next((Instance.from_api(item) for item in items if item.get("id") == instance_id), None)

    def find_instance_by_name(self, name: str) -> Instance | None:
        """The Cassandra instance named exactly ``name`` (names are case-sensitive), or None.

        This is how an ambiguous create is reconciled: the name is the only handle the caller
        controls. The API lets two instances share a name (creating_an_instance.rst), so give
        each new instance a name of its own; should several match, the oldest (the one the
        first request made) is returned and a warning logged.
        """
        params = {"name": name, "datastore_type": "cassandra"}
        items = read_pages(self._call, self._instances_path(), "instances", params, LOOKUP_PAGE)
        # The API's name filter may match more loosely (a leading "*" is a fuzzy search).
        matches = [Instance.from_api(item) for item in items if item.get("name") == name]
        if len(matches) > 1:
            logger.warning("%d instances are named %s", len(matches), name)
        return min(matches, key=lambda i: i.created or datetime.max.replace(tzinfo=UTC), default=None)

    @sensitive_variables("new", "body")
    def create_instance(self, new: NewInstance) -> CreatedInstance:
        """Create an instance, restoring a backup into it when ``new`` says so
        (creating_an_instance.rst); the cloud answers 202 with its id and the job that makes it
        (``Job.RESTORE_NEW_INSTANCE``, or ``Job.CREATE_INSTANCE`` without restore_info).

        Never retried, and the password never logged. Raises ``AmbiguousRequest`` when the
        request may have been carried out but no answer says so (timeout or dropped connection
        after sending, a 5xx answer, a 202 without the ids): look for the instance with
        ``find_instance_by_name`` before trying again. Raises ``InvalidRequest`` with the cloud's
        DBS code and message when it refuses the request, and ``CloudUnavailable`` only when
        nothing was sent.
        """
        body = new.to_api()
        try:
            data = self._call("POST", self._instances_path(), body=body, expected=(202,), write=True)
        except ServerBusy as error:
            # A 5xx can come from a gateway after the service accepted the request (FIELD-NOTES).
            raise AmbiguousRequest(
                error.error_msg, status=error.status, error_code=error.error_code, request_id=error.request_id
            ) from error
        except InstanceNotFound as error:
            # A create names no instance in its path: "does not exist" is about its restore_info.
            raise InvalidRequest(
                error.error_msg, status=error.status, error_code=error.error_code, request_id=error.request_id
            ) from error
        created = CreatedInstance.from_api(data)
        if not (created.instance_id and created.job_id):
            raise AmbiguousRequest("the 202 answer names no instance id or no job_id", status=202)
        return created

    def delete_instance(self, instance_id: str) -> str:
        """Delete an instance (deleting_an_instance.rst); returns the DeleteInstance job's id.
        The instance leaves the list when that job ends.

        Sent once, like every write; sending it again is harmless. Raises ``InstanceNotFound``
        when the instance is already gone (take it as deleted), ``InstanceBusy`` while another
        operation runs on it (being created or restored, backed up, or already being deleted),
        ``AmbiguousRequest`` when the answer is lost and ``ServerBusy`` for a 5xx: then it may
        or may not be being deleted, which ``get_instance`` and the jobs tell.
        """
        path = f"{self._instances_path()}/{quote(instance_id, safe='')}"
        data = self._call("DELETE", path, expected=(202,), write=True)
        job_id = text(data.get("job_id"))
        if not job_id:
            raise AmbiguousRequest("the 202 answer names no job_id", status=202)
        return job_id

    def restorable_time_periods(
        self, instance_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[tuple[datetime, datetime]]:
        """The times the instance can be restored to (querying_the_time_window_when_a_backup_can_be_restored.rst),
        ``(start, end)`` pairs in UTC, oldest first; a pair may be a single point. Empty when it
        has none (no completed backup yet, or not a Cluster instance). ``start`` and ``end``
        narrow the question. A read, retried like the others; raises ``InstanceNotFound`` for an
        instance the project lacks.
        """
        path = f"{self._instances_path()}/{quote(instance_id, safe='')}/backups/restorable-time-periods"
        params = {"limit": str(PERIODS_PAGE)}
        if start is not None:
            params["start_time"] = format_time(start)
        if end is not None:
            params["end_time"] = format_time(end)
        periods: list[tuple[datetime, datetime]] = []
        offset = 0
        while True:
            data = self._call("GET", path, params={**params, "offset": str(offset)})
            items = as_list(data.get("restorable_time_periods"))
            periods += restorable_periods_from_api(items)
            offset += len(items)
            total = whole_or_none(data.get("total_count"))
            if not items or total is None or offset >= total:
                return sorted(periods)

    def _instances_path(self) -> str:
        return f"/v3/{self._project}/instances"
