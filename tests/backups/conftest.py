"""Users of each role in one project, an outsider in another, and signed-in clients for them.
The project itself, its operator and instance, and the operator's client are tests/conftest.py's."""

import pytest
from django.utils import translation

from access.models import Membership
from tests.factories import CloudProjectFactory, MembershipFactory, UserFactory
from tests.helpers import signed_in

Role = Membership.Role


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _language_left_as_found():
    """A page request activates its viewer's language in the test's thread, and nothing turns
    it off again: without this, a test ending on a German page leaves the next one in German."""
    with translation.override(translation.get_language()):
        yield


@pytest.fixture
def other_project(db):
    """A project none of the `project` members belongs to."""
    return CloudProjectFactory(name="eu-de_elsewhere")


def member(project, role, username, full_name):
    first, last = full_name.split()
    user = UserFactory(username=username, first_name=first, last_name=last)
    MembershipFactory(user=user, project=project, role=role)
    return user


@pytest.fixture
def viewer(project):
    return member(project, Role.VIEWER, "vera", "Vera Viewer")


@pytest.fixture
def admin(project):
    return member(project, Role.ADMIN, "ada", "Ada Admin")


@pytest.fixture
def outsider(other_project):
    return member(other_project, Role.ADMIN, "otto", "Otto Outsider")


@pytest.fixture
def viewer_client(viewer):
    return signed_in(viewer)


@pytest.fixture
def outsider_client(outsider):
    return signed_in(outsider)
