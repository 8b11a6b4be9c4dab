"""Forms of the console's pages. The backup form checks nothing of its own: it asks
`rules.validate_backup_request`, the function the service enforces, so the messages at
the field are the server's messages."""

from html import escape

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from . import rules
from .audit import AuditChoices, AuditFilters
from .models import AuditEvent, Backup, CloudProject, Instance, Membership
from .selectors import HistoryChoices, HistoryFilters

NAME_HELP = "4 to 64 characters: letters, digits, - and _, starting with a letter. Unique on this instance."
DESCRIPTION_HELP = "Required by the cloud. Up to 256 characters, without > ! < \" & ' =."


class BackupRequestForm(forms.Form):
    # No max_length or required here: the validators say it, in the API's words. The
    # template renders the inputs itself, with the htmx attributes of the field check.
    name = forms.CharField(label="Backup name", required=False, help_text=NAME_HELP)
    description = forms.CharField(label="Description", required=False, help_text=DESCRIPTION_HELP)

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


class _FilterForm(forms.Form):
    """A GET form whose invalid fields are ignored rather than fatal: a stale link still works.
    The search box is rendered by the template, with its own htmx trigger."""

    def value(self, name, default=None):
        if not self.is_bound or name in self.errors:
            return default
        return self.cleaned_data.get(name) or default


class _DateRangeFilterForm(_FilterForm):
    """A filter form with a `since`/`until` date range that must not run backwards."""

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return cleaned


def _date_filter(label: str) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


class _Options(BaseChoiceIterator):
    """Flat (value, label) pairs of plain strings, which Django then takes as they are instead
    of normalising every option again for the field and for its widget."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def __iter__(self):
        return iter(self.pairs)


def _with_any(label: str, choices) -> _Options:
    return _Options([("", label), *((str(value), str(text)) for value, text in choices)])


class FilterSelect(forms.Select):
    """A <select> of flat, plain-text options (`_with_any`), joined in Python: Django's Select
    renders every option through a template, about 10 µs apiece, and the history's instance
    filter has a thousand of them on every page."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = "".join(
            f'<option value="{escape(key)}"{" selected" if key in chosen else ""}>{escape(label)}</option>'
            for key, label in self.choices
        )
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attrs, mark_safe(options))  # noqa: S308 - escaped above


class InstanceFilterForm(_FilterForm):
    q = forms.CharField(label="Search instances", required=False, max_length=128)
    project = forms.TypedChoiceField(label="Project", required=False, coerce=int, empty_value=None, widget=FilterSelect)
    status = forms.ChoiceField(label="Status", required=False, widget=FilterSelect)
    # Not rendered as a field: the pager's links carry it, and changing a filter starts again at 1.
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, projects: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = _with_any("All projects", projects)
        statuses = [*rules.INSTANCE_STATUS_LABELS.items(), ("gone", "Gone from the cloud")]
        self.fields["status"].choices = _with_any("Any status", statuses)


class HistoryFilterForm(_DateRangeFilterForm):
    q = forms.CharField(label="Backup name", required=False, max_length=64)
    project = forms.TypedChoiceField(label="Project", required=False, coerce=int, empty_value=None, widget=FilterSelect)
    instance = forms.TypedChoiceField(
        label="Instance", required=False, coerce=int, empty_value=None, widget=FilterSelect
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=_with_any("Any status", Backup.Status.choices), widget=FilterSelect
    )
    person = forms.ChoiceField(label="Requested by", required=False, widget=FilterSelect)
    since = _date_filter("From")
    until = _date_filter("To")

    def __init__(self, *args, choices: HistoryChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = _with_any("All projects", choices.projects)
        self.fields["instance"].choices = _with_any("All instances", choices.instances)
        self.fields["person"].choices = _with_any("Anyone", choices.people)

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


# --- team and projects ---------------------------------------------------------------

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


class AuditFilterForm(_DateRangeFilterForm):
    action = forms.ChoiceField(
        label="Action", required=False, choices=_with_any("Any action", AuditEvent.Action.choices)
    )
    person = forms.TypedChoiceField(label="Person", required=False, coerce=int, empty_value=None)
    project = forms.TypedChoiceField(label="Project", required=False, coerce=int, empty_value=None)
    since = _date_filter("From")
    until = _date_filter("To")

    def __init__(self, *args, choices: AuditChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = _with_any("Anyone", choices.people)
        self.fields["project"].choices = _with_any("All projects", choices.projects)

    def filters(self) -> AuditFilters:
        return AuditFilters(
            action=self.value("action", ""),
            person=self.value("person"),
            project=self.value("project"),
            since=self.value("since"),
            until=self.value("until"),
        )
