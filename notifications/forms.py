"""Forms of the channels and personal notification pages. The address field is write-only:
it is never filled in from the stored channel (`render_value=False`), and left empty on the
edit page it keeps the address the channel has."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.events import EventKind
from notifications.messages import active_language
from notifications.models import Channel
from notifications.services.channels import REMINDER_HOURS_LIMIT
from notifications.validators import check_channel_target

# Good news is opt-in: a new channel hears about what needs someone.
GOOD_NEWS = {EventKind.BACKUP_COMPLETED, EventKind.RESTORE_COMPLETED, EventKind.REHEARSAL_PASSED}
DEFAULT_EVENTS = [kind for kind in EventKind.values if kind not in GOOD_NEWS]
TARGET_HELP = gettext_lazy(
    "An email address, or the https:// URL the service gave you (Slack, Teams and Mattermost: their "
    "incoming webhook). It is stored encrypted and never shown again: only its host."
)


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Channel.Kind.choices, initial=Channel.Kind.WEBHOOK)
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=80, help_text=gettext_lazy("For you, e.g. #db-alerts or On-call.")
    )
    target = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=2000,
        help_text=TARGET_HELP,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=EventKind.choices,
        initial=DEFAULT_EVENTS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    reminder_hours = forms.IntegerField(
        label=gettext_lazy("Remind every (hours)"),
        min_value=0,
        max_value=REMINDER_HOURS_LIMIT,
        initial=0,
        help_text=gettext_lazy("While an instance stays at risk or unprotected. 0: no reminders."),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=gettext_lazy("The language of this channel's messages."),
    )
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)

    def __init__(self, *args, channel: Channel | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        # Whoever sets the channel up reads the team's language, most likely.
        self.fields["language"].initial = active_language()
        if channel is not None:
            del self.fields["kind"]
            self.fields["target"].required = False
            self.fields["target"].help_text = _(
                "Now: %(display)s. Leave empty to keep it; it is never shown again."
            ) % {"display": channel.display}
            self.initial.update(
                name=channel.name,
                events=channel.events,
                reminder_hours=channel.reminder_hours,
                enabled=channel.enabled,
                language=channel.language,
            )
        else:
            del self.fields["enabled"]

    def clean_language(self):
        # Left out (a script posting the form): the channel's language, or the person's.
        return self.cleaned_data["language"] or (self.channel.language if self.channel else active_language())

    def clean(self):
        data = super().clean()
        kind = self.channel.kind if self.channel else data.get("kind")
        if data.get("target") and kind:
            try:
                data["target"] = check_channel_target(kind, data["target"])
            except ValidationError as error:
                self.add_error("target", error)
        return data


class SubscriptionForm(forms.Form):
    backup_outcomes = forms.BooleanField(
        label=gettext_lazy("Email me when a backup I requested completes or fails"),
        required=False,
    )
