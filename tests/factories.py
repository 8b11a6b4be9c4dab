"""factory_boy factories for the console's models: users of each role, projects, instances,
backups in any state, and their timelines."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from access.models import CloudProject, Membership
from backups.models import Backup, BackupEvent, Instance


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw-for-tests")


class CloudProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CloudProject

    name = factory.Sequence(lambda n: f"eu-de_project{n}")
    region = "eu-de"
    project_id = factory.Sequence(lambda n: f"{n:032x}")
    iam_endpoint = "https://iam.example.test"
    geminidb_endpoint = "https://geminidb.example.test"
    iam_domain = "domain"
    iam_user = "user"
    iam_password = "secret"
    instances_synced_at = factory.LazyFunction(timezone.now)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    project = factory.SubFactory(CloudProjectFactory)
    role = Membership.Role.OPERATOR


class InstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instance

    project = factory.SubFactory(CloudProjectFactory)
    cloud_id = factory.Sequence(lambda n: f"{n:028x}in06")
    name = factory.Sequence(lambda n: f"cassandra-{n:03d}")
    status = "normal"
    mode = "Cluster"
    datastore_version = "3.11"
    synced_at = factory.LazyFunction(timezone.now)


class BackupFactory(factory.django.DjangoModelFactory):
    """A completed backup made from this console, unless told otherwise."""

    class Meta:
        model = Backup

    instance = factory.SubFactory(InstanceFactory)
    name = factory.Sequence(lambda n: f"backup-{n:05d}")
    description = "Nightly"
    origin = Backup.Origin.DASHBOARD
    requested_by = factory.SubFactory(UserFactory)
    requested_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    status = Backup.Status.COMPLETED
    progress = 100
    job_id = factory.Sequence(lambda n: f"job-{n:08d}")
    backup_id = factory.Sequence(lambda n: f"{n:028x}br06")
    size_kb = 2_500_000
    started_at = factory.LazyAttribute(lambda b: b.requested_at + timedelta(seconds=5))
    finished_at = factory.LazyAttribute(
        lambda b: b.started_at + timedelta(minutes=4) if b.status in ("completed", "failed") and b.started_at else None
    )

    class Params:
        running = factory.Trait(
            status=Backup.Status.RUNNING, progress=40, size_kb=None, finished_at=None, next_poll_at=None
        )
        queued = factory.Trait(
            status=Backup.Status.QUEUED, progress=0, size_kb=None, started_at=None, job_id="", backup_id=""
        )
        failed = factory.Trait(
            status=Backup.Status.FAILED,
            progress=0,
            size_kb=None,
            error_code="DBS.201015",
            error_message="Another operation is being performed on the instance.",
        )
        automated = factory.Trait(origin=Backup.Origin.CLOUD_AUTO, requested_by=None)


class BackupEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackupEvent

    backup = factory.SubFactory(BackupFactory)
    at = factory.LazyFunction(timezone.now)
    kind = BackupEvent.Kind.REQUESTED
    message = ""
