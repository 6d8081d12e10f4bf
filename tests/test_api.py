"""The HTTP door as intake systems and requesters use it, over a real worker and Temporal."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)

from api.app import create_app
from client import rights_requests
from dev.sample_service import messages
from rights.models import OutcomeStatus, ProviderTaskDone, RequestStatus
from stores.records import intake_idempotency
from tests.conftest import start_dev_server
from tests.harness import INTAKE_KEY, MARIA, Harness

AUTH = {"Authorization": f"Bearer {INTAKE_KEY}"}


def body(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "type": "deletion",
        "requester": {"email": MARIA[0], "full_name": MARIA[1], "residence": "US-CA"},
        "channel": "web_form",
    }
    request.update(changes)
    return request


class StartRecorder(Interceptor):
    """Notes every workflow start the app's client attempts, and each one that made a run."""

    def __init__(self) -> None:
        self.attempted: list[str] = []
        self.started: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        recorder = self

        class Recording(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
                recorder.attempted.append(input.id)
                handle = await super().start_workflow(input)
                recorder.started.append(input.id)
                return handle

        return Recording(next)


@pytest.fixture
def starts() -> StartRecorder:
    return StartRecorder()


@pytest.fixture
async def api(harness: Harness, starts: StartRecorder) -> AsyncIterator[httpx.AsyncClient]:
    """The API and pages over a client that notes every start it attempts."""
    config = harness.client.config()
    config["interceptors"] = [starts]
    async with harness.pages(Client(**config)) as http:
        yield http


async def test_deletion_through_intake_links_and_pages(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    http = api
    accepted = await http.post("/v1/requests", json=body(), headers=AUTH)
    assert accepted.status_code == 202, accepted.text
    rid = accepted.json()["request_id"]
    harness.track(rid)
    assert accepted.json()["workflow_id"] == f"rights-request-{rid}"
    assert accepted.json()["status_url"].endswith(f"/v1/requests/{rid}")

    await harness.wait_for_notice(rid, "verification")
    assert harness.notice_kinds(rid)[0] == "receipt"
    verify = harness.link_path(rid, "verification")
    form = await http.get(verify)
    assert form.status_code == 200 and "Confirm my identity" in form.text
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert form.headers["Cache-Control"] == "no-store"
    assert form.headers["X-Frame-Options"] == "DENY"
    assert (await harness.status(rid)).status is RequestStatus.AWAITING_VERIFICATION
    token = verify.split("token=")[1]
    verified = await http.post(verify.split("?")[0], data={"token": token, "phone": MARIA[2]})
    assert verified.status_code == 200 and "we have confirmed it is you" in verified.text

    await harness.wait_for_notice(rid, "deletion_reconfirmation")
    confirm = harness.link_path(rid, "deletion_reconfirmation")
    assert "Yes, delete my data" in (await http.get(confirm)).text
    assert (await harness.status(rid)).status is RequestStatus.AWAITING_RECONFIRMATION
    done = await http.post(confirm.split("?")[0], data={"token": confirm.split("token=")[1]})
    assert done.status_code == 200 and "Deletion confirmed" in done.text
    used_again = await http.post(confirm.split("?")[0], data={"token": confirm.split("token=")[1]})
    assert used_again.status_code == 410 and "no longer valid" in used_again.text

    await harness.wait_for(rid, lambda s: bool(s.open_tasks))
    await rights_requests.provider_task_done(
        harness.client, rid, ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.DONE)
    )
    assert (await harness.result(rid)).status is RequestStatus.COMPLETED
    assert harness.notice_kinds(rid)[-1] == "completed"
    status = await http.get(f"/v1/requests/{rid}", headers=AUTH)
    assert status.status_code == 200 and status.json()["status"] == "completed"
    assert MARIA[0] not in status.text and MARIA[1] not in status.text


async def test_wrong_or_malformed_tokens_are_clear_pages_and_use_no_attempt(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    http = api
    rid = (await http.post("/v1/requests", json=body(), headers=AUTH)).json()["request_id"]
    harness.track(rid)
    await harness.wait_for_notice(rid, "verification")

    wrong = await http.post(f"/r/{rid}/verify", data={"token": "x" * 43, "phone": MARIA[2]})
    malformed = await http.post(f"/r/{rid}/verify", data={"token": "short"})
    non_ascii = await http.post(f"/r/{rid}/verify", data={"token": "é" * 43})
    unknown = await http.post(
        "/r/00000000-0000-4000-8000-000000000000/verify", data={"token": "x" * 43}
    )
    not_ours = await http.post("/r/..%2F..%2Fetc/verify", data={"token": "x" * 43})

    assert wrong.status_code == 403 and "not valid for this request" in wrong.text
    assert "no attempt was used" in wrong.text
    assert malformed.status_code == 400 and "not in the expected form" in malformed.text
    assert non_ascii.status_code == 400
    assert unknown.status_code == 404 and not_ours.status_code == 404
    assert (await harness.status(rid)).verification_attempts == 0
    token = harness.link_path(rid, "verification").split("token=")[1]
    right = await http.post(f"/r/{rid}/verify", data={"token": token, "phone": MARIA[2]})
    assert right.status_code == 200
    assert (await harness.status(rid)).verification_attempts == 1


async def test_wrong_tokens_are_throttled_and_logged_without_the_token(
    harness: Harness, api: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    http = api
    rid = (await http.post("/v1/requests", json=body(), headers=AUTH)).json()["request_id"]
    harness.track(rid)
    await harness.wait_for_notice(rid, "verification")
    limit = harness.settings.wrong_token_limit_per_request
    guesses = [f"guess{n:038d}" for n in range(limit + 1)]

    answers = [
        (await http.post(f"/r/{rid}/verify", data={"token": guess})).status_code
        for guess in guesses
    ]
    token = harness.link_path(rid, "verification").split("token=")[1]
    right_but_throttled = await http.post(
        f"/r/{rid}/verify", data={"token": token, "phone": MARIA[2]}
    )

    assert answers == [403] * limit + [429]
    assert (
        right_but_throttled.status_code == 429 and "Too many attempts" in right_but_throttled.text
    )
    logged = capsys.readouterr()
    lines = [line for line in (logged.out + logged.err).splitlines() if "wrong_link_token" in line]
    assert len(lines) == limit
    assert all(rid in line for line in lines)
    assert not any(guess in logged.out + logged.err for guess in guesses)
    assert not any("127.0.0.1" in line for line in lines)  # a pseudonym, not the address
    assert (await harness.status(rid)).verification_attempts == 0


async def test_wrong_tokens_from_one_address_are_throttled_across_requests(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    http = api
    limit = harness.settings.wrong_token_limit_per_address
    statuses = [
        (
            await http.post(f"/r/{uuid.uuid4()}/confirm-deletion", data={"token": f"guess{n:038d}"})
        ).status_code
        for n in range(limit + 1)
    ]
    assert statuses == [404] * limit + [429]


async def test_access_report_link_serves_the_report_until_it_expires(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    http = api
    rid = (await http.post("/v1/requests", json=body(type="access"), headers=AUTH)).json()[
        "request_id"
    ]
    harness.track(rid)
    await harness.wait_for_notice(rid, "verification")
    verify = harness.link_path(rid, "verification")
    await http.post(
        verify.split("?")[0], data={"token": verify.split("token=")[1], "phone": MARIA[2]}
    )
    await harness.wait_for(rid, lambda s: bool(s.open_tasks))
    await rights_requests.provider_task_done(
        harness.client,
        rid,
        ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.NOT_FOUND),
    )
    await harness.result(rid)
    report = harness.link_path(rid, "completed")

    page = await http.get(report)
    as_json = await http.get(report + "&format=json")
    no_zip = await http.get(report + "&format=zip")
    wrong = await http.get(report[:-3] + "abc")
    manifest_path = harness.settings.reports_dir / rid / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["expires_at"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    manifest_path.write_text(json.dumps(manifest))
    expired = await http.get(report)

    assert page.status_code == 200 and "What we hold about you" in page.text
    assert "appointments (2)" in page.text and MARIA[1] not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    categories = {item["provider"]: item for item in as_json.json()["categories"]}
    assert categories["service-database"]["holds"] == "yes"
    assert no_zip.status_code == 404
    assert wrong.status_code == 403 and MARIA[1] not in wrong.text
    assert expired.status_code == 410


async def test_portability_downloads_csv_files_safe_to_open(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    http = api
    with harness.service_engine.begin() as db:
        db.execute(
            messages.insert().values(
                account_id=1,
                sent_at=datetime(2025, 3, 6, tzinfo=UTC),
                direction="in",
                body='=HYPERLINK("https://evil.example","lab results")',
            )
        )
    rid = (await http.post("/v1/requests", json=body(type="portability"), headers=AUTH)).json()[
        "request_id"
    ]
    harness.track(rid)
    await harness.wait_for_notice(rid, "verification")
    verify = harness.link_path(rid, "verification")
    await http.post(
        verify.split("?")[0],
        data={
            "token": verify.split("token=")[1],
            "phone": MARIA[2],
            "date_of_birth": MARIA[3],
            "declaration": "yes",
        },
    )
    await harness.wait_for(rid, lambda s: bool(s.open_tasks))
    await rights_requests.provider_task_done(
        harness.client,
        rid,
        ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.NOT_FOUND),
    )
    await harness.result(rid)
    report = harness.link_path(rid, "completed")

    page = await http.get(report)
    download = await http.get(report + "&format=zip")

    assert "format=zip" in page.text and "Maria" in page.text
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert "report.json" in archive.namelist()
    rows = list(
        csv.DictReader(io.StringIO(archive.read("csv/service-database-messages.csv").decode()))
    )
    assert len(rows) == 3
    assert rows[-1]["body"] == "'" + '=HYPERLINK("https://evil.example","lab results")'
    assert {
        row["email"]
        for row in csv.DictReader(
            io.StringIO(archive.read("csv/service-database-accounts.csv").decode())
        )
    } == {MARIA[0]}


async def test_an_intake_no_law_covers_is_answered_not_refused(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    """A resident of Japan is not covered by a law we apply: told so, by notice, and recorded."""
    http = api
    requester = {"email": MARIA[0], "full_name": MARIA[1], "residence": "JP"}
    response = await http.post("/v1/requests", json=body(requester=requester), headers=AUTH)

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "not_granted"
    assert "no law this service applies covers" in accepted["note"]
    harness.track(accepted["request_id"])
    final = await harness.result(accepted["request_id"])
    assert final.status is RequestStatus.NOT_GRANTED and final.jurisdiction == "uncovered"
    assert harness.notice_kinds(accepted["request_id"]) == ["not_granted"]


def no_run_started(harness: Harness, starts: StartRecorder) -> None:
    assert starts.attempted == []
    with harness.records_engine.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(intake_idempotency)).scalar() == 0


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"requester": {"email": "not-an-email", "full_name": "A", "residence": "US-CA"}},
         "requester.email", "not a valid email address"),
        ({"type": "erasure"}, "type", "Input should be 'access', 'deletion'"),
        ({"jurisdiction": "US-NY"}, "jurisdiction", "Input should be 'US-CA'"),
        ({"requester": {"email": MARIA[0], "full_name": MARIA[1], "residence": "US-ZZ"}},
         "requester.residence", "give the US state as US-XX"),
        ({"requester": {"email": MARIA[0], "full_name": MARIA[1], "residence": "QQ"}},
         "requester.residence", "names no ISO 3166 country"),
        ({"requester": {"email": MARIA[0], "full_name": MARIA[1]}, "jurisdiction": None},
         "jurisdiction", "give a jurisdiction or the requester's residence"),
        ({"requester": {"email": MARIA[0], "residence": "US-CA"}},
         "requester.full_name", "Field required"),
        ({"details": "x" * 5001}, "details", "at most 5000 characters"),
        ({"type": "appeal", "appeal_of": "req-00000001"},
         "details", "an appeal gives the requester's reasons"),
        ({"type": "appeal", "details": "I disagree"},
         "appeal_of", "an appeal names the request it appeals"),
        ({"corrections": [{"field": "phone", "corrected_value": "1"}]},
         "corrections", "only a correction request may carry corrections"),
        ({"requester": {"email": MARIA[0], "full_name": "Maria\nClick here", "residence": "US-CA"}},
         "requester.full_name", "must be one line without control characters"),
        ({"requester": {"email": MARIA[0], "full_name": "Maria \u202ezepol", "residence": "US-CA"}},
         "requester.full_name", "must be one line without control characters"),
        ({"requester": {"email": MARIA[0], "full_name": "see https://evil.example",
                        "residence": "US-CA"}},
         "requester.full_name", "must not contain a web address"),
        ({"agent": {"email": "dana@agents.example.org", "full_name": "www.agent.example"}},
         "agent.full_name", "must not contain a web address"),
        ({"agent": {"email": "dana@agents.example.org", "full_name": "Dana",
                    "authorization_url": "javascript:alert(1)"}},
         "agent.authorization_url", "must be an http:// or https:// address"),
    ],
)  # fmt: skip
async def test_bad_intake_is_422_naming_the_field_and_starts_nothing(
    harness: Harness,
    api: httpx.AsyncClient,
    starts: StartRecorder,
    changes: dict[str, Any],
    field: str,
    problem: str,
) -> None:
    http = api
    response = await http.post(
        "/v1/requests", json=body(**changes), headers={**AUTH, "Idempotency-Key": "k-1"}
    )

    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and problem in e["problem"] for e in errors), errors
    assert "not-an-email" not in response.text
    no_run_started(harness, starts)


