"""A requester's side of a deletion, shared by `make bench` and `make chaos`.

The people seeded in the service database, the provider registry they run against, and the
driver that submits a request and answers the links in its notices as a person would, with the
Update calls the API makes. Where the notices arrive (the outbox folder, or the SendGrid sandbox)
is a `Mailbox`; how a call to Temporal is tried (once, or again through a server restart) is an
`Attempts`.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from temporalio.client import Client
from temporalio.workflow import UpdateMethodMultiParam

from client import rights_requests
from dev.sample_service import accounts, create_service_schema
from rights.models import (
    AnswerResult,
    Channel,
    DataPoint,
    NewRequest,
    ReconfirmationAnswer,
    Requester,
    RequestState,
    RightsRequest,
    VerificationAnswer,
)
from rights.settings import Settings
from rights.terms import Jurisdiction, RequestType
from workflows.rights_request import RightsRequestWorkflow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = re.compile(r"\?token=([A-Za-z0-9_-]+)")
# Every notice a deletion's requester gets, in order, when everything goes well.
DELETION_NOTICES = ("receipt", "verification", "deletion_reconfirmation", "completed")

T = TypeVar("T")
Argument = TypeVar("Argument")


def progress(phase: str, done: int, total: int) -> None:
    """A bar on a terminal; in a log, one line when the phase is done."""
    if not sys.stderr.isatty():
        if done >= total:
            print(f"{phase}: {total} done", file=sys.stderr, flush=True)
        return
    width = 30
    filled = width * done // max(total, 1)
    print(
        f"\r{phase:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
        end="",
        file=sys.stderr,
        flush=True,
    )
    if done >= total:
        print(file=sys.stderr)


def email_of(index: int) -> str:
    return f"bench-{index}@example.com"


def phone_of(index: int) -> str:
    return f"+1 415 555 {index:04d}"


def seed_people(settings: Settings, count: int) -> None:
    """`count` accounts in the service database, person `index` reachable by `email_of(index)`
    and verifiable with `phone_of(index)`."""
    engine = sa.create_engine(settings.service_url)
    create_service_schema(engine)
    with engine.begin() as db:
        db.execute(
            accounts.insert(),
            [
                {
                    "email": email_of(index),
                    "full_name": f"Bench Person {index}",
                    "phone": phone_of(index),
                    "date_of_birth": "1980-01-01",
                    "postal_code": "94110",
                    "sale_opt_out": False,
                    "limit_sensitive_use": False,
                    "created_at": datetime(2025, 1, 1, tzinfo=UTC),
                }
                for index in range(count)
            ],
        )
    engine.dispose()


def registry_file(
    directory: Path, *, sql_providers: int = 1, sandboxes: Mapping[str, int] | None = None
) -> Path:
    """`config/providers.toml` without its manual provider (no run waits for an operator): the
    SQL provider, `sql_providers - 1` copies of it, and the sandbox APIs named in `sandboxes`,
    each moved to the port given, so a run here never meets a `make run` on its usual ports."""
    base = (ROOT / "config" / "providers.toml").read_text()
    header, *entries = re.split(r"(?m)^(?=\[\[providers\]\]$)", base)
    by_name = {_entry_name(entry): entry for entry in entries}
    sql = by_name["service-database"]
    chosen = [sql] + [
        sql.replace('name = "service-database"', f'name = "service-database-{n}"')
        for n in range(2, sql_providers + 1)
    ]
    for name, port in (sandboxes or {}).items():
        chosen.append(
            re.sub(
                r'base_url = "http://127\.0\.0\.1:\d+"',
                f'base_url = "{local(port)}"',
                by_name[name],
            )
        )
    path = directory / "providers.toml"
    path.write_text(header + "".join(chosen))
    return path


def _entry_name(entry: str) -> str:
    found = re.search(r'(?m)^name = "([^"]+)"', entry)
    assert found, "a registry entry without a name"
    return found.group(1)


def local(port: int) -> str:
    """The loopback URL of a port."""
    return f"http://127.0.0.1:{port}"


async def bounded(
    count: int, concurrency: int, job: Callable[[int], Awaitable[Any]], phase: str
) -> list[Any]:
    semaphore = asyncio.Semaphore(concurrency)
    done = 0

    async def one(index: int) -> Any:
        nonlocal done
        async with semaphore:
            result = await job(index)
        done += 1
        progress(phase, done, count)
        return result

    return await asyncio.gather(*(one(index) for index in range(count)))


def new_request(index: int, type: RequestType = RequestType.DELETION) -> NewRequest:
    return NewRequest(
        type=type,
        jurisdiction=Jurisdiction.US_CA,
        requester=Requester(full_name=f"Bench Person {index}", email=email_of(index)),
        channel=Channel.API,
    )


@dataclass(frozen=True)
class Notice:
    """A notice as its requester reads it: the text with its links, and when it arrived."""

    text: str
    arrived_at: float  # Unix time

    def token(self) -> str:
        """The link token in the notice."""
        found = TOKEN.search(self.text)
        assert found, "a notice without a link"
        return found.group(1)


class Mailbox(Protocol):
    async def notice(self, request_id: str, kind: str) -> Notice:
        """The first notice of `kind` for the request, once it arrives."""


SETTLED_NS = 50_000_000


class Outbox:
    """The outbox folder: one `.eml` file per notice, `<request_id>-<kind>-1.eml` the first.

    One scanner answers every waiting request: every 20 ms it looks at the folder's mtime, and
    lists the folder only when a file has arrived. A listing per waiting request was once the
    bench's own largest cost, on the cores it measures.
    """

    def __init__(self, directory: Path, timeout: float = 300) -> None:
        self._directory = directory
        self._timeout = timeout
        self._waiting: dict[str, asyncio.Future[Path]] = {}
        self._scanner: asyncio.Task[None] | None = None
        # The folder's mtime at the last listing, and when that listing was made.
        self._listed_mtime = -1
        self._listed_at = 0

    async def notice(self, request_id: str, kind: str) -> Notice:
        """The first notice of `kind` for the request, once its file is there (it is renamed
        into place whole)."""
        path = await self._arrival(f"{request_id}-{kind}-1.eml")
        return Notice(path.read_text(), path.stat().st_mtime)

    async def _arrival(self, name: str) -> Path:
        path = self._directory / name
        if path.exists():
            return path
        future = self._waiting.get(name)
        if future is None:
            future = self._waiting[name] = asyncio.get_running_loop().create_future()
        if self._scanner is None or self._scanner.done():
            self._scanner = asyncio.create_task(self._scan())
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            raise TimeoutError(f"{name} never arrived") from None

    async def _scan(self) -> None:
        while self._waiting:
            await asyncio.sleep(0.02)
            try:
                changed_at = self._directory.stat().st_mtime_ns
                # File times tick coarsely (a few ms): a file renamed in the same tick as the
                # last listing leaves the mtime as it was, so a fresh mtime is listed again.
                if changed_at == self._listed_mtime and self._listed_at - changed_at > SETTLED_NS:
                    continue
                self._listed_mtime, self._listed_at = changed_at, time.time_ns()
                present = set(os.listdir(self._directory))
            except FileNotFoundError:
                continue
            for name in [name for name in self._waiting if name in present]:
                self._waiting.pop(name).set_result(self._directory / name)


class Attempts(Protocol):
    def __call__(self, call: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        """`call`'s result, tried as this policy tries."""


