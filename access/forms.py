"""Forms of the team, projects and audit pages."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from access.models import AuditEvent, CloudProject, Membership
from access.selectors.audit import AuditChoices, AuditFilters
from webapp.forms import DateRangeFilterForm, date_filter, with_any

ROLE_HELP = (
    "Viewer: instances and history. Operator: also creates backups. Admin: also manages the team and credentials."
)


def find_account(text: str):
    """The account whose username (or, failing that, unique email) is `text`, or a ValidationError."""
    text = text.strip()
    User = get_user_model()
    user = User.objects.filter(username=text).first() or User.objects.filter(username__iexact=text).first()
    if user is None and "@" in text:
        matches = list(User.objects.filter(email__iexact=text)[:2])
        if len(matches) > 1:
            raise ValidationError("Several accounts use this email address; enter the username instead.")
        user = matches[0] if matches else None
    if user is None:
        raise ValidationError(f"No account is called {text}. Create a new account for them below.")
    if not user.is_active:
        raise ValidationError(
            f"The account {user.get_username()} is deactivated; a site administrator can reactivate it."
        )
    return user


class MemberAddForm(forms.Form):
    """Give an existing account a role in the project."""

    person = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices, initial=Membership.Role.VIEWER)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "add-%s")  # two forms on one page: distinct ids
        super().__init__(*args, **kwargs)

    def clean_person(self):
        return find_account(self.cleaned_data["person"])


class AccountCreateForm(forms.Form):
    """A new account for someone, with an initial password they must change at first sign-in."""

    username = forms.CharField(label="Username", max_length=150, validators=[UnicodeUsernameValidator()])
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(label="Email", required=False)
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices, initial=Membership.Role.VIEWER)
    initial_password = forms.CharField(
        label="Initial password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Give it to them in person or by phone. They must choose their own when they first sign in.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "new-%s")
        super().__init__(*args, **kwargs)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(f"The username {username} is taken. To add that person, use the form above.")
        return username

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("initial_password")
        if password and "username" in cleaned:
            candidate = get_user_model()(
                username=cleaned["username"],
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as error:
                self.add_error("initial_password", error)
        return cleaned


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


def _password_field(label: str) -> forms.CharField:
    # Write-only: PasswordInput never renders a value, not even after a failed submit.
    return forms.CharField(label=label, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class ProjectConnectForm(forms.Form):
    """Where the project lives and as whom the console calls it; proven before it is saved."""

    name = forms.CharField(label="Project name", max_length=100, help_text="As in the cloud, e.g. eu-de_prod.")
    region = forms.CharField(label="Region", max_length=64, initial="eu-de")
    iam_endpoint = forms.URLField(label="IAM endpoint", max_length=200, assume_scheme="https")
    geminidb_endpoint = forms.URLField(label="GeminiDB endpoint", max_length=200, assume_scheme="https")
    project_id = forms.CharField(
        label="Project ID", max_length=64, help_text="My Credentials → Projects in the cloud console."
    )
    iam_domain = forms.CharField(label="IAM domain (account) name", max_length=128)
    iam_user = forms.CharField(label="IAM user name", max_length=128)
    password = _password_field("IAM password")
    admin = forms.CharField(
        label="First project admin",
        max_length=254,
        help_text="Username or email of an existing account. They manage the team from then on.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["iam_endpoint"].initial = settings.CLOUD_IAM_ENDPOINT
        self.fields["geminidb_endpoint"].initial = settings.CLOUD_GEMINIDB_ENDPOINT

    def clean_project_id(self):
        project_id = self.cleaned_data["project_id"].strip()
        existing = CloudProject.objects.filter(project_id=project_id).first()
        if existing:
            raise ValidationError(f"This project is already connected, as {existing.name}.")
        return project_id

    def clean_admin(self):
        return find_account(self.cleaned_data["admin"])


class ProjectCredentialsForm(forms.Form):
    """New IAM credentials for a connected project. The password is always asked for: the stored
    one is never shown, and never sent with a changed user name."""

    iam_domain = forms.CharField(label="IAM domain (account) name", max_length=128)
    iam_user = forms.CharField(label="IAM user name", max_length=128)
    password = _password_field("New IAM password")


class AuditFilterForm(DateRangeFilterForm):
    action = forms.ChoiceField(
        label="Action", required=False, choices=with_any("Any action", AuditEvent.Action.choices)
    )
    person = forms.TypedChoiceField(label="Person", required=False, coerce=int, empty_value=None)
    project = forms.TypedChoiceField(label="Project", required=False, coerce=int, empty_value=None)
    since = date_filter("From")
    until = date_filter("To")

    def __init__(self, *args, choices: AuditChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = with_any("Anyone", choices.people)
        self.fields["project"].choices = with_any("All projects", choices.projects)

    def filters(self) -> AuditFilters:
        return AuditFilters(
            action=self.value("action", ""),
            person=self.value("person"),
            project=self.value("project"),
            since=self.value("since"),
            until=self.value("until"),
        )
