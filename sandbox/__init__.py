"""Local stand-ins for the providers' APIs, on loopback: what tests and `make run` talk to.

Each one implements only the endpoints our connector uses, as the provider documents them, and
can be told to fail (429 bursts, 5xx, slow answers, permanent 4xx, lost responses). Nothing here
is used against a real provider: a registry entry with `sandbox = true` is started by
`make run`, and its evidence in every outcome says "sandbox provider, not the real API".
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from urllib.parse import urlsplit

from activities.providers.registry import ProviderEntry
from sandbox.hubspot import HubSpotSandbox
from sandbox.segment import SegmentSandbox
from sandbox.sendgrid import SendGridContactsSandbox
from sandbox.server import SandboxProvider
from sandbox.stripe import StripeSandbox
from sandbox.webhook import WebhookSandbox
from sandbox.zendesk import ZendeskSandbox

SANDBOX_AGENT_EMAIL = "privacy-bot@sandbox.invalid"


def sandbox_for(
    kind: str,
    token: str,
    *,
    provider: str = "",
    port: int = 0,
    agent_email: str = SANDBOX_AGENT_EMAIL,
    callback_base_url: str | None = None,
    callback_after_seconds: float | None = None,
) -> SandboxProvider:
    if kind == "stripe":
        return StripeSandbox(token, port=port)
    if kind == "sendgrid_contacts":
        return SendGridContactsSandbox(token, port=port)
    if kind == "segment":
        return SegmentSandbox(token, port=port)
    if kind == "hubspot":
        return HubSpotSandbox(token, port=port)
    if kind == "zendesk":
        return ZendeskSandbox(token, agent_email=agent_email, port=port)
    if kind == "webhook":
        return WebhookSandbox(
            token,
            port=port,
            provider=provider,
            callback_base_url=callback_base_url,
            callback_after_seconds=callback_after_seconds,
        )
    raise ValueError(f"provider {provider}: no sandbox for kind {kind!r}")


def start_sandboxes(
    providers: Sequence[ProviderEntry],
    environ: MutableMapping[str, str],
    people: Sequence[tuple[str, str, str]],
    *,
    callback_base_url: str,
) -> list[SandboxProvider]:
    """Start the registry's sandbox providers on their base URLs' ports, holding `people`.

    Credentials the environment does not set get sandbox values, so the worker's start-up
    check for each provider's variables passes on a fresh machine.
    """
    started = []
    for entry in providers:
        if entry.api is None or not entry.api.sandbox:
            continue
        token = environ.setdefault(entry.api.token_env, f"sandbox-{entry.name}-token")
        if entry.api.user_env is not None:
            environ.setdefault(entry.api.user_env, SANDBOX_AGENT_EMAIL)
        port = urlsplit(entry.api.base_url).port or 80
        server = sandbox_for(
            entry.kind,
            token,
            provider=entry.name,
            port=port,
            agent_email=environ.get(entry.api.user_env or "", SANDBOX_AGENT_EMAIL),
            callback_base_url=callback_base_url,
            callback_after_seconds=5,
        )
        for email, full_name, account_id in people:
            server.add_person(email, full_name, account_id)
        started.append(server.start())
    return started
