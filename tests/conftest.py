import factory.random
import pytest
from django.conf import settings

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
