"""`make bench`: throughput, latency, cost and memory of the request workflow, against a baseline.

Starts its own Temporal dev server (in memory, or with `--persist` on a SQLite file with the
pragmas `make run` uses) and worker processes, drives requests the way a requester does (the
same Update calls the API makes), and prints a table; the same numbers go to
bench/results/latest.json. The records and service databases are SQLite files, or with
`--postgres` databases of their own on PostgreSQL. Never part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.baseline import BaselineWorkflow
from bench.lifecycle import (
    BIN,
    ROOT,
    Outbox,
    Requesters,
    bounded,
    drive,
    new_request,
    registry_file,
    seed_people,
)
from client import rights_requests
from rights import search_attributes
from rights.codec import EncryptionCodec, encrypted_converter, format_keys, parse_keys
from rights.settings import Settings, load_settings
from rights.terms import RequestType

BILLED_EVENTS = {
    "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED": "workflow starts",
    "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED": "activities",
    "EVENT_TYPE_TIMER_STARTED": "timers",
    "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED": "updates",
    "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED": "signals",
    "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES": "search attribute upserts",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces): state, ppid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pid(name: str) -> int:
    """This process's child whose command line names `name` (the dev server)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            parent = int(stat_fields(int(entry.name))[1])
            if parent == os.getpid() and name in (entry / "cmdline").read_text():
                return int(entry.name)
    raise RuntimeError(f"no child process running {name}")


class CpuMeter:
    """CPU seconds each process of the stack spends on a phase: where a request's cost goes."""

    def __init__(self, processes: dict[str, list[int]]) -> None:
        self._processes = processes
        self._start = self._now()

    def _now(self) -> dict[str, float]:
        return {
            role: sum(cpu_seconds(pid) for pid in pids) for role, pids in self._processes.items()
        }

    def per_request(self, count: int) -> dict[str, float]:
        """Milliseconds of CPU per request since the meter started, by process."""
        end = self._now()
        return {role: (end[role] - self._start[role]) * 1000 / count for role in end}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]


@dataclass
class Stack:
    client: Client
    settings: Settings
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]]
    server_pid: int
    # What the run used, printed beside the figures.
    setup: dict[str, str]

    def meter(self, workers: list[int]) -> CpuMeter:
        """CPU from now on of the dev server, these workers and this process (the requesters)."""
        return CpuMeter(
            {"dev server": [self.server_pid], "workers": workers, "requesters": [os.getpid()]}
        )

    @functools.cached_property
    def requesters(self) -> Requesters:
        """The seeded people, reading their notices in the one outbox (one scanner for all)."""
        return Requesters(self.client, self.settings, Outbox(self.settings.outbox_dir))


@asynccontextmanager
async def postgres_databases(server_url: str) -> AsyncIterator[dict[str, str]]:
    """Fresh records and service databases on `server_url`'s PostgreSQL, dropped afterwards."""
    suffix = os.urandom(4).hex()
    names = {"records": f"bench_records_{suffix}", "service": f"bench_service_{suffix}"}
    admin = sa.make_url(server_url).set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        for name in names.values():
            connection.execute(f"CREATE DATABASE {name}")
    try:
        yield {
            role: sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
            for role, name in names.items()
        }
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            for name in names.values():
                connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@asynccontextmanager
async def stack(args: argparse.Namespace, directory: Path, people: int) -> AsyncIterator[Stack]:
    keys = format_keys([("bench-1", os.urandom(32))])
    codec = EncryptionCodec(*parse_keys(keys))
    databases: dict[str, str] = {}
    async with contextlib.AsyncExitStack() as resources:
        if args.postgres:
            databases = await resources.enter_async_context(postgres_databases(args.postgres))
        temporal = await resources.enter_async_context(
            await WorkflowEnvironment.start_local(
                data_converter=encrypted_converter(codec),
                dev_server_existing_path=str(BIN / "temporal"),
                dev_server_database_filename=str(directory / "temporal.db")
                if args.persist
                else None,
                dev_server_extra_args=["--log-level", "error"]
                + (SQLITE_PRAGMAS if args.persist else []),
                search_attributes=search_attributes.ALL,
            )
        )
        setup = {
            "temporal persistence": "SQLite file (WAL, synchronous=normal)"
            if args.persist
            else "in memory",
            "records and service databases": "PostgreSQL" if args.postgres else "SQLite files",
            "worker processes": str(args.workers),
        }
        address = temporal.client.service_client.config.target_host
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": address,
            "DATA_DIR": str(directory),
            "PAYLOAD_KEYS": keys,
            "LINK_TOKEN_SECRET": "bench-link-secret",
            "PROVIDER_REGISTRY": str(registry_file(directory, sql_providers=args.providers)),
            "TASK_QUEUE": "bench-rights",
            "ACTIVITY_CONCURRENCY": str(args.worker_concurrency),
        }
        if databases:
            env["RECORDS_DATABASE_URL"] = databases["records"]
            env["SERVICE_DATABASE_URL"] = databases["service"]
        settings = load_settings(
            _env_file=None,
            **{
                "temporal_address": address,
                "data_dir": directory,
                "payload_keys": keys,
                "link_token_secret": "bench-link-secret",
                "task_queue": "bench-rights",
                "records_database_url": databases.get("records"),
                "service_database_url": databases.get("service"),
            },
        )
        seed_people(settings, people)
        worker_log = (directory / "workers.log").open("ab")
        workers = [
            subprocess.Popen(
                [sys.executable, str(ROOT / "worker.py")],
                env=env,
                cwd=ROOT,
                stdout=worker_log,
                stderr=worker_log,
            )
            for _ in range(args.workers)
        ]
        try:
            yield Stack(temporal.client, settings, env, workers, child_pid("start-dev"), setup)
        except BaseException:
            kept = ROOT / "bench" / "results" / "workers-failed.log"
            kept.parent.mkdir(exist_ok=True)
            shutil.copy(directory / "workers.log", kept)
            exits = {process.pid: process.poll() for process in workers}
            print(f"worker exit codes {exits}; their log is kept in {kept}", file=sys.stderr)
            raise
        finally:
            for process in workers:
                process.terminate()
                process.wait(timeout=30)


