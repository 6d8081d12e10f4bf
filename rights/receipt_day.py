"""The calendar day a request arrived on, in the business's own time zone.

Deadlines count from the business's receipt day: a request sent at 9 pm in Minneapolis arrives
on that day, although it is already the next day in UTC. Workflows call this with the time
zone fixed into the run's policy (runs started before 0.4.0 carry UTC, the day they used).
`ZoneInfo` reads the time zone database once and caches it, which Temporal's sandbox allows.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def receipt_day(at: datetime, timezone: str) -> date:
    """The date `at` falls on in `timezone` (an IANA name such as America/Chicago)."""
    if at.tzinfo is None:
        raise ValueError("the receipt time must carry its time zone")
    return at.astimezone(ZoneInfo(timezone)).date()


def known_timezone(name: str) -> str:
    """`name` if it is an IANA time zone; a ValueError that says so otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not an IANA time zone name such as America/Chicago") from None
    return name
