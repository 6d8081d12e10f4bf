"""The crash of issue 17: the whole `make run` stack SIGKILLed just after a deletion is confirmed,
and started again on the same DATA_DIR.

`python -m dev.local_stack` runs as `make run` does (its dev server on a SQLite file, the worker,
the API, the six sandbox providers), with a registry without the manual paper archive
(PROVIDER_REGISTRY), so completing needs no operator, and mail to the SendGrid sandbox, so a
notice mailed twice would show. A requester files through the API and answers through the pages
the notices link to. The kill lands once the signed-webhook provider has accepted its job and
before its callback: the callback a restarted sandbox must still deliver, posting until our API
answers 2xx, as the webhook contract asks of a sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from bench.chaos.evidence import count_erasures, erasures, ledger_times, retried_activities
from bench.chaos.figures import Figure, count_notices, exactly, notice_figures, shown
from bench.chaos.runs import RECOVERY_SECONDS, Chaos
from bench.chaos.stack import INTAKE_KEY, MAIL_KEY, SQL_PROVIDER, MailSandboxBox, free_port
from bench.chaos.waits import ThroughOutages, eventually, until
from bench.lifecycle import DELETION_NOTICES, ROOT, local, registry_file
from client import rights_requests
from client.connection import connect
from dev.local_stack import STOPPED
from dev.sample_service import SAMPLE_PEOPLE, sample_people, seed_sample_service
from dev.sandbox.sendgrid_mail import SendGridMailSandbox
from rights.codec import format_keys
from rights.models import OutcomeStatus, RequestStatus
from rights.settings import Settings, load_settings
from stores.engines import create_engine

SANDBOXES = ("stripe", "sendgrid-contacts", "segment", "hubspot", "zendesk", "care-notes")
WEBHOOK = "care-notes"
# `make run` stops within a few seconds of SIGTERM.
STOP_SECONDS = 15


async def stack_crash(chaos: Chaos) -> list[Figure]:
    """File, verify, confirm; SIGKILL everything once the webhook job is accepted; start again."""
    directory = chaos.directory
    directory.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as resources:
        mail = SendGridMailSandbox(MAIL_KEY, port=free_port()).start()
        resources.callback(mail.stop)
        settings, env = stack_settings(directory, mail.url)
        email, name, phone = SAMPLE_PEOPLE[0][:3]
        service = create_engine(settings.service_url)
        resources.callback(service.dispose)
        seed_sample_service(service)
        count_erasures(service)
        account = next(a for e, _, a in sample_people(service) if e == email)
        mailbox = MailSandboxBox(mail, RECOVERY_SECONDS)
        first = MakeRun(env, directory / "make-run-1.log")
        resources.push_async_callback(first.kill)
        await first.start(settings)
        async with httpx.AsyncClient(base_url=settings.public_base_url, timeout=30) as http:
            filed = await http.post(
                "/v1/requests",
                headers={"Authorization": f"Bearer {INTAKE_KEY}"},
                json={
                    "type": "deletion",
                    "channel": "web_form",
                    "requester": {"email": email, "full_name": name, "residence": "US-CA"},
                },
            )
            filed.raise_for_status()
            rid = str(filed.json()["request_id"])
            verification = await mailbox.notice(rid, "verification")
            await answer(http, verification.text, "verify", {"phone": phone}, "Thank you")
            confirmation = await mailbox.notice(rid, "deletion_reconfirmation")
            await answer(http, confirmation.text, "confirm-deletion", {}, "Deletion confirmed")
        confirmed = time.monotonic()
        webhook_state = directory / "sandboxes" / WEBHOOK / "state.json"
        await until(lambda: bool(read_state(webhook_state)["pending"]), "the webhook job", 60)
        killed_after = time.monotonic() - confirmed
        kills = [await first.kill()]
        awaiting_callback = len(read_state(webhook_state)["pending"])
        chaos.damage_done.set()
        second = MakeRun(env, directory / "make-run-2.log")
        resources.push_async_callback(second.kill)
        await second.start(settings)
        restarted = time.monotonic()
        client = await connect(settings)
        handle = client.get_workflow_handle(rights_requests.workflow_id(rid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                ThroughOutages(RECOVERY_SECONDS)(handle.result), RECOVERY_SECONDS
            )
        completed_after = time.monotonic() - restarted
        state = await rights_requests.request_status(client, rid)
        again = await retried_activities(client, [rid])
        stopped_in, said_stopped = second.stop()
        outcomes = Counter(o.status.value for o in state.provider_outcomes)
        deletions = deletions_of(directory, service, account)
        records = create_engine(settings.records_url)
        resources.callback(records.dispose)
        expected = [(rid, kind) for kind in DELETION_NOTICES]
        notices = count_notices(mail.deliveries, expected, ledger_times(records), kills=kills)
        completions = len(mail.delivered(rid, "completed"))
    return [
        shown("SIGKILL after the deletion was confirmed", f"{killed_after:.2f} s"),
        exactly("webhook jobs accepted, callback not yet sent, at the kill", awaiting_callback, 1),
        exactly(
            "request completed after the restart", int(state.status is RequestStatus.COMPLETED), 1
        ),
        shown("restart to completion (job timeout: 7 days)", f"{completed_after:.1f} s"),
        shown("activities run again", again),
        shown("provider outcomes", dict(sorted(outcomes.items()))),
        exactly("providers escalated to an operator", outcomes[OutcomeStatus.ESCALATED.value], 0),
        exactly("completion notices mailed", completions, 1),
        *notice_figures(notices, len(expected), crashed=True),
        *(
            exactly(f"{provider}: effective deletions of the person", count, 1)
            for provider, count in deletions.items()
        ),
        exactly("stopped on SIGTERM, saying so", int(said_stopped), 1),
        shown("SIGTERM to exit", f"{stopped_in:.1f} s"),
    ]


def stack_settings(directory: Path, mail_url: str) -> tuple[Settings, dict[str, str]]:
    """`make run`'s settings on ports of its own, and the environment that gives them."""
    ports = {name: free_port() for name in SANDBOXES}
    api_port = free_port()
    variables = {
        "DATA_DIR": str(directory),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_UI_ORIGIN": f"http://localhost:{free_port()}",
        "CODEC_PORT": str(free_port()),
        "API_PORT": str(api_port),
        "PUBLIC_BASE_URL": local(api_port),
        "PROVIDER_REGISTRY": str(registry_file(directory, sandboxes=ports)),
        "PAYLOAD_KEYS": format_keys([("chaos-1", os.urandom(32))]),
        "INTAKE_API_KEYS": INTAKE_KEY,
        "MAIL_BACKEND": "sendgrid",
        "SENDGRID_API_KEY": MAIL_KEY,
        "SENDGRID_HOST": mail_url,
    }
    settings = load_settings(_env_file=None, **{k.lower(): v for k, v in variables.items()})
    return settings, {**os.environ, **variables}


