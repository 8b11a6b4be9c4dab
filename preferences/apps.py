from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PreferencesConfig(AppConfig):
    name = "preferences"
    verbose_name = gettext_lazy("Preferences")

    def ready(self):
        from . import signals  # noqa: F401 - connects the sign-in receiver
