"""jukinet/lockout.py: when repeated wrong codes lock a person, and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jukinet.config.models import ApprovalPolicy
from jukinet.lockout import locked_until

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
POLICY = ApprovalPolicy(max_failures=3, window_minutes=10, lockout_minutes=30)


def minutes(*values: float) -> list[datetime]:
    return [T0 + timedelta(minutes=v) for v in values]


def test_below_the_limit_nothing_is_locked() -> None:
    assert locked_until(minutes(0, 1), POLICY, T0 + timedelta(minutes=2)) is None


def test_the_limit_within_the_window_locks_from_the_last_failure() -> None:
    until = locked_until(minutes(0, 1, 2), POLICY, T0 + timedelta(minutes=3))
    assert until == T0 + timedelta(minutes=32)


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    assert locked_until(minutes(0, 6, 12), POLICY, T0 + timedelta(minutes=13)) is None


def test_the_lock_ends() -> None:
    assert locked_until(minutes(0, 1, 2), POLICY, T0 + timedelta(minutes=32, seconds=1)) is None


def test_counting_starts_again_after_a_lock() -> None:
    failures = minutes(0, 1, 2, 40, 41)
    assert locked_until(failures, POLICY, T0 + timedelta(minutes=42)) is None
    assert locked_until([*failures, *minutes(42)], POLICY, T0 + timedelta(minutes=43)) == (
        T0 + timedelta(minutes=72)
    )