class MakeRun:
    """`python -m dev.local_stack` as a process, with the dev server it starts in a process
    group of its own (which a signal to the stack alone does not reach)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._env = env
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None
        self._server: list[int] = []

    async def start(self, settings: Settings) -> None:
        """Start it; return once its API says a worker polls."""
        with self._log.open("ab") as output:
            self._process = process = subprocess.Popen(
                [sys.executable, "-m", "dev.local_stack"],
                env=self._env,
                cwd=ROOT,
                stdout=output,
                stderr=output,
            )
        async with httpx.AsyncClient(base_url=settings.public_base_url, timeout=5) as http:

            async def healthy() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"make run exited; see {self._log}")
                with contextlib.suppress(httpx.HTTPError):
                    return (await http.get("/healthz")).status_code == 200
                return False

            await eventually(healthy, "make run answering /healthz", 90)
        self._server = children(process.pid)

    async def kill(self) -> float:
        """SIGKILL the stack and its dev server, if they run; when (Unix time)."""
        if self._process is not None and self._process.poll() is None:
            for pid in [self._process.pid, *self._server]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._process.wait()
        killed = time.time()
        await until(lambda: not any(alive(pid) for pid in self._server), "the dev server gone", 10)
        return killed

    def stop(self) -> tuple[float, bool]:
        """SIGTERM, as Ctrl-C would: how long it took to exit, and whether it said it stopped."""
        assert self._process is not None
        started = time.monotonic()
        self._process.terminate()
        try:
            code = self._process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            return time.monotonic() - started, False
        return time.monotonic() - started, code == 0 and STOPPED in self._log.read_text()


def children(pid: int) -> list[int]:
    """The processes `pid` started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def answer(
    http: httpx.AsyncClient, notice: str, page: str, fields: dict[str, str], thanks: str
) -> None:
    """Press the button on the page the notice links to, as the requester would."""
    found = re.search(rf"(/r/[\w-]+/{page})\?token=([A-Za-z0-9_-]+)", notice)
    assert found, f"no {page} link in the notice"
    response = await http.post(found.group(1), data={"token": found.group(2), **fields})
    if response.status_code != 200 or thanks not in response.text:
        raise RuntimeError(f"the {page} page did not take the answer ({response.status_code})")


def read_state(path: Path) -> Any:
    """A sandbox's provider state as its state file holds it (empty before its first write)."""
    try:
        return json.loads(path.read_text())["provider"]
    except FileNotFoundError:
        return {"pending": []}


def deletions_of(directory: Path, service: Engine, account: str) -> dict[str, int]:
    """Each provider's count of deletions of the person that removed data."""
    counts = {}
    for name in SANDBOXES:
        saved = json.loads((directory / "sandboxes" / name / "state.json").read_text())
        counts[name] = int(saved["effective_deletions_per_person"].get(account, 0))
    counts[SQL_PROVIDER] = erasures(service)[account]
    return counts
