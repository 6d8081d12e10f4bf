"""Fulfilment: every provider in the registry that serves this action, in parallel.

Each provider ends done, not_found, retained (with its legal basis) or, when automation
cannot finish it, as an operator task the run waits on while the other providers carry on.
A provider's failure never fails the request. A provider that answers with a job is polled on
a durable timer (no worker slot held while it works) or, for a webhook in callback mode,
waited for until its signed callback arrives; a job that outlives `job_timeout` goes to an
operator too.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any, Protocol

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from rights.activity_inputs import (
    FulfilAtProviderInput,
    NoticeFacts,
    PlanProvidersInput,
    PollProviderJobInput,
    ProviderHandling,
    ProviderRef,
)
from rights.models import (
    NoticeKind,
    ProviderJob,
    ProviderJobReport,
    ProviderOutcome,
    ProviderTask,
    ProviderTaskDone,
    Recipient,
    Retention,
    RightsRequest,
    TaskReason,
)
from rights.plans import ProviderAction
from workflows import effects
from workflows.case_file import CaseFile
from workflows.notifier import Notifier


class Waiter(Protocol):
    def __call__(
        self,
        condition: Callable[[], bool],
        *,
        until: datetime | None = None,
        summary: str | None = None,
    ) -> Awaitable[bool]: ...


class JobNotFinished(Exception):
    """A provider's job outlived the registry's `job_timeout_days`, or its system said it failed."""


class Fulfilment:
    def __init__(
        self,
        request: RightsRequest,
        action: ProviderAction,
        case_file: CaseFile,
        notifier: Notifier,
        wait_for: Waiter,
    ) -> None:
        self._request = request
        self._action = action
        self._case_file = case_file
        self._notifier = notifier
        self._wait_for = wait_for
        self._results: dict[str, ProviderTaskDone] = {}
        # Callback providers whose fulfilment is under way: the only ones a callback may reach.
        self._working: set[str] = set()
        self._account_id: str | None = None
        self._specific_pieces = False
        self._awaiting: dict[str, ProviderJob] = {}
        self._reports: dict[str, ProviderJobReport] = {}

    async def run(self, *, specific_pieces: bool = False) -> list[ProviderOutcome]:
        """Every provider's outcome; for access, `specific_pieces` or only their categories."""
        self._specific_pieces = specific_pieces
        plan = await effects.plan_providers(
            PlanProvidersInput(action=self._action, request=self._request)
        )
        self._account_id = plan.account_id
        return await self._gather(self._fulfil_at(ref) for ref in plan.providers)

    async def by_hand(self, providers: list[ProviderRef], detail: str) -> list[ProviderOutcome]:
        """Hand these providers' part to the privacy team (after a granted appeal, say)."""
        for provider in providers:
            self._results.pop(provider.name, None)
        return await self._gather(
            self._operator_task(provider, TaskReason.MANUAL_PROVIDER, detail)
            for provider in providers
        )

    async def _gather(
        self, work: Iterable[Coroutine[Any, Any, ProviderOutcome]]
    ) -> list[ProviderOutcome]:
        results = await asyncio.gather(*work, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [result for result in results if isinstance(result, ProviderOutcome)]

    def task_done(self, done: ProviderTaskDone) -> None:
        """An operator closed a provider's task."""
        self._results[done.provider] = done

    def awaits_callback(self, provider: str, job_id: str) -> bool:
        """A callback may beat the activity that started its job; it is kept until then."""
        if provider not in self._working or provider in self._reports:
            return False
        job = self._awaiting.get(provider)
        return job is None or job.job_id == job_id

    def job_reported(self, report: ProviderJobReport) -> None:
        """A provider's callback arrived for its job."""
        self._reports[report.provider] = report

    async def _fulfil_at(self, provider: ProviderRef) -> ProviderOutcome:
        if provider.kind is ProviderHandling.MANUAL:
            return await self._operator_task(
                provider, TaskReason.MANUAL_PROVIDER, f"{self._action.value} by hand"
            )
        if provider.reports_by_callback:
            self._working.add(provider.name)
        try:
            outcome = await effects.fulfil_at_provider(
                FulfilAtProviderInput(
                    request=self._request,
                    provider=provider.name,
                    action=self._action,
                    account_id=self._account_id,
                    specific_pieces=self._specific_pieces,
                ),
                task_queue=provider.task_queue,
            )
            if outcome.job is not None:
                outcome = await self._follow_job(provider, outcome.job)
        except (ActivityError, JobNotFinished) as error:
            self._working.discard(provider.name)
            if isinstance(error, ActivityError):
                cause = error.cause
                kind = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
            else:
                kind = str(error)
            self._case_file.log(
                logging.WARNING, "provider_escalated", provider=provider.name, failure=str(kind)
            )
            return await self._operator_task(
                provider,
                TaskReason.ESCALATED,
                f"automated {self._action.value} failed: {kind}",
            )
        self._working.discard(provider.name)
        if outcome.operator_follow_up is not None:
            by_hand = await self._operator_task(
                provider, TaskReason.MANUAL_PROVIDER, outcome.operator_follow_up
            )
            return outcome.model_copy(
                update={
                    "status": by_hand.status,
                    "evidence": [*outcome.evidence, *by_hand.evidence],
                    "retained": [*outcome.retained, *by_hand.retained],
                }
            )
        return outcome

    async def _follow_job(self, provider: ProviderRef, job: ProviderJob) -> ProviderOutcome:
        """Poll on a timer, or wait for the callback, until the job ends or runs out of time."""
        give_up = workflow.now() + provider.job_timeout
        self._case_file.log(logging.INFO, "provider_job_started", provider=provider.name)
        if job.callback:
            self._awaiting[provider.name] = job
            if not await self._wait_for(
                lambda: provider.name in self._reports,
                until=give_up,
                summary=f"{provider.name} callback deadline",
            ):
                raise JobNotFinished(f"no callback for job {job.job_id} by its timeout")
            report = self._reports[provider.name]
            if report.job_id != job.job_id:
                raise JobNotFinished(f"callback named job {report.job_id}, not {job.job_id}")
            # Settled by the connector, like a poll: masked, registry rules applied, journalled.
            return await self._poll(provider, job, report)
        # The wait doubles up to a ceiling, so a month-long job costs a few hundred events.
        wait = provider.poll_every
        while True:
            if workflow.now() >= give_up:
                raise JobNotFinished(f"job {job.job_id} still {job.state} at its timeout")
            await self._wait_for(
                lambda: False,
                until=min(workflow.now() + wait, give_up),
                summary=f"Poll the {provider.name} job again",
            )
            outcome = await self._poll(provider, job)
            if outcome.job is None:
                return outcome
            job = outcome.job.model_copy(update={"polls": job.polls + 1})
            wait = min(wait * 2, max(provider.max_poll_every, provider.poll_every))

    async def _poll(
        self, provider: ProviderRef, job: ProviderJob, report: ProviderJobReport | None = None
    ) -> ProviderOutcome:
        return await effects.poll_provider_job(
            PollProviderJobInput(
                request=self._request,
                provider=provider.name,
                action=self._action,
                job=job,
                account_id=self._account_id,
                report=report,
                specific_pieces=self._specific_pieces,
            ),
            task_queue=provider.task_queue,
        )

    async def _operator_task(
        self, provider: ProviderRef, reason: TaskReason, detail: str
    ) -> ProviderOutcome:
        """Park one provider's work with the privacy team; the rest of the run goes on."""
        task = ProviderTask(
            provider=provider.name, reason=reason, opened_at=workflow.now(), detail=detail
        )
        self._case_file.open_task(task)
        key = f"operator-task-{provider.name}"
        earlier = sum(
            notice.key == key or re.fullmatch(rf"{re.escape(key)}-\d+", notice.key) is not None
            for notice in self._case_file.state.notices
        )
        await self._notifier.notify(
            NoticeKind.OPERATOR_TASK,
            Recipient.OPERATOR,
            NoticeFacts(tasks=[task]),
            # A second task for the same provider (after an appeal) is a second email.
            key=key if not earlier else f"{key}-{earlier + 1}",
        )
        await self._wait_for(lambda: provider.name in self._results)
        done = self._results[provider.name]
        self._case_file.close_task(task)
        evidence = [f"{reason.value}: {detail}", "closed by operator"]
        return ProviderOutcome(
            provider=provider.name,
            category=provider.category,
            status=done.status,
            retained=[]
            if done.basis is None
            else [Retention(category=provider.category, basis=done.basis, ground=done.ground)],
            evidence=evidence,
            note=done.note,
        )
