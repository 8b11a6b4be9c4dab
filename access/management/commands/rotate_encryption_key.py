from django.core.management.base import BaseCommand
from django.db import transaction

from access.models import CloudProject


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored cloud password with the first key of FIELD_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old one after it, run this, then drop the old key."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            # Loading decrypts with whichever key fits; saving encrypts with the newest one.
            for project in CloudProject.objects.select_for_update():
                project.save(update_fields=["iam_password"])
                count += 1
        self.stdout.write(f"Re-encrypted the cloud password of {count} project(s) with the newest key.")
