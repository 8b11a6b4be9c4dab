"""A mail backend for tests whose next sends fail as a mail server can make them fail."""

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend


class FlakyBackend(BaseEmailBackend):
    """Raises the queued `failures` one send at a time, then delivers to `mail.outbox`."""

    failures: list[Exception] = []

    def send_messages(self, messages):
        if FlakyBackend.failures:
            raise FlakyBackend.failures.pop(0)
        return MemoryBackend().send_messages(messages)
