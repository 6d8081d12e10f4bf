"""Fulfilment at the providers of the registry: one connector per API shape.

`fulfil_at_provider` and `poll_provider_job` run on each provider's own task queue (see
`worker.build_workers`), so the server's rate limit for that queue is the provider's limit
across every worker. A job a provider finishes later comes back as a `pending` outcome; the
workflow waits on a durable timer and calls `poll_provider_job`, holding no worker slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.providers.connector import Connector, Journal, Subject
from activities.providers.http import ProviderApi
from activities.providers.hubspot import HubSpotConnector
from activities.providers.registry import (
    ACCESS_REPORTS,
    IdentitySource,
    ProviderEntry,
    Registry,
    RegistryError,
    provider_task_queue,
)
from activities.providers.segment import SegmentConnector
from activities.providers.sendgrid_contacts import SendGridContactsConnector
from activities.providers.sql import SqlConnector
from activities.providers.stripe import StripeConnector
from activities.providers.webhook import WebhookConnector
from activities.providers.zendesk import ZendeskConnector
from logs import request_context
from rights.activity_inputs import (
    ActivityName,
    FulfilAtProviderInput,
    PlanProvidersInput,
    PollProviderJobInput,
    ProviderKind,
    ProviderPlan,
    ProviderRef,
)
from rights.models import ProviderOutcome, RightsRequest
from rights.plans import ProviderAction

log = structlog.get_logger()

CONNECTORS: dict[str, type[Connector]] = {
    "stripe": StripeConnector,
    "sendgrid_contacts": SendGridContactsConnector,
    "segment": SegmentConnector,
    "hubspot": HubSpotConnector,
    "zendesk": ZendeskConnector,
}


def build_connector(
    entry: ProviderEntry, environ: Mapping[str, str], reports_dir: Path
) -> Connector:
    """The connector for one API provider, with its credentials read from the environment."""
    api_settings = entry.api
    assert api_settings is not None

    def secret(name: str) -> str:
        value = environ.get(name)
        if not value:
            raise RegistryError(f"provider {entry.name}: environment variable {name} is not set")
        return value

    token = secret(api_settings.token_env)
    headers: dict[str, str] = {}
    auth = None
    if entry.kind == "zendesk":
        assert api_settings.user_env is not None
        auth = (f"{secret(api_settings.user_env)}/token", token)
    elif entry.kind != "webhook":
        headers["Authorization"] = f"Bearer {token}"
    api = ProviderApi(
        entry.name,
        api_settings.base_url,
        headers=headers,
        auth=auth,
        timeout_seconds=api_settings.timeout_seconds,
    )
    if entry.kind == "webhook":
        return WebhookConnector(entry, api, reports_dir, secret=token)
    return CONNECTORS[entry.kind](entry, api, reports_dir)


class AccountDirectory:
    """Finds the service's account id for a person: the id analytics tools know them by."""

    def __init__(self, engine: Engine, identity: IdentitySource) -> None:
        self._engine = engine
        self._identity = identity

    def account_id(self, email: str) -> str | None:
        table = sa.table(
            self._identity.table,
            sa.column(self._identity.email_column),
            sa.column(self._identity.account_id_column),
        )
        with self._engine.connect() as connection:
            found = connection.execute(
                sa.select(table.c[self._identity.account_id_column]).where(
                    sa.func.lower(table.c[self._identity.email_column]) == email.lower()
                )
            ).first()
        return None if found is None else str(found[0])


class EarlierReports(Protocol):
    """Access reports already prepared for the person: a deletion reaches them too."""

    def exist_for(self, request: RightsRequest) -> bool: ...

    def erase_for(self, request: RightsRequest) -> ProviderOutcome: ...


class ProviderActivities:
    def __init__(
        self,
        registry: Registry,
        task_queue: str,
        sql_connectors: dict[str, SqlConnector],
        api_connectors: dict[str, Connector],
        journal: Journal,
        accounts: AccountDirectory,
        reports: EarlierReports,
    ) -> None:
        self._registry = registry
        self._reports = reports
        self._task_queue = task_queue
        self._sql = sql_connectors
        self._api = api_connectors
        self._journal = journal
        self._accounts = accounts

    @activity.defn(name=ActivityName.PLAN_PROVIDERS)
    def plan_providers(self, input: PlanProvidersInput) -> ProviderPlan:
        entries = [entry for entry in self._registry.providers if input.action in entry.serves]
        account_id = None
        if input.request is not None and any(_knows_account(entry) for entry in entries):
            account_id = self._accounts.account_id(str(input.request.requester.email))
        providers = [self._ref(entry) for entry in entries]
        request = input.request
        if input.action is ProviderAction.DELETE and request and self._reports.exist_for(request):
            providers.append(
                ProviderRef(
                    name=ACCESS_REPORTS,
                    kind=ProviderKind.AUTOMATED,
                    category="access reports we prepared for you earlier",
                )
            )
        return ProviderPlan(providers=providers, account_id=account_id)

    def _ref(self, entry: ProviderEntry) -> ProviderRef:
        if not entry.automated:
            return ProviderRef(name=entry.name, kind=ProviderKind.MANUAL, category=entry.category)
        ref = ProviderRef(
            name=entry.name,
            kind=ProviderKind.AUTOMATED,
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
        with request_context(input.request, f"fulfil:{input.provider}"):
            sql = self._sql.get(input.provider)
            if input.provider == ACCESS_REPORTS:
                step = self._journal.step(input.request.request_id, input.provider, input.action)
                if (final := step.get("outcome")) is not None:
                    return ProviderOutcome.model_validate(final)
                outcome = self._reports.erase_for(input.request)
                step.save(outcome=outcome.model_dump(mode="json"))
            elif sql is not None:
                outcome = sql.fulfil(input.request, input.action, input.specific_pieces)
            else:
                connector = self._connector(input.provider)
                step = self._journal.step(input.request.request_id, input.provider, input.action)
                outcome = connector.fulfil(self._subject(input), input.action, step)
            log.info("provider_fulfilled", provider=input.provider, status=outcome.status.value)
            return outcome

    @activity.defn(name=ActivityName.POLL_PROVIDER_JOB)
    def poll_provider_job(self, input: PollProviderJobInput) -> ProviderOutcome:
        with request_context(input.request, f"poll:{input.provider}"):
            connector = self._connector(input.provider)
            step = self._journal.step(input.request.request_id, input.provider, input.action)
            subject = self._subject(input)
            if input.report is None:
                outcome = connector.resume(subject, input.action, input.job, step)
            else:
                outcome = connector.conclude(subject, input.action, input.job, input.report, step)
            log.info(
                "provider_job_polled",
                provider=input.provider,
                job=input.job.job_id,
                status=outcome.status.value,
                provider_state=outcome.job.state if outcome.job else None,
            )
            return outcome

    def _connector(self, provider: str) -> Connector:
        connector = self._api.get(provider)
        if connector is None:
            raise ApplicationError(
                f"no connector is configured for provider {provider!r}",
                type="ProviderMisconfigured",
                non_retryable=True,
            )
        return connector

    @staticmethod
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
