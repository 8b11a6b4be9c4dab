"""The Celery app: configured from Django settings (CELERY_* names), tasks autodiscovered."""

import os
import time

from celery import Celery, signals

from webapp.logcontext import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("webapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery_signals()


@signals.setup_logging.connect
def use_django_logging(**kwargs) -> None:
    """Workers and beat log through settings.LOGGING (LOG_FORMAT, the context filter) instead
    of Celery's own format: a receiver here stops Celery from configuring logging itself."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@app.task(name="webapp.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Beat → broker → worker is alive: beat publishes this every BEAT_HEARTBEAT_SECONDS."""
    from django.core.cache import cache

    from webapp.health import BEAT_HEARTBEAT_KEY

    # Kept a day, so a stopped beat shows as an old heartbeat rather than none.
    cache.set(BEAT_HEARTBEAT_KEY, time.time(), timeout=24 * 3600)
