"""The demo world: console users and the simulator's projects, for `make run` only."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured

from access.models import CloudProject, Membership

DEMO_PASSWORD = "demo-console"  # noqa: S105 - public by design: demo mode only
# The simulator's demo IAM account (simulator/README and the project README).
DEMO_IAM = {"iam_domain": "demo-domain", "iam_user": "demo-user", "iam_password": "demo-password"}
DEMO_PROJECTS = [
    ("eu-de_demo", "0549b4a43100d4f32f51c01c2fe4acdb"),
    ("eu-de_analytics", "7a3c1e9f2b8d4e6fa0c5d2b1e8f4a6c9"),
]
DEMO_USERS = [
    # username, full name, role in every demo project, site administrator?
    ("admin", "Ada Admin", Membership.Role.ADMIN, True),
    ("operator", "Oscar Operator", Membership.Role.OPERATOR, False),
    ("viewer", "Vera Viewer", Membership.Role.VIEWER, False),
]


def seed_demo() -> list[CloudProject]:
    """Create (or refresh) the demo users and projects. Refuses unless in demo mode."""
    if not settings.DEMO_MODE:
        raise ImproperlyConfigured("Demo data exists only when GEMINIDB_SIMULATOR_URL points at the simulator.")
    endpoint = settings.GEMINIDB_SIMULATOR_URL.rstrip("/")
    projects = []
    for name, project_id in DEMO_PROJECTS:
        project, _ = CloudProject.objects.update_or_create(
            project_id=project_id,
            defaults={
                "name": name,
                "region": "eu-de",
                "iam_endpoint": endpoint,
                "geminidb_endpoint": endpoint,
                **DEMO_IAM,
            },
        )
        projects.append(project)
    User = get_user_model()
    for username, full_name, role, is_superuser in DEMO_USERS:
        first, last = full_name.split()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "is_staff": is_superuser, "is_superuser": is_superuser},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        for project in projects:
            Membership.objects.update_or_create(user=user, project=project, defaults={"role": role})
    return projects
