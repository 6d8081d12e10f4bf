"""Fulfilment at the providers of the registry: one connector per API shape."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.providers.registry import Registry
from activities.providers.sql import SqlConnector
from logs import request_context
from rights.activity_inputs import (
    ActivityName,
    FulfilAtProviderInput,
    PlanProvidersInput,
    ProviderKind,
    ProviderPlan,
    ProviderRef,
)
from rights.models import ProviderOutcome

log = structlog.get_logger()


class ProviderActivities:
    def __init__(self, registry: Registry, connectors: dict[str, SqlConnector]) -> None:
        self._registry = registry
        self._connectors = connectors

    @activity.defn(name=ActivityName.PLAN_PROVIDERS)
    def plan_providers(self, input: PlanProvidersInput) -> ProviderPlan:
        return ProviderPlan(
            providers=[
                ProviderRef(
                    name=entry.name,
                    kind=ProviderKind.MANUAL if entry.kind == "manual" else ProviderKind.AUTOMATED,
                    category=entry.category,
                )
                for entry in self._registry.providers
                if input.action in entry.serves
            ]
        )

    @activity.defn(name=ActivityName.FULFIL_AT_PROVIDER)
    def fulfil_at_provider(self, input: FulfilAtProviderInput) -> ProviderOutcome:
        connector = self._connectors.get(input.provider)
        if connector is None:
            raise ApplicationError(
                f"no connector is configured for provider {input.provider!r}",
                type="ProviderMisconfigured",
                non_retryable=True,
            )
        with request_context(input.request, f"fulfil:{input.provider}"):
            outcome = connector.fulfil(input.request, input.action)
            log.info("provider_fulfilled", provider=input.provider, status=outcome.status.value)
            return outcome
