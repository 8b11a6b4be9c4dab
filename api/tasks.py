"""Celery tasks of the API: thin, they call the services."""

from celery import shared_task

from api.services import requests


@shared_task
def forget_idempotency_keys() -> int:
    """Beat: drop Idempotency-Keys older than API_IDEMPOTENCY_KEY_HOURS."""
    return requests.idempotency_keys_forget()
