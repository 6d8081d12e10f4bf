"""Fulfilment across the sandbox providers, through real workflows on the time-skipping server.

The retry policy, the durable poll timers, the escalation of a refusing provider to an operator
task and the callback of an internal system are all exercised here with real workers on each
provider's own task queue.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.fulfilment import heartbeating
from api.app import create_app
from client import rights_requests
from dev.sample_service import accounts
from rights.activity_inputs import ActivityName
from rights.models import OutcomeStatus, ProviderTaskDone, RequestState, RequestStatus
from rights.registry import RateLimit, provider_task_queue
from rights.signatures import signed_headers
from rights.terms import RequestType
from tests.harness import MARIA, Harness, verify_and_reconfirm
from tests.live_server import free_port, serving
from tests.provider_sandboxes import (
    KINDS,
    PAYMENT_RETENTION,
    Provider,
    environ_of,
    registry_with,
    running_provider,
    running_providers,
)
from worker import build_activities, build_workers

# The harness gives Maria the first account id of its fresh service database.
MARIA_IN_PROVIDERS = (MARIA[0], MARIA[1], "1")


def task_open(provider: str) -> Callable[[RequestState], bool]:
    return lambda state: any(task.provider == provider for task in state.open_tasks)


async def test_six_providers_one_refuses_for_good(env: WorkflowEnvironment, tmp_path: Path) -> None:
    with running_providers(KINDS, [MARIA_IN_PROVIDERS]) as providers:
        by_kind = {p.entry.kind: p for p in providers}
        by_kind["zendesk"].sandbox.reject(403)
        by_kind["stripe"].sandbox.fail(429)
        by_kind["hubspot"].sandbox.fail(502, times=2)
        async with Harness.running(
            env, tmp_path, registry=registry_with(providers), environ=environ_of(providers)
        ) as harness:
            with harness.service_engine.connect() as db:
                assert db.execute(sa.select(accounts.c.id)).scalar_one() == 1
            rid = (await harness.submit(RequestType.DELETION)).request_id
            await verify_and_reconfirm(harness, rid)

            others = [p for p in providers if p.entry.kind != "zendesk"]
            await harness.advance_until(
                rid,
                lambda state: (
                    task_open("zendesk")(state)
                    and all(p.sandbox.effective_deletions == 1 for p in others)
                ),
            )
            # The five are done and the run waits only on the operator's Zendesk task.
            state = await harness.status(rid)
            assert state.status is RequestStatus.FULFILLING
            assert [task.provider for task in state.open_tasks] == ["zendesk"]
            assert "zendesk" in harness.text(rid, "operator_task")

            await rights_requests.provider_task_done(
                harness.client,
                rid,
                ProviderTaskDone(
                    provider="zendesk", status=OutcomeStatus.DONE, note="erased by hand in Zendesk"
                ),
            )
            harness.save_history_if_recording(rid, "deletion_six_providers_one_escalated")
            final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    outcomes = {o.provider: o for o in final.provider_outcomes}
    assert {name: o.status for name, o in outcomes.items()} == {
        name: OutcomeStatus.DONE
        for name in ["stripe", "sendgrid-contacts", "segment", "hubspot", "zendesk", "webhook"]
    }
    assert "automated delete failed: ProviderRejected" in outcomes["zendesk"].evidence[0]
    assert outcomes["zendesk"].note == "erased by hand in Zendesk"
    assert any("completed" in line for line in outcomes["sendgrid-contacts"].evidence)
    assert any("FINISHED" in line for line in outcomes["segment"].evidence)
    completed = harness.text(rid, "completed")
    for provider in providers:
        assert f"- {provider.entry.category}: done" in completed
    assert MARIA[0] not in final.model_dump_json()


@asynccontextmanager
async def deletion_at(
    env: WorkflowEnvironment,
    tmp_path: Path,
    kind: str,
    *,
    prepare: Callable[[Provider], None] = lambda provider: None,
    service_database: bool = False,
    **options: Any,
) -> AsyncIterator[tuple[Harness, Provider, str]]:
    """One provider's sandbox holding Maria, a worker, and her deletion verified and confirmed."""
    with running_provider(kind, people=[MARIA_IN_PROVIDERS], **options) as provider:
        prepare(provider)
        registry = registry_with([provider], service_database=service_database)
        async with Harness.running(
            env, tmp_path, registry=registry, environ=provider.environ
        ) as harness:
            rid = (await harness.submit(RequestType.DELETION)).request_id
            await verify_and_reconfirm(harness, rid)
            yield harness, provider, rid