async def history_cost(client: Client, workflow_id: str) -> dict[str, Any]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    counts: dict[str, int] = {}
    for event in history.events:
        label = BILLED_EVENTS.get(EventType.Name(event.event_type))
        if label:
            counts[label] = counts.get(label, 0) + 1
    return {
        "events": len(history.events),
        "bytes": sum(event.ByteSize() for event in history.events),
        "actions": sum(counts.values()),
        "by_kind": counts,
    }


async def throughput(stack: Stack, count: int, concurrency: int) -> dict[str, Any]:
    meter = stack.meter([worker.pid for worker in stack.workers])
    started = time.monotonic()
    runs = await bounded(
        count,
        concurrency,
        lambda i: drive(stack.requesters, i, RequestType.DELETION),
        "deletions",
    )
    elapsed = time.monotonic() - started
    receipts = [run["receipt"] for run in runs]
    completions = [run["completion"] for run in runs]
    return {
        "requests": count,
        "seconds": elapsed,
        "per_second": count / elapsed,
        "receipt_p50_s": percentile(receipts, 0.50),
        "receipt_p95_s": percentile(receipts, 0.95),
        "completion_p50_s": percentile(completions, 0.50),
        "completion_p95_s": percentile(completions, 0.95),
        "sample_id": runs[0]["request_id"],
        "cpu_ms_per_request": meter.per_request(count),
    }


async def burst(stack: Stack, count: int, first_index: int) -> dict[str, Any]:
    """`count` deletions submitted at once, each answered as soon as its notices arrive."""
    started = time.monotonic()
    runs = await bounded(
        count,
        count,
        lambda i: drive(stack.requesters, first_index + i, RequestType.DELETION),
        "burst",
    )
    elapsed = time.monotonic() - started
    notices = [run["completion_notice"] for run in runs]
    return {
        "requests": count,
        "seconds": elapsed,
        "per_minute": count / elapsed * 60,
        "to_completion_notice_p50_s": percentile(notices, 0.50),
        "to_completion_notice_p95_s": percentile(notices, 0.95),
        "receipt_p95_s": percentile([run["receipt"] for run in runs], 0.95),
    }


async def baseline(stack: Stack, count: int, concurrency: int) -> dict[str, Any]:
    """The same shape on bare Temporal: a default client, no codec, as many worker processes
    of its own as the request workflow had."""
    env = {**stack.env, "TASK_QUEUE": "bench-baseline", "PAYLOAD_KEYS": ""}
    env.pop("PAYLOAD_KEYS")
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.baseline"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in stack.workers
    ]
    client = await Client.connect(stack.settings.temporal_address)

    async def one(index: int) -> None:
        handle = await client.start_workflow(
            BaselineWorkflow.run, id=f"baseline-{index}", task_queue="bench-baseline"
        )
        await handle.execute_update(BaselineWorkflow.answer, 1)
        await handle.execute_update(BaselineWorkflow.answer, 2)
        await handle.result()

    try:
        meter = stack.meter([worker.pid for worker in workers])
        started = time.monotonic()
        await bounded(count, concurrency, one, "baseline")
        elapsed = time.monotonic() - started
        cpu = meter.per_request(count)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
    return {
        "requests": count,
        "seconds": elapsed,
        "per_second": count / elapsed,
        "cpu_ms_per_request": cpu,
    }


