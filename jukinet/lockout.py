"""Approval-code lockout: `max_failures` wrong codes within `window_minutes` stop that person's
answers for `lockout_minutes` (counted per person across incidents; the code is never kept).

    >>> locked_until([t0, t0 + 1min, …], policy, now)   # None, or the end of the lockout
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from jukinet.config.models import ApprovalPolicy


def lookback(policy: ApprovalPolicy) -> timedelta:
    """How far back failures can still matter for a lockout running now."""
    return timedelta(minutes=policy.window_minutes + policy.lockout_minutes)


def locked_until(
    failures: list[datetime], policy: ApprovalPolicy, now: datetime
) -> datetime | None:
    """The end of the lockout in force at `now`, from the failures in time order."""
    window = timedelta(minutes=policy.window_minutes)
    lockout = timedelta(minutes=policy.lockout_minutes)
    recent: deque[datetime] = deque()
    until: datetime | None = None
    for at in failures:
        if until is not None and at < until:
            continue  # not counted while locked (such answers are refused before the check)
        recent.append(at)
        while recent and at - recent[0] > window:
            recent.popleft()
        if len(recent) >= policy.max_failures:
            until = at + lockout
            recent.clear()
    return until if until is not None and until > now else None
