import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests.notifications.backends import FlakyBackend
from tests.notifications.receivers import Receiver, start_receiver


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


@pytest.fixture
def published_deliveries(monkeypatch):
    """Delivery ids handed to the broker, instead of a broker."""
    sent = []

    def collect(task_name, *args):
        assert task_name == "notifications.tasks.send_delivery"
        sent.extend(args)

    monkeypatch.setattr("notifications.publish.publish", collect)
    return sent


@pytest.fixture
def receiver():
    """A real HTTP server on 127.0.0.1 (allowed in tests: OUTBOUND_ALLOWED_HOSTS)."""
    got = Receiver()
    server = start_receiver(got)
    yield got
    if got.hold is not None:
        got.hold.set()
    server.shutdown()
    server.server_close()


class _Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django's mail goes to it. Yields the
    messages it received (email.message.Message)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler.messages
    controller.stop()
