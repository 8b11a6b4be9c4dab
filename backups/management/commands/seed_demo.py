from django.core.management.base import BaseCommand

from backups.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Create the demo users and the simulator's cloud projects (demo mode only)."

    def handle(self, *args, **options):
        projects = seed_demo()
        self.stdout.write(f"Demo projects: {', '.join(p.name for p in projects)}")
        users = ", ".join(username for username, *_ in DEMO_USERS)
        self.stdout.write(f"Demo users: {users} (password: {DEMO_PASSWORD})")
