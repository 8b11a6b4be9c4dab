"""How services hand work to the worker: by task name, so that services never import
`tasks.py`, which imports them.

Publishing is never the durable step. Each kind of published work is first recorded in the
database (a queued backup, a project's requested sync) and a beat sweep publishes it again
if the broker did not get it, so a caller treats a failure here as "later", not "lost".
"""

from datetime import timedelta

from celery import current_app

from webapp import broker

SUBMIT_BACKUP = "backups.tasks.submit_backup"
SYNC_PROJECT = "backups.tasks.sync_project"
RECORD_OUTCOMES = "backups.tasks.record_outcomes"

TASK_NAMES = (SUBMIT_BACKUP, SYNC_PROJECT, RECORD_OUTCOMES)

# Work handed to the broker this long ago and still not started is published again by the sweep.
REPUBLISH_AFTER = timedelta(seconds=90)


# Redis delivers a queue's messages by priority, 0 (the default) first. Submissions come
# after the rest: a burst of a thousand requests must not hold up the polls that show
# running backups ending (nor anything else), and a submission that waits a little longer
# changes nothing, since its IAM user's budget paces it anyway. Other brokers ignore this.
PRIORITIES = {SUBMIT_BACKUP: 6}


def publish(task_name: str, *args) -> None:
    """Send one task message. Raises whatever the broker connection raises."""
    current_app.send_task(task_name, args=args, priority=PRIORITIES.get(task_name))


def hand_over(task_name: str, *args, what: str) -> bool:
    """Publish one task and answer whether the broker took it. A broker outage is logged once
    (webapp/broker.py), never raised: the caller's row waits in the database for the sweep."""
    return broker.published(lambda: publish(task_name, *args), what=what)
