"""Forms of the backups' pages. The backup form checks nothing of its own: it asks
`rules.validate_backup_request`, the function the service enforces, so the messages at
the field are the server's messages."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from webapp.forms import DateRangeFilterForm, FilterForm, FilterSelect, choice_field, date_filter, with_any

from . import rules
from .models import Backup, Instance
from .protection import DAY_NAMES
from .selectors.history import HistoryChoices, HistoryFilters
from .services.policies import validate_rpo_hours
from .validators import validate_backup_policy

NAME_HELP = _("4 to 64 characters: letters, digits, - and _, starting with a letter. Unique on this instance.")
DESCRIPTION_HELP = _("Required by the cloud. Up to 256 characters, without > ! < \" & ' =.")


class BackupRequestForm(forms.Form):
    # No max_length or required here: the validators say it, in the API's words. The
    # template renders the inputs itself, with the htmx attributes of the field check.
    name = forms.CharField(label=_("Backup name"), required=False, help_text=NAME_HELP)
    description = forms.CharField(label=_("Description"), required=False, help_text=DESCRIPTION_HELP)

    def __init__(self, *args, instance: Instance, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean(self):
        cleaned = super().clean()
        try:
            rules.validate_backup_request(
                instance=self.instance, name=cleaned.get("name", ""), description=cleaned.get("description", "")
            )
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


class InstanceFilterForm(FilterForm):
    q = forms.CharField(label=_("Search instances"), required=False, max_length=128)
    project = forms.TypedChoiceField(
        label=_("Project"), required=False, coerce=int, empty_value=None, widget=FilterSelect
    )
    status = forms.ChoiceField(label=_("Status"), required=False, widget=FilterSelect)
    protection = forms.ChoiceField(label=_("Protection"), required=False, widget=FilterSelect)
    # Not rendered as a field: the pager's links carry it, and changing a filter starts again at 1.
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, projects: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request, in the active language (`with_any` makes the labels plain strings).
        choice_field(self, "project").choices = with_any(gettext("All projects"), projects)
        statuses = [*rules.INSTANCE_STATUS_LABELS.items(), ("gone", gettext("Gone from the cloud"))]
        choice_field(self, "status").choices = with_any(gettext("Any status"), statuses)
        choice_field(self, "protection").choices = with_any(gettext("Any protection"), Instance.Protection.choices)


class HistoryFilterForm(DateRangeFilterForm):
    q = forms.CharField(label=_("Backup name"), required=False, max_length=64)
    project = forms.TypedChoiceField(
        label=_("Project"), required=False, coerce=int, empty_value=None, widget=FilterSelect
    )
    instance = forms.TypedChoiceField(
        label=_("Instance"), required=False, coerce=int, empty_value=None, widget=FilterSelect
    )
    status = forms.ChoiceField(label=_("Status"), required=False, widget=FilterSelect)
    person = forms.ChoiceField(label=_("Requested by"), required=False, widget=FilterSelect)
    since = date_filter(_("From"))
    until = date_filter(_("To"))

    def __init__(self, *args, choices: HistoryChoices, options_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "project").choices = with_any(gettext("All projects"), choices.projects)
        choice_field(self, "instance").choices = with_any(gettext("All instances"), choices.instances)
        choice_field(self, "status").choices = with_any(gettext("Any status"), Backup.Status.choices)
        if options_url:
            # The page carries only the chosen instance; the rest (a thousand in a big team)
            # arrive in the select's own request once the page is shown, so the page does not
            # wait for them. hx-push-url: the form's own requests change the address, not this one.
            self.fields["instance"].widget.attrs.update(
                {
                    "hx-get": options_url,
                    "hx-trigger": "load",
                    "hx-target": "this",
                    "hx-swap": "innerHTML",
                    "hx-push-url": "false",
                    "hx-indicator": "this",
                }
            )
        choice_field(self, "person").choices = with_any(gettext("Anyone"), choices.people)

    def filters(self) -> HistoryFilters:
        """The valid filters; an invalid one is shown at its field and otherwise ignored."""
        return HistoryFilters(
            project=self.value("project"),
            instance=self.value("instance"),
            status=self.value("status", ""),
            person=self.value("person", ""),
            since=self.value("since"),
            until=self.value("until"),
            search=self.value("q", "").strip(),
        )


# The windows the API accepts: one hour, starting on the quarter hour (configuring_an_automated_backup_policy.rst).
WINDOW_CHOICES = [
    (f"{h:02d}:{m:02d}-{(h + 1) % 24:02d}:{m:02d}", f"{h:02d}:{m:02d}\N{EN DASH}{(h + 1) % 24:02d}:{m:02d} UTC")
    for h in range(24)
    for m in (0, 15, 30, 45)
]


class BackupPolicyForm(forms.Form):
    """The automated backup policy. The form only gathers the fields; `validate_backup_policy`,
    which the service calls too, says what the API accepts."""

    keep_days = forms.IntegerField(
        label=_("Keep automated backups for (days)"), help_text=_("0 switches automated backups off; 1 to 35 days.")
    )
    start_time = forms.ChoiceField(label=_("Backup window"), required=False, choices=[("", "—"), *WINDOW_CHOICES])
    period = forms.MultipleChoiceField(
        label=_("On these days"),
        required=False,
        choices=[(str(day), name) for day, name in DAY_NAMES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every day when backups are kept for fewer than 7 days."),
    )
    # Switching automated backups off is asked twice: the second post carries this.
    confirm_off = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, instance: Instance, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        cleaned["period"] = ",".join(sorted(cleaned.get("period") or []))
        try:
            validate_backup_policy(cleaned["keep_days"], cleaned.get("start_time", ""), cleaned["period"])
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned

    @property
    def needs_confirmation(self) -> bool:
        """Whether this valid post switches automated backups off without having been confirmed."""
        return self.cleaned_data["keep_days"] == 0 and not self.cleaned_data.get("confirm_off")


class RpoForm(forms.Form):
    rpo_hours = forms.IntegerField(label=_("RPO (hours)"), required=False)

    def __init__(self, *args, optional: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.optional = optional
        if optional:
            self.fields["rpo_hours"].help_text = _("Empty: the project's RPO.")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                validate_rpo_hours(cleaned.get("rpo_hours"), optional=self.optional)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned
