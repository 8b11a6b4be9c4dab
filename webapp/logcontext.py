"""What each log line is about: the request, the user, the Celery task, the backup and the
cloud's own request id, so one backup can be followed from the click through the worker to
the cloud and back (LOG_FORMAT=json for machines, plain for people).

The values live in context variables (per thread, per task), set by `RequestIdMiddleware`,
the Celery signals below and `log_context(...)` where the pipeline works on one backup;
`ContextFilter` copies them onto every record a handler formats.
"""

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

FIELDS = ("request_id", "user", "task_id", "backup_id", "restore_id", "cloud_request_id")
_vars: dict[str, ContextVar] = {name: ContextVar(name, default=None) for name in FIELDS}
# The plain format's short names, in this order: `[req=… user=… task=… backup=… cloud=…]`.
_SHORT = {
    "request_id": "req",
    "user": "user",
    "task_id": "task",
    "backup_id": "backup",
    "restore_id": "restore",
    "cloud_request_id": "cloud",
}
# An incoming X-Request-ID is kept only when it is a short plain token: it goes into every log
# line, so nothing a client sends may forge lines or carry markup.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
# The Celery message header that carries the request id from the publisher to the task.
TASK_HEADER = "console_request_id"


def current(name: str):
    return _vars[name].get()


@contextmanager
def log_context(**values) -> Iterator[None]:
    """Log lines inside carry these values (`with log_context(backup_id=7): ...`)."""
    tokens = [(_vars[name], _vars[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind(**values) -> None:
    """Set values until `clear` (for a task's whole run, between Celery's pre- and postrun)."""
    for name, value in values.items():
        _vars[name].set(value)


def clear() -> None:
    for var in _vars.values():
        var.set(None)


class ContextFilter(logging.Filter):
    """Copies the known context onto the record (unless the call passed its own in `extra`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _vars.items():
            value = var.get()
            if value is not None and getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class PlainFormatter(logging.Formatter):
    """`%(context)s` is ` [req=… task=… backup=…]`, or nothing when nothing is known."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        known = [f"{short}={value}" for name, short in _SHORT.items() if (value := getattr(record, name, None))]
        record.context = f" [{' '.join(known)}]" if known else ""
        return super().formatMessage(record)


def json_formatter(**kwargs) -> logging.Formatter:
    """One JSON object per line: time, level, logger, message, the context and any `extra`."""
    return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=False, **kwargs)


class RequestIdMiddleware:
    """Takes a safe incoming X-Request-ID (else a new one), keeps it and the user in the log
    context while the request is handled, and echoes it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        with log_context(request_id=request_id, user=None):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # A poll answered from its pass names its user itself (access.pollpass): loading the
        # user here would cost it the sign-in the pass exists to save.
        if getattr(view_func, "binds_its_own_user", False):
            return
        # Runs after every middleware's request phase, so AuthenticationMiddleware has set the user.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            bind(user=user.get_username())


def connect_celery_signals() -> None:
    """The request id travels in the task's headers; a task's lines carry it and the task id."""
    from celery import signals

    def on_publish(headers=None, **kwargs):
        request_id = current("request_id")
        if headers is not None and request_id and TASK_HEADER not in headers:
            headers[TASK_HEADER] = request_id

    def on_prerun(task_id=None, task=None, **kwargs):
        clear()
        bind(task_id=task_id, request_id=getattr(task.request, TASK_HEADER, None) if task else None)

    def on_postrun(**kwargs):
        clear()

    signals.before_task_publish.connect(on_publish, weak=False, dispatch_uid="logcontext-publish")
    signals.task_prerun.connect(on_prerun, weak=False, dispatch_uid="logcontext-prerun")
    signals.task_postrun.connect(on_postrun, weak=False, dispatch_uid="logcontext-postrun")
