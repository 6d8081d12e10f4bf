"""`make run`: the Temporal dev server, the sample service database and the worker, together.

The dev server keeps its state in `DATA_DIR/temporal.db` (requests survive a restart), has the
custom search attributes registered, and serves the UI on TEMPORAL_UI_ORIGIN's port (:8233).
Mail goes to the outbox folder. Point TEMPORAL_ADDRESS at a running cluster and pass
`--no-server` to use that instead.

Ctrl-C and SIGTERM stop it in order: the workers, the API, the codec server and the drop-folder
watch, then the sandboxes, then the dev server; then it says so and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import uvicorn
from pydantic import SecretStr
from temporalio.client import Client

import worker
from activities.providers.kinds import load_registry
from api.app import create_app, server_config
from api.codec_server import codec_config
from client.connection import connect, load_payload_codec
from client.schedules import apply_schedules
from dev.sample_service import SAMPLE_PEOPLE, sample_people, seed_sample_service
from dev.sandbox import start_sandboxes
from dev.sandbox.inbound import watch_drop_folder
from logs import configure_logging
from rights import search_attributes
from rights.codec import EncryptionCodec
from rights.settings import Settings, load_settings
from stores.engines import create_engine

BIN = Path(sys.executable).parent
UI_PORT = 8233
# How long the dev server may take to stop on SIGTERM before it is killed.
SERVER_STOP_SECONDS = 10
STOPPED = "Privacy rights service stopped."

T = TypeVar("T")


def ui_port(settings: Settings) -> int:
    """The UI listens where the codec server lets it call from: TEMPORAL_UI_ORIGIN's port."""
    return urlsplit(settings.temporal_ui_origin).port or UI_PORT


def dev_server_command(settings: Settings) -> list[str]:
    """The `temporal server start-dev` command line, search attributes registered."""
    host, _, port = settings.temporal_address.rpartition(":")
    attributes = [
        f"--search-attribute={key.name}={key.indexed_value_type.name.title()}"
        for key in search_attributes.ALL
    ]
    return [
        str(BIN / "temporal"),
        "server",
        "start-dev",
        f"--db-filename={settings.data_dir / 'temporal.db'}",
        f"--ip={host or '127.0.0.1'}",
        f"--port={port or 7233}",
        f"--ui-port={ui_port(settings)}",
        f"--namespace={settings.temporal_namespace}",
        "--sqlite-pragma=journal_mode=wal",
        "--sqlite-pragma=synchronous=normal",
        "--log-level=warn",
        f"--ui-codec-endpoint=http://127.0.0.1:{settings.codec_port}/codec",
        *attributes,
    ]


async def wait_for_server(
    settings: Settings, codec: EncryptionCodec, seconds: float = 30
) -> Client:
    """A client once the dev server answers, within `seconds`."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + seconds
    while True:
        try:
            return await connect(settings, codec)
        except RuntimeError:
            if loop.time() > give_up:
                raise
            await asyncio.sleep(0.5)


def next_steps(settings: Settings) -> str:
    """What `make run` prints once the stack is up: where things are, what to try."""
    email, name, phone = SAMPLE_PEOPLE[0][0], SAMPLE_PEOPLE[0][1], SAMPLE_PEOPLE[0][2]
    ui = f"http://localhost:{ui_port(settings)}"
    key = (settings.intake_keys() or [b"<INTAKE_API_KEYS>"])[0].decode()
    return f"""
Privacy rights service is running.
  Temporal UI:   {ui}  (filter: RightsRequestStatus="awaiting_verification")
                 payloads decoded for the UI by the codec server on 127.0.0.1:{settings.codec_port}
  HTTP API:      {settings.public_base_url}/docs   (health: {settings.public_base_url}/healthz)
  Outbox:        {settings.outbox_dir}/  (every notice as an .eml file; open its links)
  Sample data:   {settings.service_url}

Submit a request for a sample patient, from another shell:
  curl -s -X POST {settings.public_base_url}/v1/requests -H "Authorization: Bearer {key}" \\
    -H "Content-Type: application/json" -d '{{"type": "deletion", "channel": "web_form",
    "requester": {{"email": "{email}", "full_name": "{name}", "residence": "US-CA"}}}}'
or: .venv/bin/python starter.py submit --type deletion --jurisdiction US-CA \\
      --email {email} --name "{name}"
Then open the verification link in the newest .eml of the outbox (phone on file: {phone}).

Or send it by email, as Maria: save a message to {settings.data_dir}/inbound-drop/ (it is
posted as SendGrid Inbound Parse would), or post one with
  .venv/bin/python -m dev.sandbox.inbound tests/inbound_corpus/deletion_ccpa_california.eml
