"""Every provider kind, and everything it means, in one table.

A row says which actions the kind can carry out, which connector does them (none: the privacy
team does them by hand, as an operator task), which settings an entry of that kind must give,
whether its system may report by callback, and which development stand-in plays it (a
`module:Class` under `dev/sandbox/`, imported only by the development tools). Adding a kind is
one connector module and one row here; the registry is checked against this table when the
worker loads it, so a typo stops the worker with a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from activities.providers.connector import ApiConnector, Connector, Parts
from activities.providers.hubspot import HubSpotConnector
from activities.providers.segment import SegmentConnector
from activities.providers.sendgrid_contacts import SendGridContactsConnector
from activities.providers.sql import SqlConnector
from activities.providers.stripe import StripeConnector
from activities.providers.webhook import WebhookConnector
from activities.providers.zendesk import ZendeskConnector
from rights.plans import ProviderAction
from rights.registry import ProviderEntry, Registry, RegistryError, read_registry


@dataclass(frozen=True)
class Kind:
    connector: type[Connector] | None
    actions: frozenset[ProviderAction]
    settings: Literal["api", "sql"] | None = None
    sandbox: str | None = None
    takes_callbacks: bool = False


EVERYTHING = frozenset(ProviderAction)
DELETE_ACCESS = frozenset({ProviderAction.DELETE, ProviderAction.ACCESS})

KINDS: dict[str, Kind] = {
    "sql": Kind(SqlConnector, EVERYTHING, settings="sql"),
    "manual": Kind(None, EVERYTHING),
    "stripe": Kind(
        StripeConnector, DELETE_ACCESS, settings="api", sandbox="dev.sandbox.stripe:StripeSandbox"
    ),
    "sendgrid_contacts": Kind(
        SendGridContactsConnector,
        DELETE_ACCESS,
        settings="api",
        sandbox="dev.sandbox.sendgrid:SendGridContactsSandbox",
    ),
    "segment": Kind(
        SegmentConnector,
        frozenset(
            {
                ProviderAction.DELETE,
                ProviderAction.OPT_OUT,
                ProviderAction.RESTRICT,
                ProviderAction.STOP_PROCESSING,
            }
        ),
        settings="api",
        sandbox="dev.sandbox.segment:SegmentSandbox",
    ),
    "hubspot": Kind(
        HubSpotConnector,
        DELETE_ACCESS,
        settings="api",
        sandbox="dev.sandbox.hubspot:HubSpotSandbox",
    ),
    "zendesk": Kind(
        ZendeskConnector,
        DELETE_ACCESS,
        settings="api",
        sandbox="dev.sandbox.zendesk:ZendeskSandbox",
    ),
    "webhook": Kind(
        WebhookConnector,
        EVERYTHING,
        settings="api",
        sandbox="dev.sandbox.webhook:WebhookSandbox",
        takes_callbacks=True,
    ),
}


def kind_of(entry: ProviderEntry) -> Kind:
    """The row of the table for `entry`'s kind."""
    return KINDS[entry.kind]


def automated(entry: ProviderEntry) -> bool:
    """Carried out by a connector; otherwise by the privacy team, as an operator task."""
    return kind_of(entry).connector is not None


def problems(entry: ProviderEntry) -> list[str]:
    """What `entry` asks that its kind cannot do, or leaves out that its kind needs."""
    kind = KINDS.get(entry.kind)
    if kind is None:
        return [f"provider {entry.name}: kind {entry.kind!r} is not one of {', '.join(KINDS)}"]
    found = []
    if kind.settings == "sql" and entry.sql is None:
        found.append(f"provider {entry.name}: kind 'sql' needs a [providers.sql] table")
    if kind.settings == "api" and entry.api is None:
        found.append(f"provider {entry.name}: kind {entry.kind!r} needs [providers.api]")
    unsupported = sorted(set(entry.serves) - kind.actions)
    if unsupported:
        found.append(
            f"provider {entry.name}: serves: a {entry.kind} provider cannot "
            f"{', '.join(unsupported)}"
        )
    if entry.api is not None and entry.api.callback and not kind.takes_callbacks:
        found.append(f"provider {entry.name}: api.callback is for webhook providers")
    connector = kind.connector
    if (
        connector is not None
        and issubclass(connector, ApiConnector)
        and connector.auth == "agent"
        and entry.api is not None
        and entry.api.user_env is None
    ):
        found.append(f"provider {entry.name}: {entry.kind} needs api.user_env (agent email)")
    return found


def load_registry(path: Path) -> Registry:
    """The registry, each entry checked against what its kind can do and needs."""
    registry = read_registry(path)
    found = [problem for entry in registry.providers for problem in problems(entry)]
    if found:
        raise RegistryError(f"PROVIDER_REGISTRY {path}: {'; '.join(found)}")
    return registry


def connector_for(entry: ProviderEntry, parts: Parts) -> Connector | None:
    """The connector that carries out `entry`'s work (None for work done by hand)."""
    connector = kind_of(entry).connector
    return None if connector is None else connector.build(entry, parts)
