"""The privacy team's alert ladder: when the deadline watch alerts, and when it should have.

The deadline watch (workflows/deadline_watch.py) waits for `next_rung`; the daily overdue sweep
(activities/overdue_sweep.py) asks `latest_rung` when the watch should last have alerted, to
find requests whose watch did not (a stalled run, a worker outage, a run older than the ladder).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rights.search_attributes import start_of

DAY = timedelta(days=1)


def next_rung(due: date, ladder: tuple[int, ...], *, after: datetime) -> datetime:
    """The privacy team's next alert after `after`: a ladder day before `due`, else daily once
    it has passed."""
    deadline = start_of(due)
    for rung in sorted(deadline - timedelta(days=days) for days in ladder):
        if rung > after:
            return rung
    overdue = max(after, deadline)
    return deadline + DAY * ((overdue - deadline) // DAY + 1)


def latest_rung(due: date, ladder: tuple[int, ...], *, now: datetime) -> datetime | None:
    """The last alert the ladder called for at or before `now`; None if none was due yet."""
    deadline = start_of(due)
    if now >= deadline + DAY:
        return deadline + DAY * ((now - deadline) // DAY)
    passed = [rung for rung in (deadline - timedelta(days=d) for d in ladder) if rung <= now]
    return max(passed, default=None)
