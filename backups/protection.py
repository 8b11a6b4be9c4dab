"""Is an instance protected? The rules, in one pure module: facts in, a status with its reason
and next step out. No database, no clock: `services/protection.py` gathers the facts, stores
the answer on the instance and says so when it changes.

- **Unprotected**: no completed backup within the RPO.
- **At risk**: within the RPO, but the automated policy is off (or not read yet), the latest
  backup failed, the next automated backup is due only after the RPO runs out, or the backups
  that keep it within the RPO expire (completed + retention days) before the next one is due
  (when its window opens).
- **Protected**: otherwise.

The automated policy follows configuring_an_automated_backup_policy.rst: keep_days 0 is off,
the window is "hh:mm-HH:MM" in UTC (one hour, possibly across midnight) and the days are ISO
weekdays "1,…,7" (1 = Monday).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.utils.translation import gettext, gettext_lazy, ngettext

PROTECTED = "protected"
AT_RISK = "at_risk"
UNPROTECTED = "unprotected"

DAY_NAMES = {
    1: gettext_lazy("Monday"),
    2: gettext_lazy("Tuesday"),
    3: gettext_lazy("Wednesday"),
    4: gettext_lazy("Thursday"),
    5: gettext_lazy("Friday"),
    6: gettext_lazy("Saturday"),
    7: gettext_lazy("Sunday"),
}


@dataclass(frozen=True)
class Policy:
    """The automated backup policy as stored on the instance."""

    keep_days: int | None  # None: not read from the cloud yet; 0: off
    start_time: str = ""
    period: str = ""

    @property
    def known(self) -> bool:
        return self.keep_days is not None

    @property
    def enabled(self) -> bool:
        return bool(self.keep_days) and bool(self.window)

    @property
    def days(self) -> list[int]:
        return sorted({int(d) for d in self.period.replace(" ", "").split(",") if d.isdigit() and 1 <= int(d) <= 7})

    @property
    def window(self) -> tuple[time, time] | None:
        try:
            start, end = self.start_time.split("-")
            return time.fromisoformat(start), time.fromisoformat(end)
        except ValueError:
            return None

    def days_text(self) -> str:
        days = self.days
        if len(days) == 7:
            return gettext("every day")
        return ", ".join(str(DAY_NAMES[d]) for d in days) or gettext("no day")

    def describe(self) -> str:
        if not self.known:
            return gettext("not read from the cloud yet")
        if not self.enabled:
            return gettext("off")
        return gettext("%(days)s, %(window)s UTC, kept %(keep_days)d days") % {
            "days": self.days_text(),
            "window": self.start_time,
            "keep_days": self.keep_days,
        }


def windows(policy: Policy, after: datetime):
    """The automated backup windows (start, end) that end after `after`, in order (a week's worth)."""
    window = policy.window
    if not policy.enabled or window is None or not policy.days:
        return
    start_time, end_time = window
    base = after.astimezone(UTC).date() - timedelta(days=1)
    for offset in range(9):
        day = base + timedelta(days=offset)
        if day.isoweekday() not in policy.days:
            continue
        start = datetime.combine(day, start_time, tzinfo=UTC)
        end = datetime.combine(day, end_time, tzinfo=UTC)
        if end <= start:  # e.g. 23:00-00:00 ends the next day
            end += timedelta(days=1)
        if end > after:
            yield start, end


def next_window(policy: Policy, now: datetime) -> tuple[datetime, datetime] | None:
    """The current or next automated backup window, or None when the policy does not run."""
    return next(windows(policy, now), None)


def in_window(policy: Policy, at: datetime) -> bool:
    """Whether `at` falls inside an automated backup window of the policy."""
    window = next_window(policy, at)
    return window is not None and window[0] <= at < window[1]


@dataclass(frozen=True)
class GoodBackup:
    """A completed backup still in the cloud."""

    name: str
    finished_at: datetime
    automated: bool  # automated backups expire after the policy's retention; manual ones stay


@dataclass(frozen=True)
class Facts:
    now: datetime
    rpo: timedelta
    policy: Policy
    good: list[GoodBackup]  # completed backups still in the cloud, newest first (at least those within the RPO)
    latest_failed: str | None = None  # name of the latest ended backup, if it failed or was lost


@dataclass(frozen=True)
class Assessment:
    status: str
    reason: str
    next_step: str


def when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def rpo_text(rpo: timedelta) -> str:
    hours = int(rpo.total_seconds() // 3600)
    if hours % 24 == 0 and hours >= 48:
        return ngettext("%(count)d day", "%(count)d days", hours // 24) % {"count": hours // 24}
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def expires_at(backup: GoodBackup, policy: Policy) -> datetime | None:
    """When the cloud deletes the backup: automated ones after the retention, manual ones never."""
    if not backup.automated or not policy.keep_days:
        return None
    return backup.finished_at + timedelta(days=policy.keep_days)


def assess(facts: Facts) -> Assessment:
    """The instance's protection, with the reason and the next step in plain words."""
    now, rpo, policy = facts.now, facts.rpo, facts.policy
    # On the boundary (exactly one RPO old) the backup still counts.
    # An automated backup past its retention is gone even if the last sync still listed it.
    kept = [b for b in facts.good if (expires_at(b, policy) or now + rpo) > now]
    within = [b for b in kept if b.finished_at >= now - rpo]
    if not within:
        rpo_words = rpo_text(rpo)
        if kept:
            reason = gettext(
                "No completed backup in the last %(rpo)s (its RPO). The latest good backup is from %(when)s."
            ) % {"rpo": rpo_words, "when": when(kept[0].finished_at)}
        else:
            reason = gettext("No completed backup in the last %(rpo)s (its RPO). It has none.") % {"rpo": rpo_words}
        if policy.enabled:
            step = gettext("Create a backup now.")
        else:
            step = gettext("Create a backup now. Switch the automated backup policy on so that it stays protected.")
        return Assessment(UNPROTECTED, reason, step)
    newest = within[0]
    deadline = newest.finished_at + rpo
    if not policy.known:
        return Assessment(
            AT_RISK,
            gettext("The console has not read the instance's automated backup policy yet."),
            gettext("Refresh from the cloud; the policy is read with the instance list."),
        )
    if not policy.enabled:
        return Assessment(
            AT_RISK,
            gettext(
                "The automated backup policy is off: nothing backs the instance up after %(backup)s, "
                "and it leaves its RPO at %(deadline)s."
            )
            % {"backup": newest.name, "deadline": when(deadline)},
            gettext("An admin can switch the policy on on this page; until then, create backups by hand."),
        )
    if facts.latest_failed:
        return Assessment(
            AT_RISK,
            gettext("The latest backup, %(backup)s, did not complete.") % {"backup": facts.latest_failed},
            gettext("Open it for the cloud's reason; if the instance is healthy, create a backup now."),
        )
    # A backup is due when its window opens (the open one, if the instance is inside a window).
    window = next_window(policy, now)
    due = window[0] if window else None
    if due is None or due > deadline:
        if due is None:
            reason = gettext(
                "The next automated backup is due never, after the instance leaves its RPO at %(deadline)s."
            ) % {"deadline": when(deadline)}
        else:
            reason = gettext(
                "The next automated backup is due %(due)s, after the instance leaves its RPO at %(deadline)s."
            ) % {"due": when(due), "deadline": when(deadline)}
        return Assessment(
            AT_RISK, reason, gettext("Create a backup before then, or an admin can make the policy run more often.")
        )
    expiries = [expires_at(b, policy) for b in within]
    known = [expiry for expiry in expiries if expiry is not None]
    last_expiry = max(known) if len(known) == len(expiries) else None
    if last_expiry is not None and last_expiry < due:
        return Assessment(
            AT_RISK,
            gettext(
                "The backups that keep it within its RPO expire at %(expiry)s, before the next automated "
                "backup is due (%(due)s)."
            )
            % {"expiry": when(last_expiry), "due": when(due)},
            gettext("An admin can keep automated backups longer (retention days), or create a manual backup."),
        )
    return Assessment(
        PROTECTED,
        gettext(
            "%(backup)s completed %(when)s, within its RPO of %(rpo)s; "
            "the automated policy runs %(days)s at %(window)s UTC."
        )
        % {
            "backup": newest.name,
            "when": when(newest.finished_at),
            "rpo": rpo_text(rpo),
            "days": policy.days_text(),
            "window": policy.start_time,
        },
        gettext("Nothing to do."),
    )
