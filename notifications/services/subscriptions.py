"""A person's own notification settings."""

from notifications.models import Subscription


def subscription_set(*, user, backup_outcomes: bool) -> Subscription:
    """Whether `user` gets an email when a backup they requested completes or fails."""
    subscription, _ = Subscription.objects.update_or_create(user=user, defaults={"backup_outcomes": backup_outcomes})
    return subscription
