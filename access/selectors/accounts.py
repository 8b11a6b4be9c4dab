"""Reads about accounts: one by id, the one a project admin may add, and who proved an address."""

from django.contrib.auth import get_user_model

from access.models import ProvenEmail


def account(pk):
    """The account with this primary key, or None."""
    return get_user_model().objects.filter(pk=pk).first()


def account_to_add(text: str):
    """The active account whose username is `text` (exactly, else in any case), or whose
    proven email it is; None otherwise.

    An email finds only an address its owner proved (`ProvenEmail`): the address on an account
    is whatever its creator typed, and must not let a stranger's account be taken for yours.
    """
    text = text.strip()
    if not text:
        return None
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=text).first() or users.filter(username__iexact=text).first()
    if user is None and "@" in text:
        user = users.filter(proven_email__email=text.lower()).first()
    return user


def username_taken(username: str) -> bool:
    """Whether an account uses this username, in any case (Django's own check minds the case)."""
    return get_user_model().objects.filter(username__iexact=username).exists()


def proven_email_owner(email: str):
    """The account that proved `email`, active or not, or None."""
    proven = ProvenEmail.objects.select_related("user").filter(email=email.lower()).first()
    return proven.user if proven else None
