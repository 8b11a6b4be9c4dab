from ninja import Router

from access.permissions import role_in
from access.selectors.projects import visible_project_list
from api.errors import READ, reject_unknown_parameters
from api.schemas import ProjectList

router = Router(tags=["projects"])


@router.get("", response={200: ProjectList, **READ}, url_name="projects")
def project_list(request):
    """The projects this token may see, with what it may do in each."""
    reject_unknown_parameters(request)
    items = [
        {"id": p.pk, "name": p.name, "region": p.region, "project_id": p.project_id, "role": role_in(request.user, p)}
        for p in visible_project_list(request.user)
    ]
    return {"items": items}
