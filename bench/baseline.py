"""The bare-Temporal baseline: a deletion's shape with nothing inside.

Eight activity calls, the same timers (a deadline watch beside the lifecycle, two bounded waits
for the requester) and two Updates, on the same server and worker settings as the real
workflow. Our throughput divided by this one's is the overhead of our design.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

STEPS = ("receipt", "verification", "match", "reconfirmation", "plan", "fulfil", "completed")


@activity.defn(name="baseline_step")
async def baseline_step(step: str) -> str:
    return step


@workflow.defn
class BaselineWorkflow:
    def __init__(self) -> None:
        self._answers = 0
        self._done = False

    @workflow.run
    async def run(self) -> int:
        watch = asyncio.create_task(self._watch())
        await self._step("receipt")
        await self._step("verification")
        await workflow.wait_condition(lambda: self._answers >= 1, timeout=timedelta(days=7))
        await self._step("match")
        await self._step("reconfirmation")
        await workflow.wait_condition(lambda: self._answers >= 2, timeout=timedelta(days=7))
        for step in ("plan", "fulfil", "completed", "record"):
            await self._step(step)
        self._done = True
        await watch
        return self._answers

    async def _watch(self) -> None:
        try:
            await workflow.wait_condition(lambda: self._done, timeout=timedelta(days=40))
        except TimeoutError:
            return

    async def _step(self, step: str) -> None:
        await workflow.execute_activity(
            baseline_step, step, start_to_close_timeout=timedelta(seconds=30)
        )

    @workflow.update
    def answer(self, value: int) -> int:
        self._answers += 1
        return self._answers


async def main() -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from rights.settings import load_settings

    settings = load_settings()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[BaselineWorkflow],
        activities=[baseline_step],
        max_cached_workflows=settings.workflow_cache_size,
        max_concurrent_activities=settings.activity_concurrency,
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
