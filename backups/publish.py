"""How services hand work to the worker: by task name, so that services never import
`tasks.py`, which imports them.

Publishing is never the durable step. Each kind of published work is first recorded in the
database (a queued backup, a project's requested sync) and a beat sweep publishes it again
if the broker did not get it, so a caller treats a failure here as "later", not "lost".
"""

from datetime import timedelta

from celery import current_app

SUBMIT_BACKUP = "backups.tasks.submit_backup"
SYNC_PROJECT = "backups.tasks.sync_project"

TASK_NAMES = (SUBMIT_BACKUP, SYNC_PROJECT)

# Work handed to the broker this long ago and still not started is published again by the sweep.
REPUBLISH_AFTER = timedelta(seconds=90)


def publish(task_name: str, *args) -> None:
    """Send one task message. Raises whatever the broker connection raises."""
    current_app.send_task(task_name, args=args)
