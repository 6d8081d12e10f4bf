"""The processes as an operator starts them: the API and codec servers log as the worker does
(JSON lines, contact details masked), and `make run` stops cleanly when asked."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from dev.local_stack import STOPPED
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent


async def run_briefly(module: str, environ: dict[str, str], port: int | None) -> list[str]:
    """Start `python -m module`, make one request if it listens, stop it; its stderr lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        cwd=ROOT,
        env={**os.environ, **environ},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        if port is not None:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(200):
                    try:
                        await http.post(
                            "/codec/decode?from=maria.lopez@example.com",
                            json={},
                            headers={"Origin": "http://localhost:8233"},
                        )
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
        else:
            await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    return [line for line in stderr.decode().splitlines() if line.strip()]


async def test_the_codec_server_logs_json_with_addresses_masked(tmp_path: Path) -> None:
    port = free_port()
    lines = await run_briefly(
        "api.codec_server", {"DATA_DIR": str(tmp_path), "CODEC_PORT": str(port)}, port
    )
    records = [json.loads(line) for line in lines]
    assert any("/codec/decode" in json.dumps(record) for record in records), lines
    assert "maria.lopez@example.com" not in "\n".join(lines)
    assert any("[email]" in json.dumps(record) for record in records)


async def test_the_api_process_logs_json(tmp_path: Path) -> None:
    """No Temporal to reach: start-up fails, and says so in JSON like every other line."""
    lines = await run_briefly(
        "api.app",
        {
            "DATA_DIR": str(tmp_path),
            "API_PORT": str(free_port()),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        },
        None,
    )
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines), lines[:3]


def stack_environ(data_dir: Path) -> dict[str, str]:
    """`make run` on free ports: the sandboxes' in a copy of the development registry, the dev
    server's, the UI's, the API's and the codec server's."""
    registry = (ROOT / "config" / "providers.toml").read_text()
    registry = re.sub(r"127\.0\.0\.1:87\d\d", lambda _: f"127.0.0.1:{free_port()}", registry)
    (data_dir / "providers.toml").write_text(registry)
    api_port = free_port()
    return {
        "DATA_DIR": str(data_dir),
        "PROVIDER_REGISTRY": str(data_dir / "providers.toml"),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_UI_ORIGIN": f"http://localhost:{free_port()}",
        "API_PORT": str(api_port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
        "CODEC_PORT": str(free_port()),
    }


async def until_healthy(base_url: str, process: asyncio.subprocess.Process) -> None:
    """Until the API answers /healthz with 200 (Temporal up, workers polling): the whole stack
    runs. The health check's dependency runs on AnyIO's worker thread, the one that used to keep
    the process from exiting."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        while process.returncode is None:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"make run ended before it was healthy: {process.returncode}")


def children_of(pid: int) -> list[int]:
    """The processes `pid` started, as Linux lists them."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.parametrize("how", ["sigterm", "ctrl_c"])
async def test_make_run_stops_on_sigterm_and_ctrl_c_and_says_so(tmp_path: Path, how: str) -> None:
    environ = stack_environ(tmp_path)
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dev.local_stack",
            cwd=ROOT,
            env={**os.environ, **environ},
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            # A terminal's Ctrl-C signals the whole foreground process group.
            process_group=0,
        )
        try:
            await asyncio.wait_for(until_healthy(environ["PUBLIC_BASE_URL"], process), 120)
            [dev_server] = children_of(process.pid)
            assert "temporal" in Path(f"/proc/{dev_server}/cmdline").read_text()
            if how == "sigterm":
                process.send_signal(signal.SIGTERM)
            else:
                os.killpg(process.pid, signal.SIGINT)
            stdout, _ = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    lines = stdout.decode().strip().splitlines()
    log = (tmp_path / "stderr.log").read_text()
    assert process.returncode == 0, log[-2000:]
    assert lines[-1] == STOPPED
    assert not Path(f"/proc/{dev_server}").exists()
    assert "Traceback" not in log
