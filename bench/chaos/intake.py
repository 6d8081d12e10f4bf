"""An intake system's retry storm: 50 identical submissions with one Idempotency-Key, at once,
to the HTTP API served by uvicorn as `make run` serves it."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import httpx

from api.app import create_app, server_config
from bench.chaos.figures import Figure, exactly, shown
from bench.chaos.runs import Chaos
from bench.chaos.stack import INTAKE_KEY, ChaosStack, chaos_stack
from bench.chaos.waits import until
from bench.lifecycle import email_of
from dev.local_stack import StackServer

SUBMISSIONS = 50
BODY = {
    "type": "deletion",
    "channel": "web_form",
    "requester": {"email": email_of(0), "full_name": "Bench Person 0", "residence": "US-CA"},
}


async def intake_burst(chaos: Chaos) -> list[Figure]:
    """50 POST /v1/requests, one body, one Idempotency-Key, all in flight together."""
    async with chaos_stack(chaos.directory, people=1) as stack, serving_api(stack):
        headers = {
            "Authorization": f"Bearer {INTAKE_KEY}",
            "Idempotency-Key": f"chaos-{chaos.rng.randrange(10**9)}",
        }
        limits = httpx.Limits(max_connections=SUBMISSIONS)
        async with httpx.AsyncClient(
            base_url=stack.settings.public_base_url, limits=limits, timeout=60
        ) as http:
            answers = await asyncio.gather(
                *(http.post("/v1/requests", json=BODY, headers=headers) for _ in range(SUBMISSIONS))
            )
        chaos.damage_done.set()
        statuses = Counter(answer.status_code for answer in answers)
        bodies = {answer.text for answer in answers}
        ids = {answer.json().get("request_id") for answer in answers if answer.status_code == 202}
        # Once a run has sent its receipt, every start the burst made is visible.
        await until(
            lambda: any(stack.mail.delivered(rid, "receipt") for rid in ids), "a receipt", 60
        )
        runs = await stack.client.count_workflows('WorkflowType = "RightsRequestWorkflow"')
        receipts = sum(len(stack.mail.delivered(rid, "receipt")) for rid in ids)
        return [
            exactly("submissions", len(answers), SUBMISSIONS),
            exactly("answered 202", statuses[202], SUBMISSIONS),
            exactly("answered 5xx", sum(n for code, n in statuses.items() if code >= 500), 0),
            shown("answers by status", dict(sorted(statuses.items()))),
            exactly("different answer bodies", len(bodies), 1),
            exactly("request ids answered", len(ids), 1),
            exactly("runs started", runs.count, 1),
            exactly("receipt notices mailed", receipts, 1),
        ]


@contextlib.asynccontextmanager
async def serving_api(stack: ChaosStack) -> AsyncIterator[None]:
    """The HTTP API on the stack's API port, with the stack's client, until the block ends."""
    app = create_app(stack.settings, stack.client)
    server = StackServer(server_config(app, "127.0.0.1", stack.settings.api_port))
    serving = asyncio.create_task(server.serve())
    try:
        await until(lambda: server.started or serving.done(), "the API serving", 30)
        if serving.done():
            serving.result()
        yield
    finally:
        server.should_exit = True
        await serving
