"""Local stand-ins for the providers' APIs, on loopback: what tests and `make run` talk to.

Each one implements only the endpoints our connector uses, as the provider documents them, and
can be told to fail (429 bursts, 5xx, slow answers, permanent 4xx, lost responses). Nothing here
is used against a real provider: a registry entry with `sandbox = true` is started by
`make run`, and its evidence in every outcome says "sandbox provider, not the real API".
"""

from __future__ import annotations

import importlib
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from activities.providers.kinds import KINDS
from dev.sandbox.server import Place, SandboxProvider
from rights.registry import ProviderEntry

SANDBOX_AGENT_EMAIL = Place(provider="").agent_email


def sandbox_for(kind: str, token: str, place: Place) -> SandboxProvider:
    """The stand-in the table of kinds names for `kind` (`activities.providers.kinds`)."""
    stand_in = KINDS[kind].sandbox if kind in KINDS else None
    if stand_in is None:
        raise ValueError(f"provider {place.provider}: no sandbox for kind {kind!r}")
    module, _, name = stand_in.partition(":")
    sandbox: type[SandboxProvider] = getattr(importlib.import_module(module), name)
    return sandbox.for_provider(token, place)


def start_sandboxes(
    providers: Sequence[ProviderEntry],
    environ: MutableMapping[str, str],
    people: Sequence[tuple[str, str, str]],
    *,
    callback_base_url: str,
    state_root: Path | None = None,
) -> list[SandboxProvider]:
    """Start the registry's sandbox providers on their base URLs' ports, holding `people`.

    Credentials the environment does not set get sandbox values, so the worker's start-up
    check for each provider's variables passes on a fresh machine. Under `state_root` each
    keeps its state in a folder named for its provider, and one started on its folder again
    holds what it held, not `people` anew: whom it deleted stays deleted.
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
            Place(
                provider=entry.name,
                port=port,
                agent_email=environ.get(entry.api.user_env or "", SANDBOX_AGENT_EMAIL),
                callback_base_url=callback_base_url,
                callback_after_seconds=5,
                state_dir=None if state_root is None else state_root / entry.name,
            ),
        )
        if server.fresh:
            for email, full_name, account_id in people:
                server.add_person(email, full_name, account_id)
        started.append(server.start())
    return started
