"""What a test drives: a real worker on its own task queue, its outbox and its databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tomllib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.providers.kinds import load_registry
from api.app import create_app
from client import correspondence, rights_requests
from dev.sample_service import SAMPLE_PEOPLE, accounts, add_person, create_service_schema
from rights.activity_inputs import report_expiry_id
from rights.codec import EncryptionCodec, format_keys, parse_keys
from rights.correspondence import (
    ComplaintReply,
    CorrespondenceState,
    CorrespondenceStatus,
    TriageDone,
    correspondence_workflow_id,
)
from rights.models import (
    Agent,
    AppealDecision,
    AppealOutcome,
    Channel,
    CorrectionItem,
    DataPoint,
    DenyInput,
    NewRequest,
    ReconfirmationAnswer,
    Requester,
    RequestState,
    RequestStatus,
    RightsRequest,
    VerificationAnswer,
    VerificationOutcome,
)
from rights.registry import Registry
from rights.settings import Settings, load_settings
from rights.terms import Jurisdiction, RequestType
from worker import build_activities, build_workers

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "tests" / "histories"
# The public base URL links in notices point to, and the in-process pages answer on.
PAGES = "http://127.0.0.1:8000"
TOKEN_IN_LINK = re.compile(r"\?token=([A-Za-z0-9_-]+)")

MARIA = SAMPLE_PEOPLE[0]

# Fixed, test-only keys: the saved histories in tests/histories/ are sealed with them.
TEST_PAYLOAD_KEYS = format_keys([("test-1", bytes(range(32)))])
TEST_CODEC = EncryptionCodec(*parse_keys(TEST_PAYLOAD_KEYS))
INTAKE_KEY = "test-intake-key-0123456789"
# Settings production accepts: secrets of 32 bytes or more, links over HTTPS.
PRODUCTION: dict[str, Any] = {
    "_env_file": None,
    "app_env": "production",
    "link_token_secret": "link-secret-" + "s" * 32,
    "payload_keys": TEST_PAYLOAD_KEYS,
    "intake_api_keys": "intake-key-" + "i" * 32,
    "codec_operator_token": "operator-token-" + "o" * 32,
    "public_base_url": "https://privacy.health.example",
}


def release() -> str:
    """The version being built, as `pyproject.toml` gives it (installed metadata may lag)."""
    with (ROOT / "pyproject.toml").open("rb") as project:
        version: str = tomllib.load(project)["project"]["version"]
        return version


def default_registry(*, manual: bool = True) -> Registry:
    """The shipped registry's service database (and paper archive): no sandbox APIs."""
    registry = load_registry(ROOT / "config" / "providers.toml")
    kinds = {"sql", "manual"} if manual else {"sql"}
    return registry.model_copy(
        update={"providers": [p for p in registry.providers if p.kind in kinds]}
    )


