"""The protection rules (backups/protection.py), table-driven: facts in, status out."""

from datetime import UTC, datetime, timedelta

import pytest

from backups.protection import (
    AT_RISK,
    PROTECTED,
    UNPROTECTED,
    Facts,
    GoodBackup,
    Policy,
    assess,
    in_window,
    next_window,
)

# A Wednesday, 10:00 UTC.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
DAILY = Policy(7, "01:00-02:00", "1,2,3,4,5,6,7")
OFF = Policy(0)
UNREAD = Policy(None)
H = timedelta(hours=1)


def auto(hours_ago: float, name="auto") -> GoodBackup:
    return GoodBackup(name, NOW - timedelta(hours=hours_ago), automated=True)


def manual(hours_ago: float, name="manual") -> GoodBackup:
    return GoodBackup(name, NOW - timedelta(hours=hours_ago), automated=False)


CASES = [
    # (what, policy, rpo hours, good backups newest first, latest failed, expected status)
    ("daily policy, backup of last night", DAILY, 24, [auto(8.7)], None, PROTECTED),
    ("never backed up", DAILY, 24, [], None, UNPROTECTED),
    ("latest good backup older than the RPO", DAILY, 24, [auto(30)], None, UNPROTECTED),
    ("exactly one RPO old still counts", DAILY, 24, [manual(24)], None, AT_RISK),
    (
        "one second past the RPO does not",
        DAILY,
        24,
        [GoodBackup("m", NOW - 24 * H - timedelta(seconds=1), False)],
        None,
        UNPROTECTED,
    ),
    ("within the RPO but the policy is off", OFF, 24, [manual(2)], None, AT_RISK),
    ("within the RPO, policy not read yet", UNREAD, 24, [manual(2)], None, AT_RISK),
    ("outside the RPO and the policy off", OFF, 24, [manual(48)], None, UNPROTECTED),
    ("latest backup failed", DAILY, 24, [auto(8.7)], "nightly-9", AT_RISK),
    # Weekly on Mondays: the next window (Monday 01:00) is after the RPO of 72 h runs out.
    ("next window after the RPO runs out", Policy(7, "01:00-02:00", "1"), 72, [auto(57)], None, AT_RISK),
    # Weekly on Mondays with a week's RPO: last Monday's backup is kept for 7 days, so it
    # expires Monday 01:20, after the window opens (01:00): covered.
    ("weekly, kept a week, covered", Policy(7, "01:00-02:00", "1"), 24 * 7, [auto(56.7)], None, PROTECTED),
    # Wednesdays only, kept 7 days, RPO 14 days: last Thursday's backup is within the RPO until
    # after next Wednesday's window, but the cloud deletes it on Thursday, six days before.
    ("expires before the next window", Policy(7, "01:00-02:00", "3"), 24 * 14, [auto(24 * 6 + 8.7)], None, AT_RISK),
    ("manual backups do not expire", Policy(7, "01:00-02:00", "3"), 24 * 14, [manual(24 * 6 + 8.7)], None, PROTECTED),
    (
        "an expired automated backup no longer counts",
        Policy(1, "01:00-02:00", "1,2,3,4,5,6,7"),
        72,
        [auto(40)],
        None,
        UNPROTECTED,
    ),
]


@pytest.mark.parametrize(("what", "policy", "rpo", "good", "failed", "status"), CASES, ids=[c[0] for c in CASES])
def test_status(what, policy, rpo, good, failed, status):
    result = assess(Facts(now=NOW, rpo=timedelta(hours=rpo), policy=policy, good=good, latest_failed=failed))
    assert result.status == status, result.reason
    assert result.reason
    assert result.next_step


def test_reasons_say_why_in_plain_words():
    off = assess(Facts(now=NOW, rpo=24 * H, policy=OFF, good=[manual(2, "before-upgrade")]))
    assert "policy is off" in off.reason
    assert "before-upgrade" in off.reason
    assert "2026-12-03 08:00 UTC" in off.reason  # when it leaves its RPO
    never = assess(Facts(now=NOW, rpo=24 * H, policy=DAILY, good=[]))
    assert never.reason == "No completed backup in the last 24 hours (its RPO). It has none."
    assert never.next_step == "Create a backup now."
    failed = assess(Facts(now=NOW, rpo=24 * H, policy=DAILY, good=[auto(8.7)], latest_failed="nightly-9"))
    assert "nightly-9" in failed.reason
    ok = assess(Facts(now=NOW, rpo=48 * H, policy=DAILY, good=[auto(8.7, "auto-1")]))
    assert ok.reason.startswith("auto-1 completed 2026-12-02 01:18 UTC, within its RPO of 2 days")
    assert ok.next_step == "Nothing to do."


def test_expiry_before_the_next_window_names_both_times():
    result = assess(Facts(now=NOW, rpo=24 * 14 * H, policy=Policy(7, "01:00-02:00", "3"), good=[auto(24 * 6 + 8.7)]))
    assert result.status == AT_RISK
    assert "expire at 2026-12-03 01:18 UTC" in result.reason
    assert "(2026-12-09 01:00 UTC)" in result.reason


@pytest.mark.parametrize(
    ("policy", "at", "expected"),
    [
        (DAILY, NOW, (datetime(2026, 12, 3, 1, tzinfo=UTC), datetime(2026, 12, 3, 2, tzinfo=UTC))),
        # Inside today's window: that window is the next one.
        (DAILY, NOW.replace(hour=1, minute=30), (NOW.replace(hour=1, minute=0), NOW.replace(hour=2, minute=0))),
        # At the window's end it is over.
        (
            DAILY,
            NOW.replace(hour=2, minute=0),
            (datetime(2026, 12, 3, 1, tzinfo=UTC), datetime(2026, 12, 3, 2, tzinfo=UTC)),
        ),
        # Mondays only, from a Wednesday.
        (
            Policy(7, "01:00-02:00", "1"),
            NOW,
            (datetime(2026, 12, 7, 1, tzinfo=UTC), datetime(2026, 12, 7, 2, tzinfo=UTC)),
        ),
        # Across midnight: Tuesday's 23:30 window ends on Wednesday, and is open at 00:10.
        (
            Policy(7, "23:30-00:30", "2"),
            NOW.replace(hour=0, minute=10),
            (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), datetime(2026, 12, 2, 0, 30, tzinfo=UTC)),
        ),
        (OFF, NOW, None),
        (UNREAD, NOW, None),
    ],
)
def test_next_window(policy, at, expected):
    assert next_window(policy, at) == expected


def test_in_window():
    assert in_window(DAILY, NOW.replace(hour=1, minute=0))
    assert in_window(DAILY, NOW.replace(hour=1, minute=59))
    assert not in_window(DAILY, NOW.replace(hour=2, minute=0))
    assert not in_window(OFF, NOW.replace(hour=1, minute=30))


def test_policy_in_words():
    assert DAILY.describe() == "every day, 01:00-02:00 UTC, kept 7 days"
    assert Policy(10, "19:00-20:00", "1,2,4,5,6").days_text() == "Monday, Tuesday, Thursday, Friday, Saturday"
    assert OFF.describe() == "off"
    assert UNREAD.describe() == "not read from the cloud yet"
    assert not Policy(7, "garbage", "1").enabled
