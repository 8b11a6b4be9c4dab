from ninja import Query, Router

from api.errors import READ, reject_unknown_parameters
from api.paging import pk_cursor, pk_cursor_of
from api.schemas import Id, InstanceFilters, InstanceList, InstanceOut
from backups.selectors.instances import instance_for, instances_for

router = Router(tags=["instances"])


@router.get("", response={200: InstanceList, **READ}, url_name="instances")
def instance_list(request, filters: Query[InstanceFilters]):
    """The instances this token may see, filtered as on the Instances page, in a stable order
    (oldest first in the console). Pass `next_cursor` back as `cursor` for the next page."""
    reject_unknown_parameters(request, InstanceFilters)
    instances = instances_for(
        request.user,
        search=filters.q.strip(),
        project=filters.project,
        status=filters.status or "",
        protection_status=filters.protection or "",
    ).select_related("project")
    after = pk_cursor(filters.cursor)
    if after is not None:
        instances = instances.filter(pk__gt=after)
    page = list(instances.order_by("pk")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {"items": [InstanceOut.of(i) for i in page], "next_cursor": pk_cursor_of(page[-1]) if more else None}


@router.get("/{instance_id}", response={200: InstanceOut, **READ}, url_name="instance")
def instance_detail(request, instance_id: Id):
    """One instance, with its automated backup policy and protection status."""
    reject_unknown_parameters(request)
    return InstanceOut.of(instance_for(request.user, instance_id))