class Harness:
    def __init__(
        self, env: WorkflowEnvironment, settings: Settings, client: Client | None = None
    ) -> None:
        self.env = env
        self.client = client or env.client
        self.settings = settings
        self.service_engine = sa.create_engine(settings.service_url)
        self.records_engine = sa.create_engine(settings.records_url)
        self._to_record: list[tuple[str, str]] = []
        self._submitted: list[str] = []
        self._messages: list[str] = []

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        env: WorkflowEnvironment,
        data_dir: Path,
        *,
        registry: Registry | None = None,
        environ: dict[str, str] | None = None,
        client: Client | None = None,
        **overrides: Any,
    ) -> AsyncIterator[Harness]:
        settings = load_settings(
            **{
                "_env_file": None,
                "data_dir": data_dir,
                "task_queue": f"rights-{uuid.uuid4().hex[:8]}",
                "link_token_secret": "test-link-secret-0123456789abcdef",
                "payload_keys": TEST_PAYLOAD_KEYS,
                "intake_api_keys": INTAKE_KEY,
                # The shared server's clock starts at the wall clock: counting receipt days in
                # UTC keeps every test's dates the same whatever the hour it runs at
                # (tests/test_state_law_runs.py runs in the business's own time zone).
                "business_timezone": "UTC",
                # Every call the workflows make is checked against the sandbox's restrictions.
                "workflow_sandbox_strict": True,
                **overrides,
            }
        )
        harness = cls(env, settings, client)
        create_service_schema(harness.service_engine)
        with harness.service_engine.connect() as db:
            if db.execute(sa.select(accounts.c.id)).first() is None:
                add_person(harness.service_engine, *MARIA)
        activities = build_activities(settings, registry or default_registry(), environ or {})
        async with contextlib.AsyncExitStack() as workers:
            for worker in build_workers(harness.client, settings, activities):
                await workers.enter_async_context(worker)
            try:
                yield harness
                await harness.write_recorded_histories()
            finally:
                await harness.close_leftovers()
        harness.service_engine.dispose()
        harness.records_engine.dispose()

    async def submit(
        self,
        type: RequestType,
        *,
        jurisdiction: Jurisdiction = Jurisdiction.US_CA,
        residence: str | None = None,
        email: str = MARIA[0],
        full_name: str = MARIA[1],
        agent: Agent | None = None,
        specific_pieces: bool = False,
        corrections: list[CorrectionItem] | None = None,
        request_id: str | None = None,
        received_at: datetime | None = None,
    ) -> RightsRequest:
        new = NewRequest(
            type=type,
            jurisdiction=jurisdiction,
            requester=Requester(
                full_name=full_name, email=email, residence=residence or jurisdiction.value
            ),
            agent=agent,
            channel=Channel.WEB_FORM,
            specific_pieces=specific_pieces,
            corrections=corrections or [],
        )
        # The time-skipping server's clock is shared by all tests and runs ahead of the wall
        # clock once a test skips time, so receipt is stamped with the server's own time.
        request = await rights_requests.submit_request(
            self.client,
            self.settings,
            new,
            request_id=request_id,
            received_at=received_at or await self.env.get_current_time(),
        )
        self.track(request.request_id)
        return request

    @asynccontextmanager
    async def pages(self, client: Client | None = None) -> AsyncIterator[httpx.AsyncClient]:
        """The service's API and requester pages, in process, on this harness's Temporal.

        Receipt is stamped with the test server's time, which runs ahead of the wall clock
        once a test skips time (so a deadline counted from it is not already past there).
        """
        ahead = await self.env.get_current_time() - datetime.now(UTC)
        app = create_app(
            self.settings, client or self.client, clock=lambda: datetime.now(UTC) + ahead
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=PAGES) as http:
                yield http

    def link_path(self, request_id: str, kind: str) -> str:
        """The path and query of the link in the request's last `kind` notice."""
        found = re.search(r"http://127\.0\.0\.1:8000(/r/\S+)", self.text(request_id, kind))
        assert found, f"no link in {kind}"
        return found.group(1)

    def handle(self, request_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(rights_requests.workflow_id(request_id))

    async def status(self, request_id: str) -> RequestState:
        return await rights_requests.request_status(self.client, request_id)

    async def wait_for(
        self, request_id: str, condition: Callable[[RequestState], bool], *, seconds: float = 30
    ) -> RequestState:
        """Poll the status query until `condition` holds: waits on a condition, not a clock."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + seconds
        while True:
            state = await self.status(request_id)
            if condition(state):
                return state
            if loop.time() > give_up:
                raise AssertionError(f"condition not reached; last state: {state.model_dump()}")
            await asyncio.sleep(0.05)

    async def advance_until(
        self,
        request_id: str,
        condition: Callable[[RequestState], bool],
        *,
        step: timedelta = timedelta(seconds=5),
        steps: int = 100,
    ) -> RequestState:
        """Skip time a step at a time (poll timers, retry backoff) until `condition` holds."""
        for _ in range(steps):
            state = await self.status(request_id)
            if condition(state):
                return state
            await self.env.sleep(step)
        raise AssertionError(f"not reached after {steps} steps: {state.model_dump()}")

    async def wait_for_status(self, request_id: str, status: RequestStatus) -> RequestState:
        return await self.wait_for(request_id, lambda state: state.status is status)

    async def wait_for_notice(self, request_id: str, kind: str, count: int = 1) -> RequestState:
        return await self.wait_for(
            request_id,
            lambda state: sum(n.kind.value == kind for n in state.notices) >= count,
        )

    def track(self, request_id: str) -> None:
        """A run started outside `submit` (over HTTP, by the CLI) that this test owns."""
        self._submitted.append(request_id)

    def track_message(self, correspondence_id: str) -> None:
        """A correspondence run this test started (by email): closed when the test ends."""
        self._messages.append(correspondence_id)

    async def message_status(self, correspondence_id: str) -> CorrespondenceState:
        return await correspondence.correspondence_status(self.client, correspondence_id)

    async def wait_for_message(
        self, correspondence_id: str, condition: Callable[[CorrespondenceState], bool]
    ) -> CorrespondenceState:
        """Poll the correspondence's status query until `condition` holds."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 30
        while True:
            state = await self.message_status(correspondence_id)
            if condition(state):
                return state
            if loop.time() > give_up:
                raise AssertionError(f"condition not reached; last state: {state.model_dump()}")
            await asyncio.sleep(0.05)

    def release(self, request_id: str) -> None:
        """Leave this run open when the harness stops: it must outlive this worker."""
        self._submitted.remove(request_id)

    async def close_leftovers(self) -> None:
        """Deny the runs a test left open, so no timers of theirs outlive the test.

        Not `terminate`: the time-skipping test server keeps its clock locked after a run with
        completed Updates is terminated, which stalls every later test's time skipping.
        """
        for correspondence_id in self._messages:
            await self._close_message(correspondence_id)
        for request_id in self._submitted:
            # A report's expiry timer waits for days on this test's task queue, whose worker
            # is about to stop: left running, its timer would hold the shared clock.
            expiry = self.client.get_workflow_handle(report_expiry_id(request_id))
            with contextlib.suppress(RPCError):
                if (await expiry.describe()).status is WorkflowExecutionStatus.RUNNING:
                    await expiry.terminate("the test that started it is over")
            description = await self.handle(request_id).describe()
            if description.status is not WorkflowExecutionStatus.RUNNING:
                continue
            # Refused: it is closing or closed; unknown: it ended since it was described.
            with contextlib.suppress(
                rights_requests.RequestRefused, rights_requests.UnknownRequest
            ):
                await rights_requests.deny(
                    self.client, request_id, DenyInput(reason="closed at the end of the test")
                )
            await self._close_appeal(request_id)
            await self.result(request_id)

    async def _close_message(self, correspondence_id: str) -> None:
        """Answer or triage what a test left waiting, and let its run end."""
        handle = self.client.get_workflow_handle(correspondence_workflow_id(correspondence_id))
        if (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING:
            return
        state = await self.wait_for_message(
            correspondence_id,
            lambda s: s.status is not CorrespondenceStatus.SENT or bool(s.closed_at),
        )
        with contextlib.suppress(rights_requests.RequestRefused):
            if state.status is CorrespondenceStatus.AWAITING_REPLY:
                await correspondence.reply_to_complaint(
                    self.client,
                    correspondence_id,
                    ComplaintReply(reply="closed at the end of the test"),
                )
            elif state.status is CorrespondenceStatus.AWAITING_TRIAGE:
                await correspondence.triage_done(
                    self.client, correspondence_id, TriageDone(note="closed at the end of the test")
                )
        await self.wait_for_message(correspondence_id, lambda s: s.closed_at is not None)

    async def _close_appeal(self, request_id: str) -> None:
        """An appeal left undecided is denied; an appeal link left unused is let expire."""
        state = await self.status(request_id)
        if state.appeal is not None and state.appeal.outcome is None:
            await self.wait_for_status(
                state.appeal.appeal_id, RequestStatus.AWAITING_APPEAL_DECISION
            )
            await rights_requests.decide_appeal(
                self.client,
                state.appeal.appeal_id,
                AppealDecision(
                    outcome=AppealOutcome.DENIED, reasons="closed at the end of the test"
                ),
            )
        elif state.appeal_window_open and state.appeal_by is not None:
            now = await self.env.get_current_time()
            await self.env.sleep(
                datetime.combine(state.appeal_by, datetime.min.time(), now.tzinfo)
                - now
                + timedelta(days=1)
            )

    def save_history_if_recording(
        self, workflow_id: str, name: str, *, workflow: str = "request"
    ) -> None:
        """RECORD_HISTORIES=1 saves this run beside the histories of earlier releases.

        `workflow_id` is a request id, or with `workflow="expiry"` the id of another workflow.
        """
        if workflow == "request":
            workflow_id = rights_requests.workflow_id(workflow_id)
        self._to_record.append((workflow_id, name))

    async def write_recorded_histories(self) -> None:
        """Into the current release's folder, and only where no history is saved yet."""
        if not os.environ.get("RECORD_HISTORIES"):
            return
        folder = HISTORIES / release()
        folder.mkdir(parents=True, exist_ok=True)
        for workflow_id, name in self._to_record:
            target = folder / f"{name}.json"
            if target.exists():
                continue
            history = await self.client.get_workflow_handle(workflow_id).fetch_history()
            target.write_text(history.to_json())

    async def result(self, request_id: str) -> RequestState:
        """Await the run's end without moving the clock: a test skips time with `env.sleep`.

        Auto-skipping while awaiting (what `start_workflow` handles do) also jumps the shared
        clock years ahead once the run has ended, which would date every later test's receipt.
        """
        handle = self.client.get_workflow_handle(
            rights_requests.workflow_id(request_id), result_type=RequestState
        )
        while True:
            try:
                result: RequestState = await handle.result()
                return result
            except RuntimeError as error:
                # A long poll can end with no event before the run closes; poll again.
                if "No completion event found" not in str(error):
                    raise

    def outbox(self, request_id: str) -> list[EmailMessage]:
        """The messages of one request in the order they were written."""
        paths = sorted(
            self.settings.outbox_dir.glob(f"{request_id}-*.eml"),
            key=lambda path: path.stat().st_mtime_ns,
        )
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(path.read_bytes()) for path in paths]  # type: ignore[misc]

    def notice_kinds(self, request_id: str) -> list[str]:
        return [str(message["X-Notice-Kind"]) for message in self.outbox(request_id)]

    def message(self, request_id: str, kind: str) -> EmailMessage:
        matching = [m for m in self.outbox(request_id) if m["X-Notice-Kind"] == kind]
        assert matching, f"no {kind} notice in {self.notice_kinds(request_id)}"
        return matching[-1]

    def text(self, request_id: str, kind: str) -> str:
        body = self.message(request_id, kind).get_body(("plain",))
        assert body is not None
        return str(body.get_content())

    def link_token(self, request_id: str, kind: str) -> str:
        found = TOKEN_IN_LINK.search(self.text(request_id, kind))
        assert found, f"no link in the {kind} notice"
        return found.group(1)


async def verify(harness: Harness, request_id: str) -> None:
    """Answer the verification link with Maria's phone number, as she would."""
    await harness.wait_for_notice(request_id, "verification")
    token = harness.link_token(request_id, "verification")
    result = await rights_requests.answer_verification(
        harness.client,
        request_id,
        VerificationAnswer(token=token, data_points={DataPoint.PHONE: MARIA[2]}),
    )
    assert result.outcome is VerificationOutcome.VERIFIED, result


async def verify_and_reconfirm(harness: Harness, request_id: str) -> None:
    """Take a deletion through verification and reconfirmation to fulfilment."""
    await verify(harness, request_id)
    await harness.wait_for_notice(request_id, "deletion_reconfirmation")
    answer = await rights_requests.confirm_deletion(
        harness.client,
        request_id,
        ReconfirmationAnswer(token=harness.link_token(request_id, "deletion_reconfirmation")),
    )
    assert answer.outcome is VerificationOutcome.VERIFIED, answer
