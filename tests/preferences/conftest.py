import pytest

from access.models import Membership
from tests.factories import CloudProjectFactory, InstanceFactory, MembershipFactory, UserFactory
from tests.helpers import signed_in


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def project(db):
    return CloudProjectFactory(name="eu-de_prod")


@pytest.fixture
def operator(project):
    user = UserFactory(username="oscar", first_name="Oscar", last_name="Operator")
    MembershipFactory(user=user, project=project, role=Membership.Role.OPERATOR)
    return user


@pytest.fixture
def instance(project):
    return InstanceFactory(project=project, name="orders-prod")


@pytest.fixture
def operator_client(operator):
    return signed_in(operator)
