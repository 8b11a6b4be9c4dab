"""What the instance page shows about one instance's protection, and the counts per status
for the overview. The status itself is stored on the instance (services/protection.py), so
these read it; only a page in another language than the stored words works it out again."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone, translation

from access.permissions import Action, user_can
from access.selectors.projects import visible_project_list
from backups import protection
from backups.models import Backup, Instance
from backups.services.protection import instance_protection_assess, policy_of

Status = Backup.Status
Protection = Instance.Protection

RECENT_BACKUPS = 10
# "Expires soon": within this long, automated backups the retention will delete.
EXPIRING_WITHIN = timedelta(days=2)


@dataclass
class ExpiringBackup:
    backup: Backup
    expires_at: datetime


@dataclass
class InstancePage:
    instance: Instance
    policy: protection.Policy
    rpo_hours: int
    rpo_is_own: bool
    next_window: tuple[datetime, datetime] | None
    last_good: Backup | None
    expiring: list[ExpiringBackup]
    recent: list[Backup]
    can_manage: bool
    # The stored reason and next step, in the language of the page (see `_protection_words`).
    protection_reason: str
    protection_next_step: str

    @property
    def rpo_text(self) -> str:
        return protection.rpo_text(timedelta(hours=self.rpo_hours))


def instance_page(user, instance: Instance, now: datetime | None = None) -> InstancePage:
    """Three queries: the recent backups, the last good one, the automated ones that expire soon."""
    now = now or timezone.now()
    policy = policy_of(instance)
    backups = Backup.objects.filter(instance=instance).select_related("requested_by")
    recent = list(backups.order_by("-requested_at", "-id")[:RECENT_BACKUPS])
    good = backups.filter(status=Status.COMPLETED, deleted_in_cloud_at__isnull=True, finished_at__isnull=False)
    last_good = good.order_by("-finished_at", "-id").first()
    expiring = []
    if policy.enabled and policy.keep_days:  # enabled implies keep_days > 0: spelled out for mypy
        # Retention counts from the backup's end (protection.expires_at): these go within the window.
        start = now - timedelta(days=policy.keep_days)
        soon = good.filter(
            origin=Backup.Origin.CLOUD_AUTO, finished_at__gte=start, finished_at__lt=start + EXPIRING_WITHIN
        )
        expiring = [
            ExpiringBackup(b, b.finished_at + timedelta(days=policy.keep_days))
            for b in soon.order_by("finished_at")
            if b.finished_at  # always: `good` has finished_at__isnull=False
        ]
    return InstancePage(
        instance=instance,
        policy=policy,
        rpo_hours=instance.effective_rpo_hours,
        rpo_is_own=instance.rpo_hours is not None,
        next_window=protection.next_window(policy, now),
        last_good=last_good,
        expiring=expiring,
        recent=recent,
        can_manage=user_can(user, Action.MANAGE, instance.project_id),
        **_protection_words(instance, now),
    )


def _protection_words(instance: Instance, now: datetime) -> dict[str, str]:
    """The instance's protection reason and next step as the page's language says them.

    They are stored in the source language (the worker writes them, and notifications and the API
    send them on). A page in another language works the assessment out again in its own (two
    queries) and shows it when it agrees with the stored status; otherwise the stored words."""
    stored = {"protection_reason": instance.protection_reason, "protection_next_step": instance.protection_next_step}
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    if not instance.protection_status or instance.gone_at or language == settings.LANGUAGE_CODE.split("-")[0]:
        return stored
    fresh = instance_protection_assess(instance, now)
    if fresh.status != instance.protection_status:
        return stored
    return {"protection_reason": fresh.reason, "protection_next_step": fresh.next_step}


@dataclass
class ProtectionCounts:
    protected: int = 0
    at_risk: int = 0
    unprotected: int = 0
    not_assessed: int = 0

    @property
    def total(self) -> int:
        return self.protected + self.at_risk + self.unprotected + self.not_assessed


def protection_counts(user) -> ProtectionCounts:
    """How many of the user's live instances are in each status: one query."""
    rows = (
        Instance.objects.filter(project__in=[p.pk for p in visible_project_list(user)], gone_at__isnull=True)
        .order_by()
        .values_list("protection_status")
        .annotate(n=Count("pk"))
    )
    counts = ProtectionCounts()
    for status, n in rows:
        field = status if status in Protection.values else "not_assessed"
        setattr(counts, field, getattr(counts, field) + n)
    return counts
