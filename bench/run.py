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
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.baseline import BaselineWorkflow
from client import rights_requests
from dev.sample_service import accounts, create_service_schema
from rights import search_attributes
from rights.codec import EncryptionCodec, encrypted_converter, format_keys, parse_keys
from rights.models import (
    Channel,
    DataPoint,
    NewRequest,
    ReconfirmationAnswer,
    Requester,
    VerificationAnswer,
)
from rights.settings import Settings, load_settings
from rights.terms import Jurisdiction, RequestType

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = re.compile(r"\?token=([A-Za-z0-9_-]+)")
BILLED_EVENTS = {
    "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED": "workflow starts",
    "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED": "activities",
    "EVENT_TYPE_TIMER_STARTED": "timers",
    "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED": "updates",
    "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED": "signals",
    "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES": "search attribute upserts",
}


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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


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
    # What the run used, printed beside the figures.
    setup: dict[str, str]
    outbox: Outbox


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


def seed_people(settings: Settings, count: int) -> None:
    engine = sa.create_engine(settings.service_url)
    create_service_schema(engine)
    with engine.begin() as db:
        db.execute(
            accounts.insert(),
            [
                {
                    "email": f"bench-{index}@example.com",
                    "full_name": f"Bench Person {index}",
                    "phone": f"+1 415 555 {index:04d}",
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


def registry_file(directory: Path, providers: int) -> Path:
    base = (ROOT / "config" / "providers.toml").read_text()
    sql_block = base[
        base.index("[[providers]]") : base.index('[[providers]]\nname = "paper-archive"')
    ]
    extra = "".join(
        sql_block.replace('name = "service-database"', f'name = "service-database-{n}"')
        for n in range(2, providers + 1)
    )
    path = directory / "providers.toml"
    path.write_text(base[: base.index("[[providers]]")] + sql_block + extra)
    return path


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
            "PROVIDER_REGISTRY": str(registry_file(directory, args.providers)),
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
            yield Stack(temporal.client, settings, env, workers, setup, Outbox(settings.outbox_dir))
        except BaseException:
            print((directory / "workers.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            for process in workers:
                process.terminate()
                process.wait(timeout=30)


class Outbox:
    """Notices as they arrive in the outbox: one directory scan every 20 ms answers every
    waiting request. A stat per waiting request every 10 ms was the bench's own largest cost,
    and it ran on the two cores it measures."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._waiting: dict[str, asyncio.Future[Path]] = {}
        self._scanner: asyncio.Task[None] | None = None

    async def arrival(self, name: str, timeout: float = 300) -> Path:
        """The notice file `name`, once it is there (it is renamed into place whole)."""
        path = self._directory / name
        if path.exists():
            return path
        future = self._waiting.get(name)
        if future is None:
            future = self._waiting[name] = asyncio.get_running_loop().create_future()
        if self._scanner is None or self._scanner.done():
            self._scanner = asyncio.create_task(self._scan())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise TimeoutError(f"{name} never arrived") from None

    async def _scan(self) -> None:
        while self._waiting:
            await asyncio.sleep(0.02)
            try:
                present = set(os.listdir(self._directory))
            except FileNotFoundError:
                continue
            for name in [name for name in self._waiting if name in present]:
                self._waiting.pop(name).set_result(self._directory / name)


def token_in(path: Path) -> str:
    found = TOKEN.search(path.read_text())
    assert found
    return found.group(1)


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
        requester=Requester(full_name=f"Bench Person {index}", email=f"bench-{index}@example.com"),
        channel=Channel.API,
    )


async def drive(stack: Stack, index: int, type: RequestType) -> dict[str, float]:
    """Submit, answer the links as the API would, and wait for the response."""
    client, settings, outbox = stack.client, stack.settings, stack.settings.outbox_dir
    arrival = stack.outbox.arrival
    started = time.monotonic()
    wall_started = time.time()
    request = await rights_requests.submit_request(client, settings, new_request(index, type))
    rid = request.request_id
    receipt = await arrival(f"{rid}-receipt-1.eml")
    receipt_latency = receipt.stat().st_mtime - wall_started
    verification = await arrival(f"{rid}-verification-1.eml")
    phone = {DataPoint.PHONE: f"+1 415 555 {index:04d}"}
    answer = await rights_requests.answer_verification(
        client, rid, VerificationAnswer(token=token_in(verification), data_points=phone)
    )
    if answer.outcome.value != "verified":
        raise RuntimeError(f"verification of {rid} refused: {answer.message}")
    if type is RequestType.DELETION:
        confirm = await arrival(f"{rid}-deletion_reconfirmation-1.eml")
        await rights_requests.confirm_deletion(
            client, rid, ReconfirmationAnswer(token=token_in(confirm))
        )
    answered = time.monotonic()
    completed_notice = outbox / f"{rid}-completed-1.eml"
    handle = client.get_workflow_handle(rights_requests.workflow_id(rid))
    try:
        await asyncio.wait_for(handle.result(), timeout=300)
    except TimeoutError:
        state = await rights_requests.request_status(client, rid)
        raise RuntimeError(
            f"{rid} did not complete: {state.status.value}, open tasks {state.open_tasks}"
        ) from None
    finished = time.monotonic()
    return {
        "request_id": rid,  # type: ignore[dict-item]
        "receipt": receipt_latency,
        "completion": finished - answered,
        "total": finished - started,
        "completion_notice": completed_notice.stat().st_mtime - wall_started
        if completed_notice.exists()
        else float("nan"),
    }


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
    started = time.monotonic()
    runs = await bounded(
        count, concurrency, lambda i: drive(stack, i, RequestType.DELETION), "deletions"
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
    }


async def burst(stack: Stack, count: int, first_index: int) -> dict[str, Any]:
    """`count` deletions submitted at once, each answered as soon as its notices arrive."""
    started = time.monotonic()
    runs = await bounded(
        count, count, lambda i: drive(stack, first_index + i, RequestType.DELETION), "burst"
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
    """The same shape on bare Temporal: a default client, no codec, a worker of its own."""
    env = {**stack.env, "TASK_QUEUE": "bench-baseline", "PAYLOAD_KEYS": ""}
    env.pop("PAYLOAD_KEYS")
    worker = subprocess.Popen(
        [sys.executable, "-m", "bench.baseline"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = await Client.connect(stack.settings.temporal_address)

    async def one(index: int) -> None:
        handle = await client.start_workflow(
            BaselineWorkflow.run, id=f"baseline-{index}", task_queue="bench-baseline"
        )
        await handle.execute_update(BaselineWorkflow.answer, 1)
        await handle.execute_update(BaselineWorkflow.answer, 2)
        await handle.result()

    try:
        started = time.monotonic()
        await bounded(count, concurrency, one, "baseline")
        elapsed = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return {"requests": count, "seconds": elapsed, "per_second": count / elapsed}


async def parked(stack: Stack, count: int, first_index: int, concurrency: int) -> dict[str, Any]:
    """Requests waiting for verification: what holding them open costs the worker."""
    pid = stack.workers[0].pid
    before = rss_mb(pid)
    started = time.monotonic()

    async def park(index: int) -> None:
        request = await rights_requests.submit_request(
            stack.client, stack.settings, new_request(first_index + index)
        )
        await stack.outbox.arrival(f"{request.request_id}-verification-1.eml")

    await bounded(count, concurrency, park, "parking")
    elapsed = time.monotonic() - started
    after = rss_mb(pid)
    return {
        "requests": count,
        "seconds_to_park": elapsed,
        "worker_rss_before_mb": before,
        "worker_rss_after_mb": after,
        "worker_rss_growth_mb": after - before,
    }


def table(results: dict[str, Any]) -> str:
    run, base, park = results["throughput"], results["baseline"], results["parked"]
    spike = results["burst"]
    rows = [(name, value) for name, value in results["setup"].items()]
    rows += [
        ("deletions completed / s", f"{run['per_second']:.1f} ({run['seconds']:.0f} s)"),
        ("baseline workflows / s", f"{base['per_second']:.1f} ({base['seconds']:.0f} s)"),
        ("ratio to baseline (target >= 0.8)", f"{results['ratio_to_baseline']:.2f}"),
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
            "worker RSS growth (target < 100 MB)",
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
            access = await drive(running, people - 1, RequestType.ACCESS)
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
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
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