The public request form is at {settings.public_base_url}/request
Stop with Ctrl-C.
"""


def with_development_keys(settings: Settings) -> Settings:
    """Without INTAKE_API_KEYS or INBOUND_PARSE_CREDENTIALS, `make run` makes them under
    DATA_DIR, so the curl example and the inbound email stand-in work."""
    updates: dict[str, SecretStr] = {}
    if settings.intake_api_keys is None:
        updates["intake_api_keys"] = SecretStr(
            _development_secret(settings, "intake-api-key", secrets.token_urlsafe(24))
        )
    if settings.inbound_parse_credentials is None:
        updates["inbound_parse_credentials"] = SecretStr(
            _development_secret(
                settings, "inbound-parse-credentials", f"sendgrid:{secrets.token_urlsafe(24)}"
            )
        )
    return settings.model_copy(update=updates)


def _development_secret(settings: Settings, name: str, fresh: str) -> str:
    path = settings.data_dir / name
    if not path.exists():
        path.write_text(fresh + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def stop_signal() -> asyncio.Event:
    """An event Ctrl-C and SIGTERM set, so the stack stops its parts in order.

    Left to Python, the signal raises KeyboardInterrupt wherever the main thread is; the event
    loop is then closed before the tasks' done callbacks run, AnyIO's worker threads (FastAPI's
    thread pool) never hear that their loop ended, and the process hangs at exit waiting for
    them.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
    """`work`'s result, or None (the work cancelled) when `stop` is set first: start-up can
    wait half a minute for the dev server, and Ctrl-C must not wait with it."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None
    return task.result()


class StackServer(uvicorn.Server):
    """A uvicorn server that is one part of the stack: the stack stops it with `should_exit`,
    and it fails like the other parts do."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGINT and SIGTERM to the stack. Left to itself, each server takes the signal
        and on its way out raises it again for the next: a second server then reads that
        Ctrl-C as a second one and quits without running its app's shutdown."""
        yield

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until stopped; a server that cannot start (its port taken) raises an error
        here instead of uvicorn's SystemExit, which would escape the event loop and leave the
        other parts running."""
        try:
            await super().serve(sockets)
        except SystemExit:
            raise RuntimeError(f"could not serve on port {self.config.port}") from None


async def ready_client(settings: Settings, codec: EncryptionCodec) -> Client:
    """A client of the dev server, once it answers, with the records' schedules applied (as
    production applies them with `starter.py schedules apply`)."""
    client = await wait_for_server(settings, codec)
    await apply_schedules(client, settings)
    return client


async def serve_until(
    stop: asyncio.Event, settings: Settings, client: Client, codec: EncryptionCodec
) -> None:
    """Run the workers, the API, the codec server and the drop-folder watch until `stop` is set
    or one of them ends; then stop all of them and raise the first one's error, if any."""
    api = StackServer(
        server_config(create_app(settings, client), settings.api_host, settings.api_port)
    )
    codec_api = StackServer(codec_config(settings, codec))
    workers = asyncio.create_task(
        worker.run_workers(
            worker.build_workers(client, settings, worker.build_activities(settings))
        )
    )
    watch = asyncio.create_task(watch_drop_folder(settings))
    parts = [
        workers,
        watch,
        asyncio.create_task(api.serve()),
        asyncio.create_task(codec_api.serve()),
    ]
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([*parts, stopped], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    api.should_exit = codec_api.should_exit = True
    workers.cancel()
    watch.cancel()
    for result in await asyncio.gather(*parts, return_exceptions=True):
        if isinstance(result, Exception):
            raise result


def stop_dev_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, so the dev server closes its SQLite file cleanly; killed if it will not stop."""
    server.terminate()
    try:
        server.wait(timeout=SERVER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def run(settings: Settings, start_server: bool) -> None:
    """Start the sandboxes, the dev server, the worker, the API and the codec server; stop them
    on Ctrl-C or SIGTERM."""
    stop = stop_signal()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings = with_development_keys(settings)
    service = create_engine(settings.service_url)
    seed_sample_service(service)
    sandboxes = start_sandboxes(
        load_registry(settings.provider_registry).providers,
        os.environ,
        sample_people(service),
        callback_base_url=settings.public_base_url,
        state_root=settings.data_dir / "sandboxes",
    )
    server = None
    if start_server:
        log = (settings.data_dir / "temporal-server.log").open("ab")
        # Its own process group: Ctrl-C at the terminal reaches this process only, which stops
        # the dev server last, after the workers that talk to it.
        server = subprocess.Popen(
            dev_server_command(settings), stdout=log, stderr=log, process_group=0
        )
    try:
        codec = load_payload_codec(settings)
        client = await unless_stopped(stop, ready_client(settings, codec))
        if client is not None:
            print(next_steps(settings), flush=True)
            await serve_until(stop, settings, client, codec)
    finally:
        for sandbox in sandboxes:
            sandbox.stop()
        if server is not None:
            stop_dev_server(server)
    print(STOPPED, flush=True)


def main() -> None:
    """`make run`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-server", action="store_true", help="use TEMPORAL_ADDRESS as is")
    args = parser.parse_args()
    configure_logging()
    asyncio.run(run(load_settings(), start_server=not args.no_server))


if __name__ == "__main__":
    main()