async def test_unauthorized_oversized_malformed_and_unknown(
    harness: Harness, api: httpx.AsyncClient, starts: StartRecorder
) -> None:
    http = api
    missing = await http.post("/v1/requests", json=body())
    wrong = await http.post("/v1/requests", json=body(), headers={"Authorization": "Bearer nope"})
    huge = await http.post(
        "/v1/requests",
        content=b'{"details": "' + b"x" * harness.settings.max_body_bytes + b'"}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    not_json = await http.post(
        "/v1/requests", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    unknown = await http.get("/v1/requests/no-such-request", headers=AUTH)
    status_unauthorized = await http.get("/v1/requests/no-such-request")

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert "intake API key" in missing.json()["errors"][0]["problem"]
    assert huge.status_code == 413 and huge.json()["errors"][0]["field"] == "body"
    assert not_json.status_code == 422
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "request_id"
    assert status_unauthorized.status_code == 401
    no_run_started(harness, starts)


async def test_idempotency_key_returns_the_same_request_or_409(
    harness: Harness, api: httpx.AsyncClient, starts: StartRecorder
) -> None:
    http = api
    headers = {**AUTH, "Idempotency-Key": "intake-retry-7"}

    first = await http.post("/v1/requests", json=body(type="opt_out"), headers=headers)
    retried = await http.post("/v1/requests", json=body(type="opt_out"), headers=headers)
    different = await http.post("/v1/requests", json=body(type="access"), headers=headers)

    assert first.status_code == retried.status_code == 202
    assert first.json()["request_id"] == retried.json()["request_id"]
    harness.track(first.json()["request_id"])
    assert different.status_code == 409
    assert different.json()["errors"][0]["field"] == "Idempotency-Key"
    assert set(starts.started) == {f"rights-request-{first.json()['request_id']}"}
    described = await harness.handle(first.json()["request_id"]).describe()
    assert described.workflow_type == "RightsRequestWorkflow"


async def test_simultaneous_identical_submissions_get_one_request(
    harness: Harness, api: httpx.AsyncClient, starts: StartRecorder
) -> None:
    """Five bursts of twenty: a lost race between look-up and insert shows in one of them."""
    http = api
    started: set[str] = set()
    for burst in range(5):
        headers = {**AUTH, "Idempotency-Key": f"burst-{burst}"}
        answers = await asyncio.gather(
            *(
                http.post("/v1/requests", json=body(type="opt_out"), headers=headers)
                for _ in range(20)
            )
        )

        assert [answer.status_code for answer in answers] == [202] * 20
        ids = {answer.json()["request_id"] for answer in answers}
        assert len(ids) == 1
        (rid,) = ids
        harness.track(rid)
        started.add(f"rights-request-{rid}")
    assert set(starts.started) == started


async def test_idempotency_keys_belong_to_the_intake_system_that_sent_them(
    harness: Harness,
) -> None:
    second_key = "second-intake-system-key-0123456789"
    settings = harness.settings.model_copy(
        update={"intake_api_keys": SecretStr(f"{INTAKE_KEY},{second_key}")}
    )
    app = create_app(settings, harness.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            same_key = {"Idempotency-Key": "order-1"}
            first = await http.post(
                "/v1/requests", json=body(type="opt_out"), headers={**AUTH, **same_key}
            )
            other = await http.post(
                "/v1/requests",
                json=body(type="opt_out"),
                headers={"Authorization": f"Bearer {second_key}", **same_key},
            )
    assert first.status_code == other.status_code == 202
    assert first.json()["request_id"] != other.json()["request_id"]
    for answer in (first, other):
        harness.track(answer.json()["request_id"])
    with harness.records_engine.connect() as db:
        stored = db.execute(sa.select(intake_idempotency.c.key_hash)).scalars().all()
    assert "order-1" not in "".join(stored) and len(set(stored)) == 2


async def until_healthy(http: httpx.AsyncClient, seconds: float = 20) -> httpx.Response:
    """The worker's first poll reaches the server shortly after it starts: wait for it."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + seconds
    while True:
        response = await http.get("/healthz")
        if response.status_code == 200 or loop.time() > give_up:
            return response
        await asyncio.sleep(0.1)


async def test_healthz_reports_workers_polling_on_a_real_dev_server(tmp_path: Path) -> None:
    """The time-skipping server has no DescribeTaskQueue, so this one runs on the dev server."""
    async with (
        await start_dev_server() as dev,
        Harness.running(dev, tmp_path) as harness,
    ):
        app = create_app(harness.settings, harness.client)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                healthy = await until_healthy(http)
        idle = create_app(
            harness.settings.model_copy(update={"task_queue": "no-worker-here"}),
            harness.client,
        )
        async with idle.router.lifespan_context(idle):
            transport = httpx.ASGITransport(app=idle)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                no_worker = await http.get("/healthz")

    assert healthy.status_code == 200 and healthy.json()["workers"] >= 1, healthy.json()
    assert no_worker.status_code == 503 and no_worker.json() == {"temporal": "ok", "workers": 0}


async def test_specific_pieces_form_asks_for_the_stronger_standard(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    http = api
    stronger = body(type="access", specific_pieces=True)
    rid = (await http.post("/v1/requests", json=stronger, headers=AUTH)).json()["request_id"]
    plain = (await http.post("/v1/requests", json=body(), headers=AUTH)).json()["request_id"]
    harness.track(rid)
    harness.track(plain)
    await harness.wait_for_notice(rid, "verification")
    await harness.wait_for_notice(plain, "verification")

    specific = await http.get(harness.link_path(rid, "verification"))
    reasonable = await http.get(harness.link_path(plain, "verification"))

    assert "give\n2 of these details" in specific.text
    assert "penalty of perjury" in specific.text and 'name="declaration"' in specific.text
    assert "give\n1 of these details" in reasonable.text
    assert "penalty of perjury" not in reasonable.text
