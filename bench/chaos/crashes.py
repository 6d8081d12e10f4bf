"""Processes dying mid-run: the worker, SIGKILLed again and again; the Temporal server, killed and
started again on its SQLite file.

An activity whose worker dies, or whose task the server handed out as it died, is tried again
once its start-to-close timeout passes (a notice's minute, a provider call's five: no activity
heartbeats), so a request counts as lost only after seven minutes.
"""

from __future__ import annotations

import asyncio
import time

from bench.chaos.evidence import retried_activities
from bench.chaos.figures import (
    Figure,
    count_notices,
    deletion_figures,
    exactly,
    notice_figures,
    shown,
)
from bench.chaos.runs import (
    NO_BOUND_SECONDS,
    RECOVERY_SECONDS,
    Chaos,
    Deletions,
    expected_notices,
    lifecycle_figures,
)
from bench.chaos.stack import ChaosStack, chaos_stack
from bench.chaos.waits import ThroughOutages, answering, until

WORKER_KILL_REQUESTS = 200
WORKER_KILLS = 5
SERVER_RESTART_REQUESTS = 100


async def worker_kills(chaos: Chaos) -> list[Figure]:
    """200 deletions while the worker is SIGKILLed at random moments, and started again."""
    async with chaos_stack(chaos.directory, people=WORKER_KILL_REQUESTS) as stack:
        # A requester whose click fails while the run's worker is down clicks again.
        clicks = ThroughOutages(NO_BOUND_SECONDS)
        requesters = stack.requesters(clicks, NO_BOUND_SECONDS)
        running = Deletions(requesters, WORKER_KILL_REQUESTS, "worker kills")
        for _ in range(WORKER_KILLS):
            # A random moment: 2 to 8 seconds after the worker last started.
            await asyncio.sleep(chaos.rng.uniform(2, 8))
            if running.done():
                break
            stack.kills.append(stack.workers.kill(stack.workers.running[0]))
            await stack.workers.start()
        chaos.damage_done.set()
        ended = await running.settle()
        expected = expected_notices(requesters)
        notices = count_notices(stack.mail.deliveries, expected, stack.ledger(), kills=stack.kills)
        return [
            exactly("requests filed", len(requesters.submitted), WORKER_KILL_REQUESTS),
            exactly("worker SIGKILLs while requests were open", len(stack.kills), WORKER_KILLS),
            *lifecycle_figures(ended),
            shown("requesters' calls that failed and were made again", clicks.retried),
            shown(
                "activities run again",
                await retried_activities(stack.client, requesters.submitted.values()),
            ),
            *deletion_figures(stack.deletions(), stack.accounts),
            *notice_figures(notices, len(expected), crashed=True),
        ]


async def server_restart(chaos: Chaos) -> list[Figure]:
    """100 deletions while the dev server is SIGKILLed, left down a while, and started again on
    its SQLite file; requesters and the worker meet the outage as errors and try again."""
    async with chaos_stack(chaos.directory, people=SERVER_RESTART_REQUESTS) as stack:
        assert stack.server is not None
        clicks = ThroughOutages(NO_BOUND_SECONDS)
        requesters = stack.requesters(clicks, NO_BOUND_SECONDS)
        running = Deletions(requesters, SERVER_RESTART_REQUESTS, "server restart")
        # Mid-run: once a random fifth to three fifths of the requests have completed.
        completed_first = chaos.rng.randint(
            SERVER_RESTART_REQUESTS // 5, SERVER_RESTART_REQUESTS * 3 // 5
        )
        await until(
            lambda: completions(stack) >= completed_first, "requests completing", RECOVERY_SECONDS
        )
        completed_before = completions(stack)
        stopped = time.monotonic()
        stack.server.kill()
        # Down a random 5 to 15 seconds: pollers, activity completions and requesters all fail.
        await asyncio.sleep(chaos.rng.uniform(5, 15))
        stack.server.start()
        await answering(stack.client, timeout=60)
        downtime = time.monotonic() - stopped
        chaos.damage_done.set()
        ended = await running.settle()
        expected = expected_notices(requesters)
        notices = count_notices(stack.mail.deliveries, expected, stack.ledger(), kills=[])
        return [
            exactly("requests filed", len(requesters.submitted), SERVER_RESTART_REQUESTS),
            shown("requests completed before the kill", completed_before),
            shown("server down (SIGKILL to answering again)", f"{downtime:.1f} s"),
            exactly("worker processes that exited", len(stack.workers.exited()), 0),
            *lifecycle_figures(ended),
            shown("requesters' calls that failed and were made again", clicks.retried),
            shown(
                "activities run again",
                await retried_activities(stack.client, requesters.submitted.values()),
            ),
            *deletion_figures(stack.deletions(), stack.accounts),
            *notice_figures(notices, len(expected), crashed=False),
        ]


def completions(stack: ChaosStack) -> int:
    """Completion notices accepted so far."""
    return sum(1 for delivery in stack.mail.deliveries if delivery.kind == "completed")
