import pytest

from tests.notifications.backends import FlakyBackend


@pytest.fixture
def flaky_mail(settings):
    """Sends go through FlakyBackend: append to the returned list what the next sends raise."""
    settings.EMAIL_BACKEND = "tests.notifications.backends.FlakyBackend"
    FlakyBackend.failures = []
    yield FlakyBackend.failures
    FlakyBackend.failures = []


@pytest.fixture
def published(monkeypatch):
    """Email ids handed to the broker, instead of a broker."""
    sent = []

    def collect(task_name, *args):
        assert task_name == "notifications.tasks.send_email"
        sent.extend(args)

    monkeypatch.setattr("notifications.publish.publish", collect)
    return sent
