"""The stack each scenario breaks: real processes it can kill, and what it counts afterwards.

A Temporal server (`make run`'s dev server command on a SQLite file, or the time-skipping test
server), `worker.py` processes, the SQL provider on a SQLite service database and the sandbox
providers on loopback ports of their own, and the SendGrid Mail Send sandbox as the mail backend:
it keeps every message it accepted, which is how a notice mailed twice is seen (the outbox folder
would overwrite the first copy with the second).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.providers.kinds import load_registry
from bench.chaos.evidence import count_erasures, erasures, ledger_times
from bench.chaos.waits import until
from bench.lifecycle import (
    BIN,
    ROOT,
    Attempts,
    Notice,
    Requesters,
    local,
    registry_file,
    seed_people,
)
from dev.local_stack import dev_server_command, stop_dev_server, wait_for_server
from dev.sample_service import sample_people
from dev.sandbox import start_sandboxes
from dev.sandbox.sendgrid_mail import SendGridMailSandbox
from dev.sandbox.server import SandboxProvider
from rights import search_attributes
from rights.codec import EncryptionCodec, encrypted_converter, format_keys, parse_keys
from rights.settings import Settings, load_settings
from stores.engines import create_engine

INTAKE_KEY = "chaos-intake-key-0123456789abcdef0123"
MAIL_KEY = "SG.chaos-mail-key"
SQL_PROVIDER = "service-database"


# Ports handed out below the kernel's ephemeral range (32768 and up), each once: a port the
# kernel picked for a probe could go to another scenario's outgoing connection before the
# server meant for it bound it ("Address already in use").
_next_ports = itertools.count(20000 + os.getpid() % 5000)


def free_port() -> int:
    """A loopback port nothing listens on now, never handed out before by this process."""
    for port in _next_ports:
        with socket.socket() as probe, contextlib.suppress(OSError):
            probe.bind(("127.0.0.1", port))
            return port
    raise RuntimeError("no free port left")


class MailSandboxBox:
    """The requesters' mailbox: the messages the SendGrid sandbox accepted."""

    def __init__(self, mail: SendGridMailSandbox, timeout: float) -> None:
        self._mail = mail
        self._timeout = timeout

    async def notice(self, request_id: str, kind: str) -> Notice:
        """The first notice of `kind` for the request, once the sandbox has accepted it."""
        found: list[Notice] = []

        def arrived() -> bool:
            found.extend(
                Notice(d.text, d.accepted_at) for d in self._mail.delivered(request_id, kind)[:1]
            )
            return bool(found)

        await until(arrived, f"the {kind} notice of {request_id}", self._timeout)
        return found[0]


class DevServer:
    """`make run`'s dev server (`dev_server_command`: a SQLite file with WAL and
    synchronous=normal), as a process that can be killed and started again on the same file."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self._command = dev_server_command(settings)
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(self._command, stdout=log, stderr=log)

    def kill(self) -> None:
        """SIGKILL: no chance to close its database."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_dev_server(self.process)


class Workers:
    """`worker.py` processes, each with a log of its own, to kill and start again."""

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        self._env = env
        self._directory = directory
        self.running: list[subprocess.Popen[bytes]] = []
        self.started = 0

    async def start(self, timeout: float = 60) -> subprocess.Popen[bytes]:
        """A new worker process, once it says it has started."""
        self.started += 1
        log = self._directory / f"worker-{self.started}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "worker.py")],
                env=self._env,
                cwd=ROOT,
                stdout=output,
                stderr=output,
            )
        self.running.append(process)
        await until(
            lambda: b"worker_started" in log.read_bytes() or process.poll() is not None,
            "a worker start",
            timeout,
        )
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}; see {log}")
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> float:
        """SIGKILL one worker; when it died (Unix time)."""
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        self.running.remove(process)
        return time.time()

    def exited(self) -> list[int]:
        """The exit codes of workers that ended without being killed."""
        return [p.returncode for p in self.running if p.poll() is not None]

    def stop(self) -> None:
        for process in self.running:
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class ChaosStack:
    """What a scenario breaks and reads: the server (one of the two kinds), the client, the
    worker processes, the sandboxes, the mail sandbox and the two databases."""

    settings: Settings
    client: Client
    mail: SendGridMailSandbox
    sandboxes: dict[str, SandboxProvider]
    workers: Workers
    service: Engine
    records: Engine
    # The seeded people's account ids, by index.
    accounts: list[str]
    server: DevServer | None = None
    time_skipping: WorkflowEnvironment | None = None
    kills: list[float] = field(default_factory=list)

    def requesters(self, attempts: Attempts, timeout: float) -> Requesters:
        """The seeded people, reading their mail at the SendGrid sandbox."""
        return Requesters(self.client, self.settings, MailSandboxBox(self.mail, timeout), attempts)

    def ledger(self) -> dict[tuple[str, str], list[float]]:
        """When the notice ledger says each (request, notice kind) was sent (Unix times)."""
        return ledger_times(self.records)

    def deletions(self) -> dict[str, Counter[str]]:
        """Each provider's effective deletions by account id: the sandboxes' own counts, and the
        erasures the service database's trigger saw."""
        counts = {
            name: Counter(s.effective_deletions_per_person) for name, s in self.sandboxes.items()
        }
        counts[SQL_PROVIDER] = erasures(self.service)
        return counts


