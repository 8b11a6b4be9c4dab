"""Forms of the restore pages. The restore form gathers the new instance's name, password and
specification; what the create-instance API accepts (creating_an_instance.rst) is said by
`restores.validators`, which the services enforce too, so the messages at the fields are the
server's own."""

from functools import partial

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from restores import validators

NAME_HELP = gettext_lazy("4 to 64 characters: letters, digits, - and _, starting with a letter.")
PASSWORD_HELP = gettext_lazy("8 to 32 characters: upper- and lower-case letters, digits and one of ~!@#%^*-_=+?")
# The specification's text fields, and how a missing one is named (as the services name them).


def _text(label, help_text="", **attrs) -> forms.CharField:
    # Not required here: the validators say what is missing, in the API's words.
    widget = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", **attrs})
    return forms.CharField(label=label, required=False, help_text=help_text, widget=widget)


class RestoreForm(forms.Form):
    """A restore of a backup (``backup``) or of ``source`` to a point in time (``point_in_time``)
    to a new instance. ``spec`` is the source instance as the cloud lists it (its flavor,
    network and placement), or None when the cloud could not be asked: then nothing is prefilled,
    and the least nodes and storage are the cloud's to check."""

    target_name = _text(gettext_lazy("New instance name"), NAME_HELP)
    password = forms.CharField(
        label=gettext_lazy("Database password"),
        required=False,
        strip=False,
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=gettext_lazy("Password again"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    # Typed in the viewer's zone (preferences/middleware.py activates it), as every time is shown:
    # Django's DateTimeField reads a time without a zone in the current one.
    restore_time = forms.DateTimeField(
        label=gettext_lazy("Restore to"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
    )
    spec_code = _text(
        gettext_lazy("Specification code"),
        gettext_lazy("The nodes' vCPUs and memory, e.g. geminidb.cassandra.xlarge.4."),
    )
    storage_type = _text(gettext_lazy("Disk type"), gettext_lazy("ULTRAHIGH: SSD disks."))
    node_count = forms.IntegerField(label=gettext_lazy("Nodes"), required=False)
    volume_size_gb = forms.IntegerField(label=gettext_lazy("Storage (GB)"), required=False)
    region = _text(gettext_lazy("Region"))
    availability_zone = _text(gettext_lazy("Availability zone"), gettext_lazy("Several AZs separated by commas."))
    vpc_id = _text(gettext_lazy("VPC ID"))
    subnet_id = _text(gettext_lazy("Subnet ID"))
    security_group_id = _text(gettext_lazy("Security group ID"))
    confirm = _text(gettext_lazy("Type the new instance's name to confirm"))

    def __init__(self, *args, source, spec=None, backup=None, point_in_time: bool = False, periods=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.source, self.spec, self.backup = source, spec, backup
        self.point_in_time = point_in_time
        # The restorable window (list of (start, end)), or None when it is not known (the cloud
        # could not be asked): then the time is the cloud's to refuse.
        self.periods = periods
        if not point_in_time:
            del self.fields["restore_time"]
        else:
            self.fields["restore_time"].help_text = _("In your time zone, %(zone)s, inside the window above.") % {
                "zone": timezone.get_current_timezone_name()
            }
        least_nodes = getattr(spec, "node_count", None)
        least_storage = getattr(spec, "volume_size_gb", None)
        self.fields["node_count"].widget.attrs.update(
            {"min": max(validators.NODES_MIN, least_nodes or 0), "max": validators.NODES_MAX}
        )
        limits = {"least": least_nodes, "min": validators.NODES_MIN, "max": validators.NODES_MAX, "source": source.name}
        self.fields["node_count"].help_text = (
            _("At least %(least)d, as %(source)s has; at most %(max)d.") % limits
            if least_nodes
            else _("%(min)d to %(max)d, at least as many as %(source)s has.") % limits
        )
        if least_storage:
            self.fields["volume_size_gb"].widget.attrs["min"] = least_storage
        self.fields["volume_size_gb"].help_text = (
            _("At least %(least)d GB, as %(source)s has.") % {"least": least_storage, "source": source.name}
            if least_storage
            else _("At least as much as %(source)s has.") % {"source": source.name}
        )

    @property
    def mode_text(self) -> str:
        return getattr(self.spec, "mode", "") or self.source.mode or validators.MODE

    @property
    def cost_text(self) -> str:
        nodes = self.data.get("node_count") if self.is_bound else self.initial.get("node_count")
        storage = self.data.get("volume_size_gb") if self.is_bound else self.initial.get("volume_size_gb")
        where = self.source.project.name
        if nodes and storage:
            return _(
                "The cloud creates a new instance with %(nodes)s nodes and %(storage)s GB of storage in %(project)s."
            ) % {"nodes": nodes, "storage": storage, "project": where}
        return _("The cloud creates a new instance in %(project)s.") % {"project": where}

    def clean(self):
        cleaned = super().clean()
        checks = {
            "target_name": lambda: validators.validate_instance_name(cleaned["target_name"]),
            "password": lambda: validators.validate_instance_password(cleaned["password"]),
            "node_count": lambda: validators.validate_node_count(cleaned["node_count"], self.spec),
            "volume_size_gb": lambda: validators.validate_volume_size(cleaned["volume_size_gb"], self.spec),
        }
        for name, label in validators.REQUIRED_TEXT.items():
            checks[name] = partial(lambda name, label: validators.validate_required(cleaned[name], label), name, label)
        if self.point_in_time:
            checks["restore_time"] = lambda: validators.validate_restore_time(cleaned["restore_time"], self.periods)
        for field, check in checks.items():
            if field in self.errors:
                continue  # its own field said what is wrong (not a number, say)
            try:
                check()
            except ValidationError as error:
                self.add_error(field, error)
        if "password" not in self.errors and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        name = cleaned.get("target_name", "")
        if "target_name" not in self.errors and cleaned.get("confirm", "").strip() != name:
            self.add_error(
                "confirm",
                _("Type %(name)s exactly, to confirm that a new billable instance is created.") % {"name": name},
            )
        return cleaned

    def target_spec(self) -> dict:
        """The new instance's specification, as the restore services take it."""
        names = (
            *("spec_code", "storage_type", "node_count", "volume_size_gb"),
            *("region", "availability_zone", "vpc_id", "subnet_id", "security_group_id"),
        )
        return {name: self.cleaned_data[name] for name in names} | {"mode": self.mode_text}


class RehearsalScheduleForm(forms.Form):
    """Rehearse an instance's latest backup every N days (0 or unticked: no schedule)."""

    enabled = forms.BooleanField(label=gettext_lazy("Rehearse on a schedule"), required=False)
    every_days = forms.IntegerField(
        label=gettext_lazy("Every (days)"), required=False, help_text=gettext_lazy("1 to 365; 30 is monthly.")
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("enabled"):
            try:
                validators.validate_rehearsal_interval(cleaned.get("every_days"))
            except ValidationError as error:
                self.add_error("every_days", error)
        return cleaned
