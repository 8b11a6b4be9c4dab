import factory.random
import pytest
from django.conf import settings

from access.models import Membership
from tests.factories import CloudProjectFactory, InstanceFactory, MembershipFactory, UserFactory
from tests.helpers import signed_in

pytest_plugins = ["tests.fixtures.simulator", "tests.fixtures.worker"]


def pytest_configure(config):
    # Tests run with DEBUG off but without `collectstatic`: serve static files from the
    # source folders, as whitenoise does in development.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    # Email stays in memory (`django.core.mail.outbox`) whatever EMAIL_URL says; a worker process
    # started by a test sends with what its own environment says (tests/notifications/test_worker.py).
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache holds IAM tokens and the call budget: no test may see another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _repeatable_fake_data(request):
    """Factories draw names from Faker: seeded by the test's id, each test sees the same names
    on every run and in any order, so a name that trips a test trips it every time."""
    factory.random.reseed_random(request.node.nodeid)


# One project with an operator and an instance, and the operator signed in: where the page tests
# of backups and preferences start. A folder whose tests need another project (one the
# simulator knows, say) defines its own `project`, and the fixtures here use it.
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
