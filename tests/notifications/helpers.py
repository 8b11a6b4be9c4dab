"""Channels for the notifications tests, made through the service as an admin would."""

from access.models import Membership
from notifications.events import EventKind
from notifications.services.channels import channel_add
from tests.factories import CloudProjectFactory, MembershipFactory, UserFactory

ALL_EVENTS = list(EventKind.values)


def project_with_admin(name: str = "eu-de_alpha"):
    project = CloudProjectFactory(name=name)
    admin = UserFactory(username=f"admin-{name}")
    MembershipFactory(user=admin, project=project, role=Membership.Role.ADMIN)
    return project, admin


def add_channel(project, admin, *, kind="webhook", target="http://127.0.0.1:9/hook", events=None, hours=0, name=None):
    channel, secret = channel_add(
        project=project, by=admin, kind=kind, name=name or f"{kind} channel", target=target,
        events=ALL_EVENTS if events is None else events, reminder_hours=hours,
    )  # fmt: skip
    return channel, secret
