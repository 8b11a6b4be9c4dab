"""Plain words for how a restore failed: what happened, and what to do next.

The cloud's raw code and message stay on the restore; this adds a sentence a person can act
on. Codes from error_codes.rst, as the create-instance call answers them.
"""

from django.utils.translation import gettext_lazy as _

from backups.explanations import Explanation

_NETWORK = Explanation(
    _("The cloud did not accept the new instance's network settings."),
    _("Check the VPC, subnet and security group: they must be the project's own. Then restore again."),
)

EXPLANATIONS: dict[str, Explanation] = {
    "DBS.280123": Explanation(
        _(
            "The cloud refused the number of nodes: a restore needs at least as many nodes as the original "
            "instance (and 3 to 200)."
        ),
        _("Restore again with at least the original's number of nodes."),
    ),
    "DBS.280266": Explanation(
        _("The cloud refused the storage: a restore needs at least as much storage as the original instance."),
        _("Restore again with at least the original's storage."),
    ),
    "DBS.280242": Explanation(
        _("The storage is out of the range the cloud allows."), _("Restore again with less storage.")
    ),
    "DBS.280234": Explanation(
        _("The cloud refused the new instance's name."),
        _("Use 4 to 64 letters, digits, - and _, starting with a letter."),
    ),
    "DBS.280200": Explanation(
        _("The cloud refused the password: it contains a character it does not allow."),
        _("Restore again with a password of letters, digits and ~!@#%^*-_=+? only."),
    ),
    "DBS.280465": Explanation(
        _("The cloud refused the password as too weak."),
        _("Use 8 to 32 characters with upper- and lower-case letters, digits and a special character."),
    ),
    "DBS.280239": Explanation(
        _("The cloud does not offer the chosen specification."), _("Restore again with the original's specification.")
    ),
    "DBS.280241": Explanation(_("The cloud does not offer the chosen disk type."), _("Restore again with ULTRAHIGH.")),
    "DBS.200024": Explanation(
        _("The region is not available to the project."), _("Restore again in the original instance's region.")
    ),
    "DBS.280244": Explanation(
        _("The cloud refused the availability zones."), _("Restore again with the original instance's zones.")
    ),
    "DBS.280247": _NETWORK,
    "DBS.280248": _NETWORK,
    "DBS.280249": _NETWORK,
    "DBS.201214": Explanation(
        _("The backup no longer exists in the cloud."),
        _("Choose another backup; refresh the instance's backups first."),
    ),
    "DBS.280124": Explanation(
        _("The cloud cannot restore this backup: only a completed full backup can be restored."),
        _("Choose another completed backup."),
    ),
    "DBS.301024": Explanation(
        _("The cloud refused what to restore (the backup, or the instance and time)."),
        _("Check that the backup or instance still exists; a point in time works only for a Cluster instance."),
    ),
    "DBS.201215": Explanation(
        _("The chosen time is outside the window the instance can be restored to."),
        _("Choose a time inside the restorable window shown on the form."),
    ),
    "NAME_TAKEN": Explanation(
        _("An instance with this name already exists in the project, made outside this restore."),
        _("Restore again with another name: the console tells its instances apart by name."),
    ),
    "NO_SOURCE": Explanation(
        _("The source instance is no longer in the cloud, so its specification could not be copied."),
        _("Restore the backup to a new instance from the backup's page, choosing the specification yourself."),
    ),
    "CREATE_FAILED": Explanation(
        _("The cloud accepted the restore, but creating the new instance failed."),
        _(
            "Read the cloud's reason under Details. A failed instance may remain in the cloud console: delete it "
            "there, then restore again."
        ),
    ),
    "WORKER_LOST": Explanation(
        _("The worker stopped while it was sending the rehearsal, so it could not be timed."),
        _("Nothing to do: its temporary instance is deleted if it was made. Rehearse again."),
    ),
    "LOST": Explanation(
        _("The cloud stopped reporting on the new instance."),
        _("Look for the instance in the cloud console; the console keeps checking."),
    ),
    "UNREACHABLE": Explanation(
        _("The cloud could not be reached, several times in a row."),
        _("Check the network and the project's endpoints, then restore again."),
    ),
    "AUTH": Explanation(
        _("The cloud refused the project's IAM credentials."),
        _("A project admin should check the IAM user and password in the project settings."),
    ),
}

UNKNOWN_ERROR = Explanation(
    _("The cloud refused the restore."),
    _("Read the cloud's code and message under Details; contact support with the code if it is unclear."),
)


def explain(error_code: str) -> Explanation | None:
    """The plain-language explanation of a restore's stored error code; None when it has none."""
    if not error_code:
        return None
    explanation = EXPLANATIONS.get(error_code, UNKNOWN_ERROR)
    return Explanation(str(explanation.summary), str(explanation.next_step))