@contextlib.asynccontextmanager
async def chaos_stack(
    directory: Path,
    *,
    people: int,
    sandboxes: Sequence[str] = ("stripe",),
    time_skipping: bool = False,
) -> AsyncIterator[ChaosStack]:
    """Everything up, with `people` accounts at every provider and one worker polling; stopped
    (whatever the scenario left running) on the way out."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = format_keys([("chaos-1", os.urandom(32))])
    codec = EncryptionCodec(*parse_keys(keys))
    ports = {name: free_port() for name in sandboxes}
    mail = SendGridMailSandbox(MAIL_KEY, port=free_port()).start()
    api_port = free_port()
    variables = {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_UI_ORIGIN": f"http://localhost:{free_port()}",
        "DATA_DIR": str(directory),
        "PAYLOAD_KEYS": keys,
        "LINK_TOKEN_SECRET": "chaos-link-secret",
        "PROVIDER_REGISTRY": str(registry_file(directory, sandboxes=ports)),
        "TASK_QUEUE": "chaos-rights",
        "MAIL_BACKEND": "sendgrid",
        "SENDGRID_API_KEY": MAIL_KEY,
        "SENDGRID_HOST": mail.url,
        "API_PORT": str(api_port),
        "PUBLIC_BASE_URL": local(api_port),
        "INTAKE_API_KEYS": INTAKE_KEY,
    }
    async with contextlib.AsyncExitStack() as resources:
        resources.callback(mail.stop)
        environment: WorkflowEnvironment | None = None
        server: DevServer | None = None
        if time_skipping:
            environment = await resources.enter_async_context(
                await WorkflowEnvironment.start_time_skipping(
                    data_converter=encrypted_converter(codec),
                    test_server_existing_path=str(BIN / "temporal-test-server"),
                )
            )
            await register_search_attributes(environment.client)
            variables["TEMPORAL_ADDRESS"] = environment.client.service_client.config.target_host
        settings = load_settings(_env_file=None, **{k.lower(): v for k, v in variables.items()})
        if environment is None:
            server = DevServer(settings, directory / "temporal-server.log")
            server.start()
            resources.callback(server.stop)
            client = await wait_for_server(settings, codec)
        else:
            client = environment.client
        seed_people(settings, people)
        service = create_engine(settings.service_url)
        resources.callback(service.dispose)
        count_erasures(service)
        seeded = sample_people(service)
        env = {**os.environ, **variables}
        started = start_sandboxes(
            load_registry(settings.provider_registry).providers,
            env,
            seeded,
            callback_base_url=settings.public_base_url,
            state_root=directory / "sandboxes",
        )
        for sandbox in started:
            resources.callback(sandbox.stop)
        records = create_engine(settings.records_url)
        resources.callback(records.dispose)
        workers = Workers(env, directory)
        resources.callback(workers.stop)
        await workers.start()
        yield ChaosStack(
            settings=settings,
            client=client,
            mail=mail,
            sandboxes=dict(zip(sandboxes, started, strict=True)),
            workers=workers,
            service=service,
            records=records,
            accounts=[account_id for _, _, account_id in seeded],
            server=server,
            time_skipping=environment,
        )


async def register_search_attributes(client: Client) -> None:
    """The test server starts without the custom search attributes the dev server is given."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in search_attributes.ALL
            },
        )
    )
