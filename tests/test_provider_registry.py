"""The registry refuses what it cannot do at start-up; 429 waits are read from every header."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from activities.providers.connector import Journal, Parts, Subject
from activities.providers.http import rate_limit_wait
from activities.providers.kinds import connector_for, load_registry
from dev.sandbox import start_sandboxes
from rights.models import OutcomeStatus
from rights.plans import ProviderAction
from rights.registry import Registry, RegistryError
from rights.settings import load_settings
from tests.harness import PRODUCTION, ROOT
from tests.live_server import free_port
from tests.provider_sandboxes import api_entry
from worker import build_activities

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7),
        ({"Retry-After": "Sun, 29 Nov 2026 12:00:30 GMT"}, 30),
        ({"X-RateLimit-Reset": str(int(NOW.timestamp()) + 45)}, 45),  # SendGrid, Intercom epoch
        ({"X-RateLimit-Reset": "12"}, 12),  # SendGrid erasure API: seconds until reset
        ({"X-Regulation-RateLimit-Quota-Reset": "2026-11-29T12:05:00Z"}, 300),  # Segment
        ({"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}, 10),
        ({}, 10),  # nothing said: a cautious default
        ({"Retry-After": "0"}, 1),  # never a busy loop
        ({"Retry-After": "864000"}, 86_400),  # ten days asked: a day, then an operator
        ({"Retry-After": "soon"}, 10),
        ({"Retry-After": "Sun, 29 Nov 2026 12:00:30 -0000"}, 30),  # naive: UTC
        ({"X-RateLimit-Reset": "nan"}, 10),
        ({"X-RateLimit-Reset": "1e400"}, 10),
        ({"Retry-After": "99999999999999999999"}, 86_400),
    ],
)
def test_rate_limit_wait_reads_each_providers_header(headers: dict[str, str], seconds: int) -> None:
    assert rate_limit_wait(httpx.Headers(headers), now=NOW) == timedelta(seconds=seconds)


DISCLOSURE = (
    'disclosure = { sources = ["you"], purposes = ["billing"], recipients = ["our processor"], '
    'retention = "7 years" }\n'
)


def parts(environ: dict[str, str], tmp_path: Path) -> Parts:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'journal.db'}")
    return Parts(environ, tmp_path, Journal(engine), engine)


def write(tmp_path: Path, text: str, *, disclosure: bool = True) -> Path:
    """The deploy registry plus `text`, each entry with its disclosure unless told otherwise."""
    path = tmp_path / "providers.toml"
    base = (ROOT / "config" / "production.toml").read_text()
    if disclosure:
        text = text.replace("\nserves = ", f"\n{DISCLOSURE}serves = ")
    path.write_text(base + text)
    return path


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            'name = "segment"\nkind = "segment"\ncategory = "x"\nserves = ["access"]\n'
            "rate = { per_second = 2 }\n"
            'api = { base_url = "https://api.segmentapis.com", token_env = "SEGMENT_TOKEN" }',
            "serves: a segment provider cannot access",
        ),
        (
            'name = "stripe"\nkind = "stripe"\ncategory = "x"\nserves = ["delete"]',
            "kind 'stripe' needs [providers.api]",
        ),
        (
            'name = "stripe"\nkind = "stripe"\ncategory = "x"\nserves = ["delete"]\n'
            'api = { base_url = "https://api.stripe.com", token_env = "STRIPE_API_KEY" }',
            "rate: give the API's published limit",
        ),
        (
            'name = "zendesk"\nkind = "zendesk"\ncategory = "x"\nserves = ["delete"]\n'
            "rate = { per_second = 1 }\n"
            'api = { base_url = "https://acme.zendesk.com", token_env = "ZENDESK_TOKEN" }',
            "zendesk needs api.user_env",
        ),
        (
            'name = "stripe"\nkind = "stripe"\ncategory = "x"\nserves = ["delete"]\n'
            'api = { base_url = "https://api.stripe.com", token_env = "sk_live_pasted_here" }',
            "providers.2.api.token_env",
        ),
        (
            'name = "hubspot"\nkind = "hubspot"\ncategory = "x"\nserves = ["delete"]\n'
            "rate = { per_second = 0 }\n"
            'api = { base_url = "https://api.hubapi.com", token_env = "HUBSPOT_TOKEN" }',
            "providers.2.rate.per_second",
        ),
        (
            'name = "crm"\nkind = "hubspot"\ncategory = "x"\nserves = ["delete"]\n'
            "rate = { per_second = 10 }\n"
            'api = { base_url = "https://api.hubapi.com", token_env = "HUBSPOT_TOKEN", '
            "callback = true }",
            "api.callback is for webhook providers",
        ),
    ],
)
def test_registry_names_the_field_and_the_problem(tmp_path: Path, entry: str, problem: str) -> None:
    with pytest.raises(RegistryError) as refused:
        load_registry(write(tmp_path, f"\n[[providers]]\n{entry}\n"))
    assert problem in str(refused.value)


def test_every_provider_must_say_what_a_request_to_know_is_told(tmp_path: Path) -> None:
    entry = 'name = "crm"\nkind = "manual"\ncategory = "x"\nserves = ["delete"]'
    with pytest.raises(RegistryError) as refused:
        load_registry(write(tmp_path, f"\n[[providers]]\n{entry}\n", disclosure=False))
    assert "providers.2.disclosure: Field required" in str(refused.value)
    reserved = 'name = "access-reports"\nkind = "manual"\ncategory = "x"\nserves = ["delete"]'
    with pytest.raises(RegistryError) as refused:
        load_registry(write(tmp_path, f"\n[[providers]]\n{reserved}\n"))
    assert "'access-reports' is the service's own" in str(refused.value)


def test_shipped_registries_load() -> None:
    shipped = load_registry(ROOT / "config" / "providers.toml")
    deploy = load_registry(ROOT / "config" / "production.toml")
    kinds = {entry.kind for entry in shipped.providers}
    assert kinds == {
        "sql",
        "manual",
        "stripe",
        "sendgrid_contacts",
        "segment",
        "hubspot",
        "zendesk",
        "webhook",
    }
    assert all(e.api.sandbox for e in shipped.providers if e.api is not None)
    assert all(e.api is None for e in deploy.providers)


def test_missing_credential_stops_the_worker_naming_the_variable(tmp_path: Path) -> None:
    entry = api_entry("stripe", "stripe", "https://api.stripe.com")
    with pytest.raises(RegistryError, match="environment variable STRIPE_TOKEN is not set"):
        connector_for(entry, parts({}, tmp_path))


def test_production_refuses_sandbox_providers(tmp_path: Path) -> None:
    settings = load_settings(**PRODUCTION, data_dir=tmp_path)
    with pytest.raises(RegistryError, match="sandbox providers in production: stripe"):
        build_activities(settings, load_registry(ROOT / "config" / "providers.toml"), {})


def test_production_refuses_a_provider_over_plain_http(tmp_path: Path) -> None:
    settings = load_settings(**PRODUCTION, data_dir=tmp_path)
    entry = api_entry("crm", "hubspot", "http://crm.internal.example")
    plain = Registry(
        identity=load_registry(ROOT / "config" / "providers.toml").identity,
        providers=[
            entry.model_copy(update={"api": entry.api.model_copy(update={"sandbox": False})})
        ],  # type: ignore[union-attr]
    )
    with pytest.raises(RegistryError, match="base_url must be https:// in production: crm"):
        build_activities(settings, plain, {"CRM_TOKEN": "t"})


def test_make_run_starts_a_sandbox_for_each_sandbox_entry(tmp_path: Path) -> None:
    shipped = load_registry(ROOT / "config" / "providers.toml")
    entries = []
    for entry in shipped.providers:
        if entry.api is not None:
            local = entry.api.model_copy(update={"base_url": f"http://127.0.0.1:{free_port()}"})
            entry = entry.model_copy(update={"api": local})
        entries.append(entry)
    environ: dict[str, str] = {}
    people = [("maria.lopez@example.com", "Maria Lopez", "1")]

    started = start_sandboxes(entries, environ, people, callback_base_url="http://127.0.0.1:9")
    try:
        assert sorted(s.name for s in started) == sorted(
            ["stripe", "sendgrid_contacts", "segment", "hubspot", "zendesk", "webhook"]
        )
        assert set(environ) == {
            "STRIPE_API_KEY",
            "SENDGRID_MARKETING_API_KEY",
            "SEGMENT_PUBLIC_API_TOKEN",
            "HUBSPOT_PRIVATE_APP_TOKEN",
            "ZENDESK_API_TOKEN",
            "ZENDESK_AGENT_EMAIL",
            "CARE_NOTES_WEBHOOK_SECRET",
        }
        # The worker's connectors reach them with those credentials.
        zendesk = next(e for e in entries if e.kind == "zendesk")
        connector = connector_for(zendesk, parts(environ, tmp_path))
        assert connector is not None
        subject = Subject(request_id="request-1", email=people[0][0])
        outcome = connector.fulfil(subject, ProviderAction.ACCESS)
        assert outcome.status is OutcomeStatus.DONE
    finally:
        for sandbox in started:
            sandbox.stop()