async def parked(stack: Stack, count: int, first_index: int, concurrency: int) -> dict[str, Any]:
    """Requests waiting for verification: what holding them open costs the workers (their
    resident memory summed: each holds the runs it last worked on)."""
    pids = [worker.pid for worker in stack.workers]
    before = sum(rss_mb(pid) for pid in pids)
    started = time.monotonic()
    outbox = stack.requesters.mailbox

    async def park(index: int) -> None:
        request = await rights_requests.submit_request(
            stack.client, stack.settings, new_request(first_index + index)
        )
        await outbox.notice(request.request_id, "verification")

    await bounded(count, concurrency, park, "parking")
    elapsed = time.monotonic() - started
    after = sum(rss_mb(pid) for pid in pids)
    return {
        "requests": count,
        "seconds_to_park": elapsed,
        "worker_rss_before_mb": before,
        "worker_rss_after_mb": after,
        "worker_rss_growth_mb": after - before,
    }


def cpu_line(cpu: dict[str, float]) -> str:
    return ", ".join(f"{role} {ms:.0f}" for role, ms in cpu.items())


def table(results: dict[str, Any]) -> str:
    run, base, park = results["throughput"], results["baseline"], results["parked"]
    spike = results["burst"]
    rows = [(name, value) for name, value in results["setup"].items()]
    rows += [
        ("deletions completed / s", f"{run['per_second']:.1f} ({run['seconds']:.0f} s)"),
        ("baseline workflows / s", f"{base['per_second']:.1f} ({base['seconds']:.0f} s)"),
        ("ratio to baseline (target >= 0.8)", f"{results['ratio_to_baseline']:.2f}"),
        ("CPU ms / deletion", cpu_line(run["cpu_ms_per_request"])),
        ("CPU ms / baseline workflow", cpu_line(base["cpu_ms_per_request"])),
        (
            "receipt notice p50 / p95 (target p95 < 2 s)",
            f"{run['receipt_p50_s']:.2f} s / {run['receipt_p95_s']:.2f} s",
        ),
        (
            "last answer -> completion p50 / p95",
            f"{run['completion_p50_s']:.2f} s / {run['completion_p95_s']:.2f} s",
        ),
    ]
    rows += [
        (
            f"burst of {spike['requests']}: requests / minute",
            f"{spike['per_minute']:.0f} ({spike['seconds']:.1f} s)",
        ),
        (
            "burst: submission -> completion notice p50 / p95",
            f"{spike['to_completion_notice_p50_s']:.2f} s / "
            f"{spike['to_completion_notice_p95_s']:.2f} s",
        ),
        ("burst: receipt notice p95", f"{spike['receipt_p95_s']:.2f} s"),
    ]
    for kind, cost in results["cost"].items():
        rows.append(
            (
                f"{kind}: events / bytes / actions",
                f"{cost['events']} / {cost['bytes']} / {cost['actions']} {cost['by_kind']}",
            )
        )
    rows += [
        (f"park {park['requests']} at verification", f"{park['seconds_to_park']:.0f} s"),
        (
            "workers' RSS growth (target < 100 MB)",
            f"{park['worker_rss_before_mb']:.0f} -> {park['worker_rss_after_mb']:.0f} MB "
            f"(+{park['worker_rss_growth_mb']:.0f})",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rights-bench-") as scratch:
        directory = Path(scratch)
        people = args.requests + args.burst + args.parked + 1
        async with stack(args, directory, people) as running:
            loop = asyncio.get_running_loop()
            give_up = loop.time() + 60
            while not (directory / "records.db").exists() and loop.time() < give_up:
                await asyncio.sleep(0.1)
            run = await throughput(running, args.requests, args.concurrency)
            spike = await burst(running, args.burst, args.requests)
            access = await drive(running.requesters, people - 1, RequestType.ACCESS)
            cost = {
                "deletion": await history_cost(
                    running.client, rights_requests.workflow_id(run["sample_id"])
                ),
                "access": await history_cost(
                    running.client, rights_requests.workflow_id(str(access["request_id"]))
                ),
            }
            base = await baseline(running, args.requests, args.concurrency)
            park = await parked(running, args.parked, args.requests + args.burst, args.concurrency)
            setup = running.setup
    return {
        "settings": {**vars(args), "postgres": bool(args.postgres)},
        "setup": setup,
        "burst": spike,
        "throughput": run,
        "baseline": base,
        "ratio_to_baseline": run["per_second"] / base["per_second"],
        "cost": cost,
        "parked": park,
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500, help="deletions driven end to end")
    parser.add_argument("--burst", type=int, default=100, help="deletions submitted at once")
    parser.add_argument("--parked", type=int, default=5000, help="requests parked at verification")
    parser.add_argument("--providers", type=int, default=1, help="SQL providers per request")
    parser.add_argument("--concurrency", type=int, default=100, help="requests in flight")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes, and as many for the baseline"
    )
    parser.add_argument(
        "--worker-concurrency", type=int, default=16, help="activities each worker runs at once"
    )
    parser.add_argument(
        "--persist", action="store_true", help="the dev server on a SQLite file, as `make run`"
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        metavar="URL",
        help="records and service databases on this PostgreSQL server (fresh ones, dropped after)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    outcome = asyncio.run(main(arguments))
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "latest.json").write_text(json.dumps(outcome, indent=2, default=str))
    print(table(outcome))
