"""Plain words for how a restore failed: what happened, and what to do next.

The cloud's raw code and message stay on the restore; this adds a sentence a person can act
on. Codes from error_codes.rst, as the create-instance call answers them.
"""

from backups.explanations import Explanation

_NETWORK = Explanation(
    "The cloud did not accept the new instance's network settings.",
    "Check the VPC, subnet and security group: they must be the project's own. Then restore again.",
)

EXPLANATIONS: dict[str, Explanation] = {
    "DBS.280123": Explanation(
        "The cloud refused the number of nodes: a restore needs at least as many nodes as the original "
        "instance (and 3 to 200).",
        "Restore again with at least the original's number of nodes.",
    ),
    "DBS.280266": Explanation(
        "The cloud refused the storage: a restore needs at least as much storage as the original instance.",
        "Restore again with at least the original's storage.",
    ),
    "DBS.280242": Explanation("The storage is out of the range the cloud allows.", "Restore again with less storage."),
    "DBS.280234": Explanation(
        "The cloud refused the new instance's name.",
        "Use 4 to 64 letters, digits, - and _, starting with a letter.",
    ),
    "DBS.280200": Explanation(
        "The cloud refused the password: it contains a character it does not allow.",
        "Restore again with a password of letters, digits and ~!@#%^*-_=+? only.",
    ),
    "DBS.280465": Explanation(
        "The cloud refused the password as too weak.",
        "Use 8 to 32 characters with upper- and lower-case letters, digits and a special character.",
    ),
    "DBS.280239": Explanation(
        "The cloud does not offer the chosen specification.", "Restore again with the original's specification."
    ),
    "DBS.280241": Explanation("The cloud does not offer the chosen disk type.", "Restore again with ULTRAHIGH."),
    "DBS.200024": Explanation(
        "The region is not available to the project.", "Restore again in the original instance's region."
    ),
    "DBS.280244": Explanation(
        "The cloud refused the availability zones.", "Restore again with the original instance's zones."
    ),
    "DBS.280247": _NETWORK,
    "DBS.280248": _NETWORK,
    "DBS.280249": _NETWORK,
    "DBS.201214": Explanation(
        "The backup no longer exists in the cloud.", "Choose another backup; refresh the instance's backups first."
    ),
    "DBS.280124": Explanation(
        "The cloud cannot restore this backup: only a completed full backup can be restored.",
        "Choose another completed backup.",
    ),
    "DBS.301024": Explanation(
        "The cloud refused what to restore (the backup, or the instance and time).",
        "Check that the backup or instance still exists; a point in time works only for a Cluster instance.",
    ),
    "DBS.201215": Explanation(
        "The chosen time is outside the window the instance can be restored to.",
        "Choose a time inside the restorable window shown on the form.",
    ),
    "NAME_TAKEN": Explanation(
        "An instance with this name already exists in the project, made outside this restore.",
        "Restore again with another name: the console tells its instances apart by name.",
    ),
    "NO_SOURCE": Explanation(
        "The source instance is no longer in the cloud, so its specification could not be copied.",
        "Restore the backup to a new instance from the backup's page, choosing the specification yourself.",
    ),
    "CREATE_FAILED": Explanation(
        "The cloud accepted the restore, but creating the new instance failed.",
        "Read the cloud's reason under Details. A failed instance may remain in the cloud console: delete it "
        "there, then restore again.",
    ),
    "WORKER_LOST": Explanation(
        "The worker stopped while it was sending the rehearsal, so it could not be timed.",
        "Nothing to do: its temporary instance is deleted if it was made. Rehearse again.",
    ),
    "LOST": Explanation(
        "The cloud stopped reporting on the new instance.",
        "Look for the instance in the cloud console; the console keeps checking.",
    ),
    "UNREACHABLE": Explanation(
        "The cloud could not be reached, several times in a row.",
        "Check the network and the project's endpoints, then restore again.",
    ),
    "AUTH": Explanation(
        "The cloud refused the project's IAM credentials.",
        "A project admin should check the IAM user and password in the project settings.",
    ),
}

UNKNOWN_ERROR = Explanation(
    "The cloud refused the restore.",
    "Read the cloud's code and message under Details; contact support with the code if it is unclear.",
)


def explain(error_code: str) -> Explanation | None:
    """The plain-language explanation of a restore's stored error code; None when it has none."""
    if not error_code:
        return None
    return EXPLANATIONS.get(error_code, UNKNOWN_ERROR)
