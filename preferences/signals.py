from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .services import preference_of, preference_remember


@receiver(user_logged_in, dispatch_uid="preferences-on-sign-in")
def apply_on_sign_in(sender, request, user, **kwargs):
    """The saved preferences go into the new session: one query at sign-in, none per page."""
    if request is not None and hasattr(request, "session"):
        preference_remember(request=request, preference=preference_of(user))