@pytest.mark.parametrize("kind", KINDS)
async def test_a_refusing_provider_becomes_an_operator_task_and_the_rest_goes_on(
    env: WorkflowEnvironment, tmp_path: Path, kind: str
) -> None:
    async with deletion_at(
        env,
        tmp_path,
        kind,
        prepare=lambda provider: provider.sandbox.reject(401),
        service_database=True,
    ) as (harness, provider, rid):
        await harness.wait_for(rid, task_open(provider.entry.name))
        assert provider.sandbox.effective_deletions == 0
        await rights_requests.provider_task_done(
            harness.client,
            rid,
            ProviderTaskDone(
                provider=provider.entry.name,
                status=OutcomeStatus.RETAINED,
                basis="kept under a litigation hold until the case closes",
            ),
        )
        final = await harness.result(rid)

    outcomes = {o.provider: o.status for o in final.provider_outcomes}
    assert outcomes == {
        "service-database": OutcomeStatus.RETAINED,
        provider.entry.name: OutcomeStatus.RETAINED,
    }
    assert final.status is RequestStatus.COMPLETED


async def test_long_job_is_polled_on_timers_without_holding_a_worker(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    def ten_polls(provider: Provider) -> None:
        provider.sandbox.polls_per_job = 10  # type: ignore[attr-defined]

    async with deletion_at(env, tmp_path, "segment", prepare=ten_polls, poll_every_seconds=600) as (
        harness,
        provider,
        rid,
    ):
        await harness.advance_until(
            rid, lambda s: s.status is RequestStatus.COMPLETED, step=timedelta(hours=1)
        )
        history = await harness.handle(rid).fetch_history()

    polls = [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name
        == ActivityName.POLL_PROVIDER_JOB
    ]
    assert len(polls) == 10
    assert {p.activity_task_scheduled_event_attributes.task_queue.name for p in polls} == {
        provider_task_queue(harness.settings.task_queue, "segment")
    }
    # Before each poll the run holds a timer, not an activity slot; the waits double to 6 h.
    waits = []
    timer = None
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timer = event.timer_started_event_attributes.start_to_fire_timeout.ToSeconds()
        elif event in polls:
            assert timer is not None, "a poll without a timer before it"
            waits.append(timer)
            timer = None
    assert waits == [600, 1200, 2400, 4800, 9600, 19200, 21600, 21600, 21600, 21600]
    assert provider.sandbox.effective_deletions == 1


async def test_a_job_that_never_ends_goes_to_an_operator(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    def endless(provider: Provider) -> None:
        provider.sandbox.polls_per_job = 10_000  # type: ignore[attr-defined]

    async with deletion_at(
        env,
        tmp_path,
        "sendgrid_contacts",
        prepare=endless,
        poll_every_seconds=3600,
        job_timeout_days=1,
    ) as (harness, provider, rid):
        await harness.advance_until(
            rid, task_open("sendgrid-contacts"), step=timedelta(hours=1), steps=30
        )
        # Polls after 1, 3, 7, 13, 19 hours (waits doubling to 6 h) and at 24, its timeout.
        assert provider.sandbox.calls_to("GET", "/v3/marketing/contacts/imports/") == 6
        await rights_requests.provider_task_done(
            harness.client,
            rid,
            ProviderTaskDone(provider="sendgrid-contacts", status=OutcomeStatus.DONE),
        )
        harness.save_history_if_recording(rid, "deletion_provider_job_timed_out")
        final = await harness.result(rid)
    [outcome] = final.provider_outcomes
    assert "still pending at its timeout" in outcome.evidence[0]


@asynccontextmanager
async def webhook_behind_the_api(
    env: WorkflowEnvironment, tmp_path: Path, *, api_environ: dict[str, str] | None = None
) -> AsyncIterator[tuple[Harness, Provider, str]]:
    """A callback-mode webhook sandbox, a worker, and the API it calls back, on one port."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with running_provider(
        "webhook", people=[MARIA_IN_PROVIDERS], callback=True, callback_base_url=base_url
    ) as provider:
        registry = registry_with([provider])
        async with Harness.running(
            env, tmp_path, registry=registry, environ=provider.environ
        ) as harness:
            environ = provider.environ if api_environ is None else api_environ
            app = create_app(harness.settings, harness.client, registry=registry, environ=environ)
            async with serving(app, port):
                yield harness, provider, base_url


async def test_internal_system_reports_by_signed_callback(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with webhook_behind_the_api(env, tmp_path) as (harness, provider, base_url):
        rid = (await harness.submit(RequestType.DELETION)).request_id
        await verify_and_reconfirm(harness, rid)
        sandbox = provider.sandbox
        await harness.wait_for(
            rid,
            lambda s: bool(sandbox.pending),  # type: ignore[attr-defined]
        )
        job_id = sandbox.pending[0]["job_id"]  # type: ignore[attr-defined]

        async with httpx.AsyncClient(base_url=base_url) as http:
            url = "/v1/providers/webhook/callbacks"
            forged = b'{"request_id": "%s", "job_id": "%s", "result": "done"}' % (
                rid.encode(),
                job_id.encode(),
            )
            wrong_key = await http.post(
                url, content=forged, headers=signed_headers("wrong-secret", forged, now=time.time())
            )
            assert wrong_key.status_code == 401
            unknown = await http.post(
                "/v1/providers/nobody/callbacks",
                content=forged,
                headers=signed_headers("x", forged, now=time.time()),
            )
            assert unknown.status_code == 404
            other_job = forged.replace(job_id.encode(), b"job-999")
            secret = provider.environ["WEBHOOK_TOKEN"]
            refused = await http.post(
                url, content=other_job, headers=signed_headers(secret, other_job, now=time.time())
            )
            assert refused.status_code == 409
            assert refused.json()["errors"][0]["field"] == "job_id"
            incomplete = b'{"request_id": "%s", "result": "done"}' % rid.encode()
            invalid = await http.post(
                url, content=incomplete, headers=signed_headers(secret, incomplete, now=time.time())
            )
            assert invalid.status_code == 422
            assert invalid.json()["errors"][0]["field"] == "job_id"

            assert await asyncio.to_thread(sandbox.send_callbacks) == 1  # type: ignore[attr-defined]
            harness.save_history_if_recording(rid, "deletion_webhook_callback")
            final = await harness.result(rid)

            # The sender retries until it hears 2xx: a repeat for the job, after the run has
            # ended too, is acknowledged with the first one's answer and changes nothing.
            replay = await http.post(
                url, content=forged, headers=signed_headers(secret, forged, now=time.time())
            )
            assert replay.status_code == 200, replay.text
            assert replay.json()["request_id"] == rid
            assert (await harness.status(rid)).provider_outcomes == final.provider_outcomes

    [outcome] = final.provider_outcomes
    assert outcome.status is OutcomeStatus.DONE
    assert outcome.evidence[-2:] == [f"job {job_id}: callback done", f"{job_id}: purged"]
    assert provider.sandbox.effective_deletions == 1


async def test_a_callback_that_beats_the_202_is_kept_for_its_job(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with webhook_behind_the_api(env, tmp_path) as (harness, provider, _):
        provider.sandbox.callback_first = True  # type: ignore[attr-defined]
        rid = (await harness.submit(RequestType.DELETION)).request_id
        await verify_and_reconfirm(harness, rid)
        final = await harness.result(rid)
    [outcome] = final.provider_outcomes
    assert outcome.status is OutcomeStatus.DONE
    assert outcome.evidence[0] == "sandbox provider, not the real API"
    assert outcome.evidence[-2] == "job job-1: callback done"


async def test_callback_evidence_is_masked_and_settled_by_the_connector(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with (
        webhook_behind_the_api(env, tmp_path) as (harness, provider, base_url),
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        rid = (await harness.submit(RequestType.DELETION)).request_id
        await verify_and_reconfirm(harness, rid)
        sandbox = provider.sandbox
        await harness.wait_for(rid, lambda s: bool(sandbox.pending))  # type: ignore[attr-defined]
        job_id = sandbox.pending[0]["job_id"]  # type: ignore[attr-defined]
        said = f"notes of {MARIA[1]} <{MARIA[0]}> purged"
        body = json.dumps(
            {"request_id": rid, "job_id": job_id, "result": "done", "evidence": [said]}
        ).encode()
        secret = provider.environ["WEBHOOK_TOKEN"]
        answer = await http.post(
            "/v1/providers/webhook/callbacks",
            content=body,
            headers=signed_headers(secret, body, now=time.time()),
        )
        assert answer.status_code == 200, answer.text
        final = await harness.result(rid)
    [outcome] = final.provider_outcomes
    assert outcome.evidence[-1] == "notes of [redacted] <[email]> purged"
    assert MARIA[1] not in final.model_dump_json()


async def test_the_account_id_survives_the_sql_provider_masking_the_email(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # Segment's first call fails, so its retry runs after the service database has masked
    # the email the account is found by: the id must come from before any provider acted.
    async with deletion_at(
        env,
        tmp_path,
        "segment",
        prepare=lambda provider: provider.sandbox.fail(503),
        service_database=True,
    ) as (harness, provider, rid):
        final = await harness.advance_until(rid, lambda s: s.status is RequestStatus.COMPLETED)
        with harness.service_engine.connect() as db:
            masked = db.execute(sa.select(accounts.c.email)).scalar_one()
    assert masked == "deleted-1@deleted.invalid"
    outcomes = {o.provider: o for o in final.provider_outcomes}
    assert outcomes["segment"].status is OutcomeStatus.DONE
    assert provider.sandbox.effective_deletions == 1


async def test_callbacks_without_the_providers_secret_are_refused(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with (
        webhook_behind_the_api(env, tmp_path, api_environ={}) as (_, _, base_url),
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        body = b'{"request_id": "r", "job_id": "j", "result": "done"}'
        answer = await http.post(
            "/v1/providers/webhook/callbacks",
            content=body,
            headers=signed_headers("any", body, now=time.time()),
        )
    assert answer.status_code == 503
    assert answer.json()["errors"][0]["field"] == "provider"


async def test_registry_retention_rule_reaches_the_response(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with deletion_at(env, tmp_path, "stripe", retained=[PAYMENT_RETENTION]) as (
        harness,
        _,
        rid,
    ):
        final = await harness.result(rid)
        completed = harness.text(rid, "completed")
    assert [o.status for o in final.provider_outcomes] == [OutcomeStatus.RETAINED]
    assert f"payment transactions: the law requires us to keep it: {PAYMENT_RETENTION.basis}" in (
        completed
    )


async def test_each_provider_queue_carries_the_registrys_rate_limit(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    with running_provider("hubspot") as provider:
        provider.entry = provider.entry.model_copy(
            update={"rate": RateLimit(per_second=9.5, concurrency=3)}
        )
        registry = registry_with([provider], service_database=True)
        async with Harness.running(
            env, tmp_path, registry=registry, environ=provider.environ, activity_concurrency=7
        ) as harness:
            activities = build_activities(harness.settings, registry, provider.environ)
            workers = build_workers(
                env.client, harness.settings, activities, task_queue="rate-limits"
            )
    configs = {w.task_queue: w.config() for w in workers}
    queue = provider_task_queue("rate-limits", "hubspot")
    own_database = provider_task_queue("rate-limits", "service-database")
    assert set(configs) == {"rate-limits", queue, own_database}
    assert configs[queue]["max_task_queue_activities_per_second"] == 9.5
    assert configs[queue]["max_concurrent_activities"] == 3
    # Our own database states no limit: none on the server, the worker's concurrency.
    assert configs[own_database].get("max_task_queue_activities_per_second") is None
    assert configs[own_database]["max_concurrent_activities"] == 7
    assert configs["rate-limits"].get("max_task_queue_activities_per_second") is None


def test_a_provider_call_heartbeats_while_it_runs() -> None:
    # A worker killed mid-call is noticed when these stop (the workflow's heartbeat timeout),
    # not when the five-minute start-to-close runs out.
    beats: list[float] = []
    beaten = threading.Event()
    environment = ActivityEnvironment()

    def on_heartbeat(*details: Any) -> None:
        beats.append(time.monotonic())
        if len(beats) >= 3:
            beaten.set()

    environment.on_heartbeat = on_heartbeat

    def provider_call() -> bool:
        with heartbeating(every=0.01):
            return beaten.wait(timeout=10)

    assert environment.run(provider_call), "no heartbeat reached the activity's context"
    assert len(beats) >= 3
