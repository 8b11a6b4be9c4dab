"""The form of the API tokens page. It only gathers what was typed and chosen: what makes a
token request right is `validate_token_request`, the service's, so the page says what
`manage.py create_api_token` says."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.selectors.projects import role_label, visible_project_list
from api.models import ApiToken
from api.services.tokens import NAME_MAX_LENGTH, validate_token_request

ROLE_CHOICES = [
    (ApiToken.Role.VIEWER.value, gettext_lazy("Viewer: read only")),
    (ApiToken.Role.OPERATOR.value, gettext_lazy("Operator: can create backups")),
]
NO_EXPIRY = "never"
EXPIRY_CHOICES = [
    ("30", gettext_lazy("30 days")),
    ("90", gettext_lazy("90 days")),
    ("365", gettext_lazy("1 year")),
    (NO_EXPIRY, gettext_lazy("No expiry")),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        required=False,
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("Where it is used, e.g. “nightly deploy pipeline”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        required=False,
        choices=ROLE_CHOICES,
        initial=ApiToken.Role.VIEWER,
        widget=forms.RadioSelect,
    )
    projects = forms.MultipleChoiceField(
        label=gettext_lazy("Projects"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Never more than your own role there, today or later: a token follows its owner's role."
        ),
    )
    expires_in_days = forms.ChoiceField(label=gettext_lazy("Expires after"), choices=EXPIRY_CHOICES, initial="90")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # The page's header loaded these already (visible_project_list is cached per request).
        self.visible = {str(project.pk): project for project in visible_project_list(user)}
        self.fields["projects"].choices = [
            (pk, _("%(project)s · you are %(role)s") % {"project": project.name, "role": role_label(user, project)})
            for pk, project in self.visible.items()
        ]

    def clean(self):
        data = super().clean()
        data["projects"] = [self.visible[pk] for pk in data.get("projects", [])]
        expiry = data.get("expires_in_days")
        data["expires_in_days"] = None if expiry in (None, NO_EXPIRY) else int(expiry)
        try:
            validate_token_request(
                user=self.user,
                name=data.get("name", ""),
                role=data.get("role", ""),
                projects=data["projects"],
                expires_in_days=data["expires_in_days"],
            )
        except ValidationError as error:
            for field, errors in error.error_dict.items():
                if field not in self.errors:  # a field's own error (a tampered choice) is enough
                    self.add_error(field, errors)
        return data
