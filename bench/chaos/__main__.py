"""`make chaos`: break the stack the ways production will, and count what the requesters saw.

Each scenario starts its own stack under a scratch folder, breaks it, and prints its figures with
the bound each must meet; `make chaos` fails (exit status 1) when one does not. A scenario that
has done its damage may still wait minutes for its requests to recover (a killed worker's calls
wait out their timeouts), so the next one starts then, beside it: their stacks share nothing but
the machine. Random moments come from one seed: `--seed` replays a run's choices (what they hit
still depends on timing).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from bench.chaos.crashes import server_restart, worker_kills
from bench.chaos.figures import Figure, table
from bench.chaos.intake import intake_burst
from bench.chaos.outages import mail_outage, provider_outage
from bench.chaos.runs import Chaos
from bench.chaos.whole_stack import stack_crash
from logs import configure_logging

Scenario = Callable[[Chaos], Awaitable[list[Figure]]]
SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "worker-kills": ("1. worker SIGKILLed 5 times during 200 deletions", worker_kills),
    "server-restart": ("2. dev server killed, restarted on its SQLite file", server_restart),
    "provider-outage": ("3. Stripe down for 6 hours (time-skipping server)", provider_outage),
    "mail-outage": ("4. mail backend answering 503 for a while", mail_outage),
    "intake-burst": ("5. 50 identical submissions, one Idempotency-Key", intake_burst),
    "stack-crash": ("6. whole make run stack SIGKILLed after a confirmation", stack_crash),
}


# Started in this order, each once the one before has done its damage.
START_ORDER = (
    # The test server must start within the SDK's 5 seconds: on a quiet machine.
    "provider-outage",
    # These leave requests waiting out activity timeouts: minutes of waiting, side by side,
    "worker-kills",
    "stack-crash",
    "server-restart",
    # while these run.
    "mail-outage",
    "intake-burst",
)


async def run(name: str, chaos: Chaos) -> tuple[str, bool]:
    """One scenario: its table, and whether every figure holds."""
    title, scenario = SCENARIOS[name]
    started = time.monotonic()
    try:
        figures = await scenario(chaos)
    except Exception as error:  # a scenario that cannot finish has failed: say how
        traceback.print_exc()
        figures = [Figure("scenario ended early", f"{type(error).__name__}: {error}", "", False)]
    finally:
        chaos.damage_done.set()
    return table(f"{title} [{name}]", figures, time.monotonic() - started), all(
        f.ok for f in figures
    )


async def main(arguments: argparse.Namespace) -> bool:
    # The API served in-process logs every request; only its warnings matter here. The clients'
    # warnings of calls retried while a server is down are what the scenarios cause.
    configure_logging(logging.WARNING)
    Runtime.set_default(
        Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(filter=TelemetryFilter("ERROR", "ERROR"))
            )
        )
    )
    names = [arguments.only] if arguments.only else list(START_ORDER)
    print(f"make chaos: seed {arguments.seed}", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="rights-chaos-"))
    running = {}
    for name in names:
        chaos = Chaos(scratch / name, random.Random(f"{arguments.seed}:{name}"))
        running[name] = asyncio.create_task(run(name, chaos))
        await chaos.damage_done.wait()
    passed = True
    for name in SCENARIOS:
        if name in running:
            text, ok = await running[name]
            print(text, flush=True)
            passed = passed and ok
    if passed:
        shutil.rmtree(scratch)
    else:
        print(f"make chaos: logs and databases kept in {scratch}", flush=True)
    return passed


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument(
        "--seed", type=int, default=random.SystemRandom().randrange(10**6), help="random choices"
    )
    parser.add_argument("--only", choices=list(SCENARIOS), help="run this scenario alone")
    return parser.parse_args()


if __name__ == "__main__":
    started = time.monotonic()
    passed = asyncio.run(main(parse()))
    print(f"make chaos: {'passed' if passed else 'FAILED'} in {time.monotonic() - started:.0f} s")
    sys.exit(0 if passed else 1)
