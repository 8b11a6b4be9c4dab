"""Make an API token from the shell, for a pipeline set up by whoever runs the server:

    export GDBC_TOKEN=$(python manage.py create_api_token operator --project 3)

Only the token goes to stdout; what it is (name, role, projects, expiry) goes to stderr. It is
made by `token_create`, as on the API tokens page: validated the same way, and audited with
the user as the actor."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access.models import CloudProject
from access.permissions import Action, projects_for
from api.models import ApiToken
from api.services.tokens import MAX_EXPIRY_DAYS, token_create

# The service's fields, as this command's options say them.
OPTION = {"name": "--name", "role": "--role", "projects": "--project", "expires_in_days": "--expires-days"}


class Command(BaseCommand):
    help = "Make an API token for a user and print it, and nothing else, on stdout."

    def add_arguments(self, parser):
        parser.add_argument("username", help="Whose token it is: it acts for them, never beyond their role.")
        parser.add_argument(
            "--project",
            dest="project_ids",
            type=int,
            action="append",
            metavar="ID",
            help="A project's console id (repeat for more). "
            "Default: every project where the user's own role allows the token's role.",
        )
        parser.add_argument("--role", choices=ApiToken.Role.values, default=ApiToken.Role.OPERATOR)
        parser.add_argument(
            "--expires-days", type=int, metavar="N", help=f"1 to {MAX_EXPIRY_DAYS}. Default: no expiry."
        )
        parser.add_argument("--name", help='Default: "created by manage.py on <today>".')

    def handle(self, *args, username, project_ids, role, expires_days, name, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user is called {username}.")
        projects = self.projects(user, project_ids, role)
        try:
            token, secret = token_create(
                user=user,
                name=name if name is not None else f"created by manage.py on {timezone.localdate().isoformat()}",
                role=role,
                projects=projects,
                expires_in_days=expires_days,
            )
        except ValidationError as error:
            raise CommandError(
                " ".join(f"{OPTION[field]}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            ) from None
        self.stdout.write(secret)
        expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M %Z}" if token.expires_at else "no expiry"
        self.stderr.write(
            f"Made token {token.name!r} ({token.prefix}…) for {username}: {token.get_role_display()} in "
            f"{', '.join(project.name for project in projects)}; {expiry}."
        )

    @staticmethod
    def projects(user, project_ids: list[int] | None, role: str) -> list[CloudProject]:
        if not project_ids:
            action = Action.BACKUP if role == ApiToken.Role.OPERATOR else Action.VIEW
            projects = list(projects_for(user, action).order_by("name"))
            if not projects:
                label = ApiToken.Role(role).label
                raise CommandError(f"{user.username} has no project where their own role is {label} or higher.")
            return projects
        projects = list(CloudProject.objects.filter(pk__in=project_ids).order_by("name"))
        if missing := sorted(set(project_ids) - {project.pk for project in projects}):
            raise CommandError(f"No project has the id {', '.join(map(str, missing))}.")
        return projects
