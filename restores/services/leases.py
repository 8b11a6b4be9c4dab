"""The leases a worker holds on a restore while it sends something to the cloud: the create
(`claim`, `claimed_at`, status submitting) and a rehearsal's delete (`delete_claim`,
`delete_claimed_at`, clean-up deleting). backups/services/leases.py explains the idea; the
lease's length is the backups' (BACKUP_SUBMIT_LEASE_SECONDS), so one setting paces both.

Every write the claiming worker makes is conditional on its claim id, so a worker that stalled
past its lease and was taken over writes nothing when it wakes. Lease times are the database's
(`Now()`), so hosts' clocks need not agree.
"""

import uuid

from django.db.models import Q
from django.db.models.functions import Now

from backups.services.leases import submit_lease
from webapp.leases import Heartbeat

from ..models import Restore

Status = Restore.Status
Cleanup = Restore.Cleanup


def submit_lapsed() -> Q:
    """Restores being submitted by a worker that has not renewed its lease for a whole lease."""
    return Q(status=Status.SUBMITTING, claimed_at__lt=Now() - submit_lease())


def delete_lapsed() -> Q:
    """Clean-ups whose worker died between claiming the delete and hearing the cloud's answer."""
    return Q(cleanup_status=Cleanup.DELETING, delete_job_id="", delete_claimed_at__lt=Now() - submit_lease())


def submit_heartbeat(*, restore_id: int, claim: uuid.UUID) -> Heartbeat:
    """Renews the submit claim's lease while the `with` block runs (webapp/leases.py)."""
    held = Restore.objects.filter(pk=restore_id, status=Status.SUBMITTING, claim=claim)
    return Heartbeat(
        held, field="claimed_at", lease_seconds=submit_lease().total_seconds(), name=f"restore {restore_id} submit"
    )


def delete_heartbeat(*, restore_id: int, claim: uuid.UUID) -> Heartbeat:
    """Renews the delete claim's lease while the `with` block runs (webapp/leases.py)."""
    held = Restore.objects.filter(pk=restore_id, cleanup_status=Cleanup.DELETING, delete_claim=claim)
    return Heartbeat(
        held,
        field="delete_claimed_at",
        lease_seconds=submit_lease().total_seconds(),
        name=f"rehearsal {restore_id} delete",
    )
