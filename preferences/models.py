from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy

from .validators import validate_time_zone


class Preference(models.Model):
    """How one person wants the console: language, time zone and theme. Made on the first
    change; until then the defaults below (the browser's language and zone, the system's theme)."""

    class Theme(models.TextChoices):
        AUTO = "auto", gettext_lazy("Follow the system")
        LIGHT = "light", gettext_lazy("Light")
        DARK = "dark", gettext_lazy("Dark")

    # Each language in its own name, as people look for it.
    LANGUAGES = [("", gettext_lazy("The browser's")), ("en", "English"), ("de", "Deutsch")]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(gettext_lazy("language"), max_length=8, blank=True, choices=LANGUAGES)
    # An IANA name (Europe/Berlin); "" for the browser's.
    time_zone = models.CharField(gettext_lazy("time zone"), max_length=64, blank=True, validators=[validate_time_zone])
    theme = models.CharField(gettext_lazy("theme"), max_length=8, choices=Theme.choices, default=Theme.AUTO)

    class Meta:
        verbose_name = gettext_lazy("preference")
        verbose_name_plural = gettext_lazy("preferences")

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

    def as_session(self) -> dict[str, str]:
        """What the session keeps so every page applies them without a query (middleware.py)."""
        return {"language": self.language, "time_zone": self.time_zone, "theme": self.theme}
