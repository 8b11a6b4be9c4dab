"""Reading and changing a person's preferences, and keeping them in their session."""

from django.conf import settings
from django.http import HttpRequest

from .models import Preference

# The session key of the preferences every page applies (middleware.py).
SESSION_KEY = "preferences"


def preference_of(user) -> Preference:
    """The user's preferences: saved ones, or the defaults (unsaved) for someone who never chose."""
    try:
        return user.preference
    except Preference.DoesNotExist:
        return Preference(user=user)


def preference_update(*, user, language: str | None = None, time_zone: str | None = None, theme: str | None = None):
    """Saves the choices given (None: unchanged), validated as the form validates them."""
    preference = preference_of(user)
    changes = {"language": language, "time_zone": time_zone, "theme": theme}
    for field, value in changes.items():
        if value is not None:
            setattr(preference, field, value)
    preference.full_clean(exclude=["user"])
    preference.save()
    return preference


def preference_remember(*, request: HttpRequest, preference: Preference) -> None:
    """Puts the preferences in the session, where every later request of it reads them."""
    request.session[SESSION_KEY] = preference.as_session()


def language_for(user) -> str:
    """The language to write to this user in (emails, chat messages): the one they chose,
    else the console's default. For workers, which have no browser to ask."""
    if user is None:
        return settings.LANGUAGE_CODE
    return Preference.objects.filter(user=user).values_list("language", flat=True).first() or settings.LANGUAGE_CODE
