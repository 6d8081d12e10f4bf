"""The API and codec processes log as the worker does: JSON lines, contact details masked."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx

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
