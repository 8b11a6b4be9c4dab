"""How restore services hand work to the worker: by task name (services never import
`tasks.py`). Publishing is never the durable step: each restore and each clean-up is a row that
the sweep (`restores.tasks.sweep`) publishes again when the broker did not take it."""

from backups.publish import REPUBLISH_AFTER, hand_over

SUBMIT_RESTORE = "restores.tasks.submit_restore"
DELETE_REHEARSAL_INSTANCE = "restores.tasks.delete_rehearsal_instance"

TASK_NAMES = (SUBMIT_RESTORE, DELETE_REHEARSAL_INSTANCE)

__all__ = ["DELETE_REHEARSAL_INSTANCE", "REPUBLISH_AFTER", "SUBMIT_RESTORE", "TASK_NAMES", "hand_over"]
