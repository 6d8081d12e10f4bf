"""Fulfilment at the providers of the registry, as activities: plan, act, poll.

`fulfil_at_provider` and `poll_provider_job` run on each provider's own task queue (see
`worker.build_workers`), so the server's rate limit for that queue is the provider's limit
across every worker. Every provider, the service's own database included, is a `Connector`
with a journal: this module only finds the right one. A job a provider finishes later comes
back as a `pending` outcome; the workflow waits on a durable timer and calls
`poll_provider_job`, holding no worker slot.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.identity import AccountDirectory
from activities.providers.access_reports import AccessReportsConnector
from activities.providers.connector import Connector, Subject
from activities.providers.kinds import automated
from logs import request_context
from rights.activity_inputs import (
    ActivityName,
    FulfilAtProviderInput,
    PlanProvidersInput,
    PollProviderJobInput,
    ProviderHandling,
    ProviderPlan,
    ProviderRef,
)
from rights.models import ProviderOutcome
from rights.plans import ProviderAction
from rights.registry import ProviderEntry, Registry, provider_task_queue

log = structlog.get_logger()

# While a provider call runs, the server hears from it this often; the workflow's heartbeat
# timeout (`effects.PROVIDER_HEARTBEAT_TIMEOUT`) is several of these.
HEARTBEAT_EVERY_SECONDS = 5.0


@contextmanager
def heartbeating(every: float = HEARTBEAT_EVERY_SECONDS) -> Iterator[None]:
    """Heartbeat from a helper thread while the provider call runs, so a worker killed mid-call
    is noticed when its heartbeats stop, not when the five-minute start-to-close runs out: a
    crashed worker's provider calls are tried again within a minute. The helper runs in a copy
    of the activity's context, which is what `activity.heartbeat` finds the activity by."""
    stop = threading.Event()
    context = contextvars.copy_context()

    def beat() -> None:
        while not stop.wait(every):
            context.run(activity.heartbeat)

    helper = threading.Thread(target=beat, name="provider-heartbeat", daemon=True)
    helper.start()
    try:
        yield
    finally:
        stop.set()
        helper.join()


class ProviderActivities:
    def __init__(
        self,
        registry: Registry,
        task_queue: str,
        connectors: dict[str, Connector],
        accounts: AccountDirectory,
        reports: AccessReportsConnector,
    ) -> None:
        self._registry = registry
        self._task_queue = task_queue
        self._connectors = {**connectors, reports.entry.name: reports}
        self._accounts = accounts
        self._reports = reports

    @activity.defn(name=ActivityName.PLAN_PROVIDERS)
    def plan_providers(self, input: PlanProvidersInput) -> ProviderPlan:
        """Who must act for this request: every provider serving the action, and for a
        deletion the earlier access reports about the person, if there are any."""
        # A profiling review looks at every place that holds data it could have used.
        serving = (
            ProviderAction.ACCESS
            if input.action is ProviderAction.REVIEW_PROFILING
            else input.action
        )
        entries = [entry for entry in self._registry.providers if serving in entry.serves]
        account_id = None
        if any(_knows_account(entry) for entry in entries):
            account_id = self._accounts.account_id(str(input.request.requester.email))
        providers = [self._ref(entry) for entry in entries]
        if input.action is ProviderAction.REVIEW_PROFILING or (
            input.action is ProviderAction.CORRECT and not input.request.corrections
        ):
            # A person's judgement, or said in words (an email, the form's details): a person
            # reads it at each provider.
            providers = [
                ref.model_copy(update={"kind": ProviderHandling.MANUAL, "task_queue": None})
                for ref in providers
            ]
        subject = Subject(request_id=input.request.request_id, email=input.request.requester.email)
        if input.action is ProviderAction.DELETE and self._reports.exist_for(subject):
            providers.append(
                ProviderRef(
                    name=self._reports.entry.name,
                    kind=ProviderHandling.AUTOMATED,
                    category=self._reports.entry.category,
                )
            )
        return ProviderPlan(providers=providers, account_id=account_id)

    def _ref(self, entry: ProviderEntry) -> ProviderRef:
        if not automated(entry):
            return ProviderRef(
                name=entry.name, kind=ProviderHandling.MANUAL, category=entry.category
            )
        ref = ProviderRef(
            name=entry.name,
            kind=ProviderHandling.AUTOMATED,
            category=entry.category,
            task_queue=provider_task_queue(self._task_queue, entry.name),
        )
        if entry.api is not None:
            ref = ref.model_copy(
                update={
                    "poll_every": timedelta(seconds=entry.api.poll_every_seconds),
                    "max_poll_every": timedelta(seconds=entry.api.max_poll_every_seconds),
                    "job_timeout": timedelta(days=entry.api.job_timeout_days),
                    "reports_by_callback": entry.api.callback,
                }
            )
        return ref

    @activity.defn(name=ActivityName.FULFIL_AT_PROVIDER)
    def fulfil_at_provider(self, input: FulfilAtProviderInput) -> ProviderOutcome:
        """Carry out the request's action at one provider, once (its journal keeps the outcome)."""
        with request_context(input.request, f"fulfil:{input.provider}"), heartbeating():
            outcome = self._connector(input.provider).fulfil(_subject(input), input.action)
            log.info("provider_fulfilled", provider=input.provider, status=outcome.status.value)
            return outcome

    @activity.defn(name=ActivityName.POLL_PROVIDER_JOB)
    def poll_provider_job(self, input: PollProviderJobInput) -> ProviderOutcome:
        """Ask a provider how its job is going, or settle the result its system called back."""
        with request_context(input.request, f"poll:{input.provider}"), heartbeating():
            connector = self._connector(input.provider)
            subject = _subject(input)
            if input.report is None:
                outcome = connector.resume(subject, input.action, input.job)
            else:
                outcome = connector.conclude(subject, input.action, input.job, input.report)
            log.info(
                "provider_job_polled",
                provider=input.provider,
                job=input.job.job_id,
                status=outcome.status.value,
                provider_state=outcome.job.state if outcome.job else None,
            )
            return outcome

    def _connector(self, provider: str) -> Connector:
        connector = self._connectors.get(provider)
        if connector is None:
            raise ApplicationError(
                f"no connector is configured for provider {provider!r}",
                type="ProviderMisconfigured",
                non_retryable=True,
            )
        return connector


def _subject(input: FulfilAtProviderInput | PollProviderJobInput) -> Subject:
    request = input.request
    return Subject(
        request_id=request.request_id,
        email=str(request.requester.email),
        account_id=input.account_id,
        corrections={item.field: item.corrected_value for item in request.corrections},
        specific_pieces=input.specific_pieces,
    )


def _knows_account(entry: ProviderEntry) -> bool:
    """Providers that know the person by our account id rather than (or as well as) email."""
    return entry.api is not None and (
        entry.api.subject_id == "account_id" or entry.kind == "webhook"
    )
