"""`make run`: the Temporal dev server, the sample service database and the worker, together.

The dev server keeps its state in `DATA_DIR/temporal.db` (requests survive a restart), has the
custom search attributes registered, and serves the UI on :8233. Mail goes to the outbox folder.
Point TEMPORAL_ADDRESS at a running cluster and pass `--no-server` to use that instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr
from temporalio.client import Client

import worker
from activities.providers.kinds import load_registry
from api.app import serve as serve_api
from api.codec_server import serve_codec
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
        f"--ui-port={UI_PORT}",
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
    key = (settings.intake_keys() or [b"<INTAKE_API_KEYS>"])[0].decode()
    return f"""
Privacy rights service is running.
  Temporal UI:   http://localhost:{UI_PORT}  (filter: RightsRequestStatus="awaiting_verification")
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


async def run(settings: Settings, start_server: bool) -> None:
    """Start the sandboxes, the dev server, the worker, the API and the codec server."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings = with_development_keys(settings)
    service = create_engine(settings.service_url)
    seed_sample_service(service)
    sandboxes = start_sandboxes(
        load_registry(settings.provider_registry).providers,
        os.environ,
        sample_people(service),
        callback_base_url=settings.public_base_url,
    )
    server = None
    if start_server:
        log = (settings.data_dir / "temporal-server.log").open("ab")
        server = subprocess.Popen(dev_server_command(settings), stdout=log, stderr=log)
    try:
        codec = load_payload_codec(settings)
        client = await wait_for_server(settings, codec)
        # The records' schedules, as production applies them with `starter.py schedules apply`.
        await apply_schedules(client, settings)
        print(next_steps(settings), flush=True)
        activities = worker.build_activities(settings)
        await asyncio.gather(
            worker.run_workers(worker.build_workers(client, settings, activities)),
            serve_api(settings, client),
            serve_codec(settings, codec),
            watch_drop_folder(settings),
        )
    finally:
        for sandbox in sandboxes:
            sandbox.stop()
        if server is not None:
            server.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=10)


def main() -> None:
    """`make run`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-server", action="store_true", help="use TEMPORAL_ADDRESS as is")
    args = parser.parse_args()
    configure_logging()
    # SIGTERM ends the stack like Ctrl-C does, so the dev server is stopped with it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(load_settings(), start_server=not args.no_server))


if __name__ == "__main__":
    main()
