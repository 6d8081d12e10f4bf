"""Deletions driven through their lifecycle while a scenario breaks things, and how each ended."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.chaos.figures import Figure, exactly, shown
from bench.lifecycle import DELETION_NOTICES, Requesters, bounded
from rights.models import OutcomeStatus, RequestState, RequestStatus
from rights.terms import RequestType


@dataclass
class Chaos:
    """What a scenario is given: a folder of its own, its random choices, and an event it sets
    once its damage is done, so the next scenario may start while this one's requests recover
    (a killed worker's calls wait out their timeouts: minutes of waiting, not of work)."""

    directory: Path
    rng: random.Random
    damage_done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class Ended:
    """How one person's deletion ended: its final state, or why it had none in time."""

    index: int
    state: RequestState | None
    seconds: float
    # The failure's type and message: ids and statuses only, never a person.
    error: str = ""

    @property
    def completed(self) -> bool:
        """Completed, with no provider handed to an operator."""
        return (
            self.state is not None
            and self.state.status is RequestStatus.COMPLETED
            and all(o.status is not OutcomeStatus.ESCALATED for o in self.state.provider_outcomes)
        )


# A provider call lost with its worker or server is tried again after its 5-minute start-to-close
# timeout; two minutes more for the run to finish.
RECOVERY_SECONDS = 420
# Longer than any scenario: how long the requesters wait for a notice; `Deletions.settle` bounds.
NO_BOUND_SECONDS = 3600


class Deletions:
    """`count` deletions filed at once, each answered as its notices arrive, running until
    `settle` has them all or gives up on those left."""

    def __init__(self, requesters: Requesters, count: int, phase: str) -> None:
        self._count = count
        self._started = time.monotonic()
        self._ended: dict[int, Ended] = {}
        self._task = asyncio.create_task(
            bounded(count, count, lambda index: self._one(requesters, index), phase)
        )

    async def _one(self, requesters: Requesters, index: int) -> None:
        try:
            answered = await requesters.answer_links(index, RequestType.DELETION)
            state = await requesters.completion(answered.request_id, NO_BOUND_SECONDS)
        except Exception as error:  # any failure is a request not completed: counted, shown
            state, reason = None, f"{type(error).__name__}: {error}"
        else:
            reason = ""
        self._ended[index] = Ended(index, state, time.monotonic() - self._started, reason)

    def done(self) -> bool:
        return self._task.done()

    async def settle(self, timeout: float = RECOVERY_SECONDS) -> list[Ended]:
        """Every request as it ended, waiting at most `timeout` seconds more for those still
        running, which then count as not completed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        running = time.monotonic() - self._started
        unfinished = f"still running {timeout:.0f} s after the damage ended"
        return [
            self._ended.get(index) or Ended(index, None, running, unfinished)
            for index in range(self._count)
        ]


def expected_notices(requesters: Requesters) -> list[tuple[str, str]]:
    """Every notice a submitted deletion's requester should have had, as (request id, kind)."""
    return [(rid, kind) for rid in requesters.submitted.values() for kind in DELETION_NOTICES]


def lifecycle_figures(ended: list[Ended]) -> list[Figure]:
    """Completed and lost, the slowest, and the first few reasons a request was lost."""
    lost = [e for e in ended if not e.completed]
    figures = [
        exactly("requests completed", len(ended) - len(lost), len(ended)),
        exactly("requests lost (not completed)", len(lost), 0),
        shown("slowest request, filing to completion", f"{max(e.seconds for e in ended):.1f} s"),
    ]
    for example in lost[:3]:
        reason = example.error or (example.state.status.value if example.state else "?")
        figures.append(shown(f"  lost: person {example.index}", reason[:90]))
    return figures
