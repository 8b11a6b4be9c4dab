from typing import cast

from django import forms
from django.utils.translation import gettext, gettext_lazy

from .models import Preference
from .validators import BAD_ZONE
from .zones import grouped_zones, is_zone


class PreferenceForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        error_messages={"invalid_choice": BAD_ZONE},
        help_text=gettext_lazy("Times are shown in this zone; the exact UTC time shows on hover and focus."),
    )

    class Meta:
        model = Preference
        fields = ["language", "time_zone", "theme"]
        labels = {"language": gettext_lazy("Language"), "theme": gettext_lazy("Theme")}
        widgets = {"theme": forms.RadioSelect}

    def __init__(self, *args, browser_zone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        browsers = (
            gettext("The browser's (now %(zone)s)") % {"zone": browser_zone}
            if browser_zone
            else gettext("The browser's (UTC until it tells us)")
        )
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = [("", browsers), *grouped_zones()]

    def clean_time_zone(self) -> str:
        # Zones outside the select (old aliases) are still zones: the choice check above
        # refused anything else already; this keeps the one rule of validators.py.
        value = self.cleaned_data["time_zone"]
        if value and not is_zone(value):
            raise forms.ValidationError(BAD_ZONE, code="invalid_choice", params={"value": value})
        return value
