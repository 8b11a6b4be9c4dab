"""Celery: the broker, how tasks are run and acknowledged, and beat's schedule.

Part of `webapp.settings`, which imports every setting here by name (its docstring says why).
The Celery app (webapp/celery.py) reads the CELERY_-prefixed ones from Django's settings.
"""

from pathlib import Path

from webapp.base_settings import VAR_DIR, env

# The default broker is kombu's filesystem transport under var/, so the
# embedded setup needs no server; production sets CELERY_BROKER_URL to Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = Path(env.str("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
    # The transport expects its folders to exist; it is only ever used on a local disk.
    for folder in ("queue", "processed", "control"):
        (CELERY_BROKER_FOLDER / folder).mkdir(parents=True, exist_ok=True)
else:
    # A task not acknowledged within the visibility timeout is delivered again
    # (FIELD-NOTES): every countdown we use stays far below it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# State lives in the database; nobody reads task results.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Publishing must not hang a web request when the broker is down: the outbox sweep
# delivers the request later (backups/services/submission.py, backups/services/sync.py).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BEAT_SCHEDULE = {
    "dispatch-outbox": {
        "task": "backups.tasks.dispatch_outbox",
        "schedule": env.float("BACKUP_DISPATCH_SECONDS", default=5.0),
    },
    # A backup due for a poll waits at most a tick more: the tick is the slack on BACKUP_POLL_FIRST_SECONDS.
    "poll-running-backups": {
        "task": "backups.tasks.poll_running_backups",
        "schedule": env.float("BACKUP_POLL_TICK_SECONDS", default=1.0),
    },
    "sync-projects": {"task": "backups.tasks.sync_projects", "schedule": env.float("SYNC_SECONDS", default=300.0)},
    "watchdog": {"task": "backups.tasks.watchdog", "schedule": 300.0},
    # Time alone moves an instance out of its RPO (backups/services/protection.py).
    "assess-protection": {"task": "backups.tasks.assess_protection", "schedule": 300.0},
    "dispatch-emails": {
        "task": "notifications.tasks.dispatch_emails",
        "schedule": env.float("EMAIL_DISPATCH_SECONDS", default=10.0),
    },
    "dispatch-deliveries": {
        "task": "notifications.tasks.dispatch_deliveries",
        "schedule": env.float("DELIVERY_DISPATCH_SECONDS", default=10.0),
    },
    "send-reminders": {
        "task": "notifications.tasks.send_reminders",
        "schedule": env.float("REMINDER_CHECK_SECONDS", default=300.0),
    },
    "forget-idempotency-keys": {"task": "api.tasks.forget_idempotency_keys", "schedule": 3600.0},
    # Restores (restores/tasks.py): the outbox sweep and the rehearsal sweeper, the polls, the schedules.
    "restores-sweep": {"task": "restores.tasks.sweep", "schedule": env.float("RESTORE_DISPATCH_SECONDS", default=5.0)},
    "restores-poll": {
        "task": "restores.tasks.poll_restores",
        "schedule": env.float("RESTORE_POLL_TICK_SECONDS", default=2.0),
    },
    "rehearsals-on-schedule": {
        "task": "restores.tasks.rehearse_on_schedule",
        "schedule": env.float("REHEARSAL_SCHEDULE_SECONDS", default=60.0),
    },
    # /readyz and `manage.py beat_alive` fail when this is older than BEAT_HEARTBEAT_MAX_AGE_SECONDS.
    # Heartbeats that queued up while no worker ran would vouch for a beat that may be gone: they expire.
    "beat-heartbeat": {
        "task": "webapp.beat_heartbeat",
        "schedule": env.float("BEAT_HEARTBEAT_SECONDS", default=15.0),
        "options": {"expires": 30},
    },
}
BEAT_HEARTBEAT_MAX_AGE_SECONDS = env.float("BEAT_HEARTBEAT_MAX_AGE_SECONDS", default=120.0)
