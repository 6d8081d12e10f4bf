"""A scenario's figures: each printed with what it must be, so a wrong one fails `make chaos`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from dev.sandbox.sendgrid_mail import Delivery


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    # What it must be ("" for a figure shown for context only), and whether it is.
    expected: str = ""
    ok: bool = True


def exactly(name: str, value: int, want: int) -> Figure:
    return Figure(name, str(value), f"= {want}", value == want)


def at_least(name: str, value: int, least: int) -> Figure:
    return Figure(name, str(value), f">= {least}", value >= least)


def shown(name: str, value: object) -> Figure:
    return Figure(name, str(value))


def table(title: str, figures: list[Figure], seconds: float) -> str:
    """The figures under the scenario's title: a verdict, the name, the value, its bound."""
    width = max(len(f.name) for f in figures)
    # Short values line up; a long one (a breakdown) runs on.
    value_width = max((len(f.value) for f in figures if len(f.value) <= 12), default=0)
    verdict = "passed" if all(f.ok for f in figures) else "FAILED"
    lines = [f"== {title}: {verdict} in {seconds:.0f} s"]
    for f in figures:
        check = "" if not f.expected else ("ok" if f.ok else "WRONG")
        bound = f"  ({f.expected})" if f.expected else ""
        lines.append(f"  {check:<5} {f.name:<{width}}  {f.value:>{value_width}}{bound}")
    return "\n".join(lines)


@dataclass(frozen=True)
class NoticeCount:
    """Notices as the mail backend received them, against what the requests should have had."""

    delivered: int
    missing: int
    # Mailed again: after a worker died between the send and its ledger line (the documented
    # window of `activities/notices.py`), or otherwise (a broken promise).
    twice_in_window: int
    twice_otherwise: int


def count_notices(
    deliveries: Iterable[Delivery],
    expected: Iterable[tuple[str, str]],
    ledger: Mapping[tuple[str, str], list[float]],
    *,
    kills: list[float],
) -> NoticeCount:
    """Each (request, kind) is one notice in these lifecycles, so a second delivery of it is the
    notice mailed twice. A repeat is in the window when a worker was killed between the earlier
    delivery and it, and the ledger had no line for the notice before that kill."""
    by_notice: dict[tuple[str, str], list[float]] = {}
    for delivery in deliveries:
        by_notice.setdefault((delivery.request_id, delivery.kind), []).append(delivery.accepted_at)
    in_window = otherwise = 0
    for notice, times in by_notice.items():
        recorded = min(ledger.get(notice, []), default=float("inf"))
        for earlier, later in pairwise(times):
            if any(earlier < kill < later and kill < recorded for kill in kills):
                in_window += 1
            else:
                otherwise += 1
    return NoticeCount(
        delivered=sum(len(times) for times in by_notice.values()),
        missing=sum(1 for notice in set(expected) if notice not in by_notice),
        twice_in_window=in_window,
        twice_otherwise=otherwise,
    )


def notice_figures(count: NoticeCount, expected: int, *, crashed: bool) -> list[Figure]:
    """Every notice delivered, none twice; where a worker died, the repeats its send-then-crash
    window allows are shown apart."""
    delivered = exactly("notices delivered (of those due)", expected - count.missing, expected)
    if not crashed:
        return [delivered, exactly("notices mailed twice", count.twice_otherwise, 0)]
    return [
        delivered,
        exactly(
            "notices mailed twice, outside the send-then-crash window", count.twice_otherwise, 0
        ),
        shown("notices mailed twice inside that window", count.twice_in_window),
    ]


def deletion_figures(deletions: Mapping[str, Counter[str]], people: Iterable[str]) -> list[Figure]:
    """Per provider: every person deleted, and nobody's data deleted twice."""
    wanted = list(people)
    figures = []
    for provider, counts in sorted(deletions.items()):
        deleted = sum(1 for person in wanted if counts[person] >= 1)
        twice = sum(1 for person in wanted if counts[person] > 1)
        figures.append(exactly(f"{provider}: people whose data was deleted", deleted, len(wanted)))
        figures.append(exactly(f"{provider}: people deleted twice", twice, 0))
    return figures