async def once(call: Callable[[], Awaitable[T]]) -> T:
    """Try once: a failure is the answer."""
    return await call()


@dataclass(frozen=True)
class Answered:
    """A request submitted and its links answered: what the timings are measured from."""

    request_id: str
    submitted_at: float  # Unix time
    receipt_seconds: float
    answered_at: float  # monotonic


@dataclass
class Requesters:
    """The seeded people, each filing a request and answering its links as they arrive.

    Each answer is an Update with an id of its own, so one tried again after a lost reply (a
    server restart) is taken once, as a requester's second click would be answered from the
    first. The request id is chosen before the start, so a start tried again meets its own run.
    """

    client: Client
    settings: Settings
    mailbox: Mailbox
    attempts: Attempts = once
    # Each person's request id, from the moment its run started.
    submitted: dict[int, str] = field(default_factory=dict)

    async def answer_links(self, index: int, type: RequestType) -> Answered:
        """Submit, then answer the verification (and a deletion's confirmation) as they arrive."""
        submitted_at = time.time()
        request = rights_requests.admit_request(self.settings, new_request(index, type))
        rid = request.request_id
        await self.attempts(self._starter(request))
        self.submitted[index] = rid
        receipt = await self.mailbox.notice(rid, "receipt")
        verification = await self.mailbox.notice(rid, "verification")
        answer = VerificationAnswer(
            token=verification.token(), data_points={DataPoint.PHONE: phone_of(index)}
        )
        result = await self._update(
            rid, "verification", RightsRequestWorkflow.submit_verification, answer
        )
        if result.outcome.value != "verified":
            raise RuntimeError(f"verification of {rid} refused: {result.message}")
        if type is RequestType.DELETION:
            confirm = await self.mailbox.notice(rid, "deletion_reconfirmation")
            await self._update(
                rid,
                "reconfirmation",
                RightsRequestWorkflow.confirm_deletion,
                ReconfirmationAnswer(token=confirm.token()),
            )
        return Answered(rid, submitted_at, receipt.arrived_at - submitted_at, time.monotonic())

    async def completion(self, request_id: str, timeout: float) -> RequestState:
        """The request's state once its run has ended, within `timeout` seconds: the run's
        result, which is its final state (a query of a closed run would replay it whole)."""
        handle = self.client.get_workflow_handle(
            rights_requests.workflow_id(request_id), result_type=RequestState
        )
        try:
            state: RequestState = await asyncio.wait_for(self.attempts(handle.result), timeout)
        except TimeoutError:
            state = await rights_requests.request_status(self.client, request_id)
            raise RuntimeError(
                f"{request_id} did not complete: {state.status.value}, "
                f"open tasks {state.open_tasks}"
            ) from None
        return state

    def _starter(self, request: RightsRequest) -> Callable[[], Awaitable[None]]:
        tries = 0

        async def start() -> None:
            nonlocal tries
            tries += 1
            try:
                await rights_requests.start_request(self.client, self.settings, request)
            except rights_requests.DuplicateRequest:
                if tries == 1:
                    raise

        return start

    async def _update(
        self,
        request_id: str,
        answer_to: str,
        update: UpdateMethodMultiParam[[Any, Argument], AnswerResult],
        argument: Argument,
    ) -> AnswerResult:
        handle = self.client.get_workflow_handle(rights_requests.workflow_id(request_id))
        return await self.attempts(
            lambda: rights_requests.send_update(
                handle, request_id, update, argument, update_id=f"{answer_to}:{request_id}"
            )
        )


async def drive(requesters: Requesters, index: int, type: RequestType) -> dict[str, Any]:
    """Submit, answer the links as the API would, and wait for the response; its timings."""
    started = time.monotonic()
    answered = await requesters.answer_links(index, type)
    await requesters.completion(answered.request_id, timeout=300)
    finished = time.monotonic()
    return {
        "request_id": answered.request_id,
        "receipt": answered.receipt_seconds,
        "completion": finished - answered.answered_at,
        "total": finished - started,
        "completion_notice": await _completion_notice(requesters, answered)
        if type is RequestType.DELETION
        else float("nan"),
    }


async def _completion_notice(requesters: Requesters, answered: Answered) -> float:
    """Seconds from submission to the completion notice, which a completed deletion has sent."""
    notice = await requesters.mailbox.notice(answered.request_id, "completed")
    return notice.arrived_at - answered.submitted_at
