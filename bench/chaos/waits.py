"""Waiting on conditions, each with a bound, and trying a call again through an outage."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

T = TypeVar("T")


async def until(condition: Callable[[], bool], what: str, timeout: float) -> None:
    """Wait for `condition`, checking often, for at most `timeout` seconds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while not condition():
        if loop.time() > give_up:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.02)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float) -> None:
    """Wait for `check` to answer True, asking every few tenths of a second, for at most
    `timeout` seconds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while not await check():
        if loop.time() > give_up:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.3)


# What a client meets while the server is down or restarting, or a run's worker is (a call
# timing out), or while a run's workflow task is failing (its worker killed mid-task, or a task
# over the deadlock detector's 2 seconds on a busy machine: Updates are refused until one
# completes). Anything else is an answer.
UNAVAILABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.FAILED_PRECONDITION,
}


class ThroughOutages:
    """Try a call again while the server cannot answer it in time, as a requester clicks again
    on an error page, until `timeout` seconds from now."""

    def __init__(self, timeout: float) -> None:
        self._give_up = time.monotonic() + timeout
        # Calls that failed and were tried again: what the requesters saw of the damage.
        self.retried = 0

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        while True:
            try:
                return await call()
            except (
                RPCError,
                RPCTimeoutOrCancelledError,
                WorkflowUpdateRPCTimeoutOrCancelledError,
            ) as error:
                if isinstance(error, RPCError) and error.status not in UNAVAILABLE:
                    raise
                if time.monotonic() > self._give_up:
                    raise
            self.retried += 1
            await asyncio.sleep(0.5)


async def answering(client: Client, timeout: float) -> None:
    """Wait until the server answers `client` again, for at most `timeout` seconds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while True:
        with contextlib.suppress(RPCError):
            if await client.service_client.check_health(timeout=timedelta(seconds=2)):
                return
        if loop.time() > give_up:
            raise TimeoutError(f"the server did not answer within {timeout:.0f} s")
        await asyncio.sleep(0.1)
