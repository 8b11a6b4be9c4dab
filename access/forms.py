"""Forms of the team, projects and audit pages."""

from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models import AuditEvent, CloudProject, Invitation, Membership
from access.selectors.accounts import account_to_add, username_taken
from access.selectors.audit import AuditChoices, AuditFilters
from webapp.forms import DateRangeFilterForm, choice_field, date_filter, with_any
from webapp.outbound import BaseURLField

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ROLE_HELP = gettext_lazy(
    "Viewer: instances and history. Operator: also creates backups. Admin: also manages the team and credentials."
)


NO_ACCOUNT = gettext_lazy("No account can be added with that name.")
INVITE_HINT = gettext_lazy("To bring someone new in, invite them by email.")


def find_account(text: str, *, hint: "StrOrPromise" = ""):
    """The active account whose username is `text`, or whose proven email it is; otherwise a
    ValidationError that reads the same whatever the reason (no such account, a deactivated
    one, an address nobody proved), so that trying names tells nobody who has an account."""
    user = account_to_add(text)
    if user is None:
        raise ValidationError(f"{NO_ACCOUNT} {hint}".strip(), code="no_account")
    return user


class MemberAddForm(forms.Form):
    """Give an existing account a role in the project."""

    person = forms.CharField(
        label=gettext_lazy("Username or email"),
        max_length=254,
        help_text=gettext_lazy(
            "An email address finds an account only once its owner has proven it, by accepting an invitation."
        ),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=Membership.Role.choices, initial=Membership.Role.VIEWER
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "add-%s")  # two forms on one page: distinct ids
        super().__init__(*args, **kwargs)

    def clean_person(self):
        return find_account(self.cleaned_data["person"], hint=INVITE_HINT)


class InvitationForm(forms.Form):
    """Invite someone by email: they choose their own username and password from the link."""

    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("Optional, for the greeting."),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=Membership.Role.choices, initial=Membership.Role.VIEWER
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "invite-%s")
        super().__init__(*args, **kwargs)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class InvitationAcceptForm(SetPasswordMixin, forms.Form):
    """The invitee's own account: a username and a password nobody else has seen."""

    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=gettext_lazy("What you sign in with. Letters, digits and @ . + - _ only."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    password1, password2 = SetPasswordMixin.create_password_fields(label2=gettext_lazy("Password again"))

    def __init__(self, *args, invitation: Invitation, **kwargs):
        first, _space, last = invitation.name.partition(" ")
        kwargs.setdefault("initial", {"first_name": first, "last_name": last})
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean_username(self):
        username = self.cleaned_data["username"]
        if username_taken(username):
            raise ValidationError(
                _("The username %(username)s is taken. Choose another.") % {"username": username}, code="taken"
            )
        return username

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        candidate = get_user_model()(
            username=cleaned.get("username", ""),
            email=self.invitation.email,
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )
        self.validate_password_for_user(candidate)
        return cleaned


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Membership.Role.choices)


def _password_field(label: "StrOrPromise") -> forms.CharField:
    # Write-only: PasswordInput never renders a value, not even after a failed submit.
    return forms.CharField(label=label, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class ProjectConnectForm(forms.Form):
    """Where the project lives and as whom the console calls it; proven before it is saved."""

    name = forms.CharField(
        label=gettext_lazy("Project name"), max_length=100, help_text=gettext_lazy("As in the cloud, e.g. eu-de_prod.")
    )
    region = forms.CharField(label=gettext_lazy("Region"), max_length=64, initial="eu-de")
    # The console calls these with the IAM password and tokens: scheme and host only, public
    # addresses only (webapp/outbound.py), checked again at every call.
    iam_endpoint = BaseURLField(
        label=gettext_lazy("IAM endpoint"),
        help_text=gettext_lazy("Scheme and host only, e.g. https://iam.eu-de.otc.t-systems.com."),
    )
    geminidb_endpoint = BaseURLField(
        label=gettext_lazy("GeminiDB endpoint"),
        help_text=gettext_lazy("Scheme and host only, e.g. https://gaussdb-nosql.eu-de.otc.t-systems.com."),
    )
    project_id = forms.CharField(
        label=gettext_lazy("Project ID"),
        max_length=64,
        help_text=gettext_lazy("My Credentials → Projects in the cloud console."),
    )
    iam_domain = forms.CharField(label=gettext_lazy("IAM domain (account) name"), max_length=128)
    iam_user = forms.CharField(label=gettext_lazy("IAM user name"), max_length=128)
    password = _password_field(gettext_lazy("IAM password"))
    admin = forms.CharField(
        label=gettext_lazy("First project admin"),
        max_length=254,
        help_text=gettext_lazy("Username or email of an existing account. They manage the team from then on."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["iam_endpoint"].initial = settings.CLOUD_IAM_ENDPOINT
        self.fields["geminidb_endpoint"].initial = settings.CLOUD_GEMINIDB_ENDPOINT

    def clean_project_id(self):
        project_id = self.cleaned_data["project_id"].strip()
        existing = CloudProject.objects.filter(project_id=project_id).first()
        if existing:
            raise ValidationError(
                _("This project is already connected, as %(name)s.") % {"name": existing.name}, code="connected"
            )
        return project_id

    def clean_admin(self):
        return find_account(self.cleaned_data["admin"])


class ProjectCredentialsForm(forms.Form):
    """New IAM credentials for a connected project. The password is always asked for: the stored
    one is never shown, and never sent with a changed user name."""

    iam_domain = forms.CharField(label=gettext_lazy("IAM domain (account) name"), max_length=128)
    iam_user = forms.CharField(label=gettext_lazy("IAM user name"), max_length=128)
    password = _password_field(gettext_lazy("New IAM password"))


class AuditFilterForm(DateRangeFilterForm):
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    person = forms.TypedChoiceField(label=gettext_lazy("Person"), required=False, coerce=int, empty_value=None)
    project = forms.TypedChoiceField(label=gettext_lazy("Project"), required=False, coerce=int, empty_value=None)
    since = date_filter("From")
    until = date_filter("To")

    def __init__(self, *args, choices: AuditChoices, **kwargs):
        super().__init__(*args, **kwargs)
        # Here, not on the class: the labels in the language of the request.
        self.fields["since"].label, self.fields["until"].label = _("From"), _("To")
        choice_field(self, "action").choices = with_any(_("Any action"), AuditEvent.Action.choices)
        choice_field(self, "person").choices = with_any(_("Anyone"), choices.people)
        choice_field(self, "project").choices = with_any(_("All projects"), choices.projects)

    def filters(self) -> AuditFilters:
        return AuditFilters(
            action=self.value("action", ""),
            person=self.value("person"),
            project=self.value("project"),
            since=self.value("since"),
            until=self.value("until"),
        )
