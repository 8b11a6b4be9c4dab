from django.core.management.base import BaseCommand, CommandError

from access.models import CloudProject
from backups.cloud import CloudError
from backups.services.sync import project_sync


class Command(BaseCommand):
    help = "Sync instances and import cloud backups now, for all projects or the ones named."

    def add_arguments(self, parser):
        parser.add_argument("projects", nargs="*", help="Project names or cloud project IDs (default: all).")

    def handle(self, *args, projects, **options):
        selected = CloudProject.objects.all()
        if projects:
            selected = [p for p in selected if p.name in projects or p.project_id in projects]
            if not selected:
                raise CommandError(f"No connected project is named {', '.join(projects)}.")
        failed = False
        for project in selected:
            try:
                result = project_sync(project=project)
            except CloudError as error:
                failed = True
                self.stderr.write(f"{project.name}: {error}")
                continue
            summary = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in result.items())
            self.stdout.write(f"{project.name}: {summary}")
        if failed:
            raise CommandError("Some projects could not be synced.")
