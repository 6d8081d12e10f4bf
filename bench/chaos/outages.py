"""Dependencies down for a while: a provider for six hours, the mail backend for half a minute.

Six hours is the time-skipping test server's: its clock jumps from one retry timer to the next
while the Stripe sandbox really answers each attempt with 503, so the retry policy's whole
backoff (2 s doubling to 10 minutes) and the provider's one-day give-up are what is tested, not a
compressed copy of them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from functools import partial

from temporalio.client import WorkflowExecutionStatus

from bench.chaos.evidence import activity_runs
from bench.chaos.figures import (
    Figure,
    at_least,
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
    Ended,
    expected_notices,
    lifecycle_figures,
)
from bench.chaos.stack import ChaosStack, chaos_stack
from bench.chaos.waits import eventually, until
from bench.lifecycle import bounded, once
from client import rights_requests
from rights.activity_inputs import ActivityName
from rights.models import RequestStatus
from rights.registry import provider_task_queue
from rights.terms import RequestType
from workflows.effects import PROVIDER_RETRY

PROVIDER_OUTAGE_REQUESTS = 10
PROVIDER_OUTAGE = timedelta(hours=6)
MAIL_OUTAGE_REQUESTS = 50


async def provider_outage(chaos: Chaos) -> list[Figure]:
    """Stripe answers 503 to everything for six hours of server time, then comes back."""
    async with chaos_stack(
        chaos.directory, people=PROVIDER_OUTAGE_REQUESTS, time_skipping=True
    ) as stack:
        assert stack.time_skipping is not None
        stripe = stack.sandboxes["stripe"]
        stripe.reject(503)
        requesters = stack.requesters(once, RECOVERY_SECONDS)
        answered = await bounded(
            PROVIDER_OUTAGE_REQUESTS,
            PROVIDER_OUTAGE_REQUESTS,
            lambda index: requesters.answer_links(index, RequestType.DELETION),
            "links, Stripe down",
        )
        request_ids = [a.request_id for a in answered]
        await eventually(
            lambda: all_retrying(stack, request_ids), "every Stripe deletion failing", 120
        )
        skipped_from = await stack.time_skipping.get_current_time()
        await stack.time_skipping.sleep(PROVIDER_OUTAGE)
        skipped = await stack.time_skipping.get_current_time() - skipped_from
        during = [await rights_requests.request_status(stack.client, rid) for rid in request_ids]
        waiting = sum(
            1 for s in during if s.status is RequestStatus.FULFILLING and not s.open_tasks
        )
        refused = stripe.calls_to("GET", "/v1/customers")
        stripe.clear()
        chaos.damage_done.set()
        # Back: its next attempt is at most the retry policy's longest interval away.
        await stack.time_skipping.sleep(PROVIDER_RETRY.maximum_interval or PROVIDER_OUTAGE)
        ended = []
        for index, filed in enumerate(answered):
            rid = filed.request_id
            await eventually(partial(closed, stack, rid), "the run's end", RECOVERY_SECONDS)
            state = await rights_requests.request_status(stack.client, rid)
            ended.append(Ended(index, state, time.time() - filed.submitted_at))
        stripe_queue = provider_task_queue(stack.settings.task_queue, "stripe")
        attempts = [
            run.attempts
            for rid in request_ids
            for run in await activity_runs(stack.client, rid)
            if run.activity == ActivityName.FULFIL_AT_PROVIDER and run.task_queue == stripe_queue
        ]
        expected = expected_notices(requesters)
        notices = count_notices(stack.mail.deliveries, expected, stack.ledger(), kills=[])
        return [
            exactly("requests filed", len(request_ids), PROVIDER_OUTAGE_REQUESTS),
            Figure(
                "server time passed with Stripe answering 503",
                f"{skipped / timedelta(hours=1):.2f} h",
                f">= {PROVIDER_OUTAGE / timedelta(hours=1):.0f} h",
                skipped >= PROVIDER_OUTAGE,
            ),
            shown("Stripe calls answered 503", refused),
            exactly(
                "requests still fulfilling after it, none escalated", waiting, len(request_ids)
            ),
            *lifecycle_figures(ended),
            exactly("Stripe deletions that completed", len(attempts), len(request_ids)),
            at_least("attempts of each Stripe deletion, fewest", min(attempts, default=0), 2),
            shown("attempts of each Stripe deletion, most", max(attempts, default=0)),
            *deletion_figures(stack.deletions(), stack.accounts),
            *notice_figures(notices, len(expected), crashed=False),
        ]


async def closed(stack: ChaosStack, request_id: str) -> bool:
    """Whether the run has ended (the test server's result long poll can end without it)."""
    handle = stack.client.get_workflow_handle(rights_requests.workflow_id(request_id))
    return (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING


async def all_retrying(stack: ChaosStack, request_ids: list[str]) -> bool:
    """Whether every request's provider deletion has failed once and waits to be tried again."""
    for rid in request_ids:
        handle = stack.client.get_workflow_handle(rights_requests.workflow_id(rid))
        pending = (await handle.describe()).raw_description.pending_activities
        if not any(
            p.activity_type.name == ActivityName.FULFIL_AT_PROVIDER and p.attempt >= 2
            for p in pending
        ):
            return False
    return True


async def mail_outage(chaos: Chaos) -> list[Figure]:
    """50 deletions while the SendGrid sandbox answers 503 to every send for 20 to 40 seconds."""
    async with chaos_stack(chaos.directory, people=MAIL_OUTAGE_REQUESTS) as stack:
        mail = stack.mail
        requesters = stack.requesters(once, NO_BOUND_SECONDS)
        running = Deletions(requesters, MAIL_OUTAGE_REQUESTS, "mail down")
        # Down once a random tenth to half of the notices have gone out.
        total = MAIL_OUTAGE_REQUESTS * 4
        sent_first = chaos.rng.randint(total // 10, total // 2)
        await until(lambda: len(mail.deliveries) >= sent_first, "notices going out", 120)
        mail.reject(503)
        sent_before = len(mail.deliveries)
        calls_before = mail.calls_to("POST", "/v3/mail/send")
        outage = chaos.rng.uniform(20, 40)
        await asyncio.sleep(outage)
        refused = mail.calls_to("POST", "/v3/mail/send") - calls_before
        mail.clear()
        chaos.damage_done.set()
        ended = await running.settle()
        retried = 0
        for rid in requesters.submitted.values():
            runs = await activity_runs(stack.client, rid)
            retried += sum(
                1 for r in runs if r.activity == ActivityName.SEND_NOTICE and r.attempts > 1
            )
        expected = expected_notices(requesters)
        notices = count_notices(mail.deliveries, expected, stack.ledger(), kills=[])
        return [
            exactly("requests filed", len(requesters.submitted), MAIL_OUTAGE_REQUESTS),
            shown("notices sent before the outage", sent_before),
            shown("mail backend answering 503", f"{outage:.0f} s"),
            at_least("sends refused with 503", refused, 1),
            at_least("notices sent on a later attempt", retried, 1),
            *lifecycle_figures(ended),
            *notice_figures(notices, len(expected), crashed=False),
        ]
