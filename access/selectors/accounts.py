"""Reads about a person's own account."""

from django.contrib.auth import get_user_model

from access.models import InitialPassword


def account(pk):
    """The account with this primary key, or None."""
    return get_user_model().objects.filter(pk=pk).first()


def must_change_password(user) -> bool:
    """Whether the person still signs in with the initial password an admin gave them."""
    if not user.is_authenticated:
        return False
    try:
        return user.initial_password is not None
    except InitialPassword.DoesNotExist:
        return False
