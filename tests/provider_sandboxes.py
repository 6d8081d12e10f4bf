"""Sandbox providers for tests: a started sandbox, its registry entry and its credentials."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from activities.providers import kinds
from dev.sandbox import SANDBOX_AGENT_EMAIL, sandbox_for
from dev.sandbox.server import Place, SandboxProvider
from rights.plans import ProviderAction
from rights.registry import (
    Disclosure,
    HttpApi,
    ProviderEntry,
    RateLimit,
    Registry,
    RetentionRule,
)
from tests.harness import default_registry

KINDS = ["stripe", "sendgrid_contacts", "segment", "hubspot", "zendesk", "webhook"]

# The call that changes the provider's data: where a lost response hurts.
EFFECT = {
    "stripe": "DELETE /v1/customers/",
    "sendgrid_contacts": "DELETE /v3/marketing/contacts",
    "segment": "POST /regulations",
    "hubspot": "POST /crm/v3/objects/contacts/gdpr-delete",
    "zendesk": "DELETE /api/v2/deleted_users/",
    "webhook": "POST /",
}
ASYNC_JOBS = {"sendgrid_contacts", "segment"}
PAYMENT_RETENTION = RetentionRule(
    category="payment transactions",
    basis="kept 7 years by the processor for tax law (26 U.S.C. §6001)",
)


@dataclass
class Provider:
    entry: ProviderEntry
    sandbox: SandboxProvider
    environ: dict[str, str]


def api_entry(
    name: str,
    kind: str,
    base_url: str,
    *,
    poll_every_seconds: int = 5,
    callback: bool = False,
    retained: list[RetentionRule] | None = None,
    timeout_seconds: float = 5,
    job_timeout_days: int = 35,
) -> ProviderEntry:
    prefix = name.upper().replace("-", "_")
    return ProviderEntry(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        category=f"{name} records",
        serves=sorted(kinds.KINDS[kind].actions & {ProviderAction.DELETE, ProviderAction.ACCESS}),
        disclosure=Disclosure(
            sources=["you"],
            purposes=[f"what {name} is for"],
            recipients=[f"{name}, as our service provider"],
            retention="until you ask us to delete it",
        ),
        api=HttpApi(
            base_url=base_url,
            token_env=f"{prefix}_TOKEN",
            user_env=f"{prefix}_USER" if kind == "zendesk" else None,
            timeout_seconds=timeout_seconds,
            poll_every_seconds=poll_every_seconds,
            job_timeout_days=job_timeout_days,
            subject_id="account_id" if kind == "segment" else "email",
            callback=callback,
            sandbox=True,
        ),
        rate=RateLimit(per_second=50, concurrency=4),
        retained=retained or [],
    )


@contextmanager
def running_provider(
    kind: str,
    name: str | None = None,
    *,
    people: list[tuple[str, str, str]] | None = None,
    callback_base_url: str | None = None,
    port: int = 0,
    state_dir: Path | None = None,
    **entry_options: object,
) -> Iterator[Provider]:
    """A started sandbox holding `people`, or, on a `state_dir` it used before, what it held."""
    name = name or kind.replace("_", "-")
    token = f"test-{name}-token"
    place = Place(
        provider=name, port=port, callback_base_url=callback_base_url, state_dir=state_dir
    )
    sandbox = sandbox_for(kind, token, place)
    if sandbox.fresh:
        for person in people or []:
            sandbox.add_person(*person)
    with sandbox:
        entry = api_entry(name, kind, sandbox.url, **entry_options)  # type: ignore[arg-type]
        assert entry.api is not None
        environ = {entry.api.token_env: token}
        if entry.api.user_env:
            environ[entry.api.user_env] = SANDBOX_AGENT_EMAIL
        yield Provider(entry, sandbox, environ)


@contextmanager
def running_providers(
    kinds: list[str], people: list[tuple[str, str, str]], **options: object
) -> Iterator[list[Provider]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(running_provider(kind, people=people, **options))  # type: ignore[arg-type]
            for kind in kinds
        ]


def registry_with(
    providers: list[Provider], *, service_database: bool = False, manual: bool = False
) -> Registry:
    base = default_registry(manual=manual)
    entries = [p.entry for p in providers]
    return base.model_copy(
        update={"providers": ([*base.providers] if service_database else []) + entries}
    )


def environ_of(providers: list[Provider]) -> dict[str, str]:
    environ: dict[str, str] = {}
    for provider in providers:
        environ.update(provider.environ)
    return environ


def export_of(reports_dir: Path, request_id: str, provider: str) -> Path:
    return reports_dir / request_id / "sources" / f"{provider}.json"
