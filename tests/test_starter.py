"""starter.py as an operator or intake script uses it: JSON out, one-line errors, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import sqlalchemy as sa

from rights.models import RequestStatus
from tests.harness import MARIA, TEST_PAYLOAD_KEYS, Harness

ROOT = Path(__file__).resolve().parent.parent


async def starter(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "starter.py"),
        *args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_deadlines_prints_the_due_dates_as_json() -> None:
    code, out, err = await starter(
        "deadlines", "--jurisdiction", "US-CA", "--type", "deletion", "--received", "2026-01-16"
    )

    assert code == 0, err
    dates = json.loads(out)
    assert dates["jurisdiction"] == "US-CA" and dates["type"] == "deletion"
    assert dates["received"] == "2026-01-16"
    assert dates["acknowledge_by"] == "2026-02-02"  # 10 business days; MLK Day skipped
    assert dates["respond_by"] == "2026-03-02"
    assert dates["extension_notice_by"] == "2026-03-02"
    assert dates["extended_respond_by"] == "2026-04-16"
    assert "§1798.130" in dates["legal_basis"]["respond_by"]


async def test_deadlines_bad_arguments_are_one_line_errors() -> None:
    cases = {
        ("US-XX", "deletion", "2026-01-16"): "unknown jurisdiction 'US-XX'",
        ("US-CA", "erasure", "2026-01-16"): "unknown request type 'erasure'",
        ("US-CA", "deletion", "2026-02-30"): "'2026-02-30' is not a date",
        ("US-CA", "appeal", "2026-01-16"): "US-CA does not grant the right 'appeal'",
    }
    for (jurisdiction, type, received), expected in cases.items():
        code, out, err = await starter(
            "deadlines", "--jurisdiction", jurisdiction, "--type", type, "--received", received
        )
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and expected in err, err


async def test_submit_status_and_operator_commands_against_temporal(harness: Harness) -> None:
    env = {
        "TEMPORAL_ADDRESS": harness.client.service_client.config.target_host,
        "TASK_QUEUE": harness.settings.task_queue,
        "DATA_DIR": str(harness.settings.data_dir),
        "LINK_TOKEN_SECRET": "test-link-secret-0123456789abcdef",
        "PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
    }
    code, out, err = await starter(
        "submit",
        "--type", "deletion",
        "--jurisdiction", "US-CA",
        "--email", MARIA[0],
        "--name", MARIA[1],
        env=env,
    )  # fmt: skip
    assert code == 0, err
    submitted = json.loads(out)
    rid = submitted["request_id"]
    assert submitted["workflow_id"] == f"rights-request-{rid}"
    harness.track(rid)
    await harness.wait_for_status(rid, RequestStatus.AWAITING_VERIFICATION)

    code, out, _ = await starter("status", rid, env=env)
    assert code == 0 and json.loads(out)["status"] == "awaiting_verification"
    assert MARIA[0] not in out
    code, _, err = await starter("approve-agent", rid, env=env)
    assert code == 2 and "is not waiting for an agent decision" in err
    code, _, err = await starter("deny", rid, "--reason", "no", env=env)
    assert code == 2 and "reason" in err
    code, out, err = await starter(
        "deny", rid, "--reason", "duplicate of an open request", "--operator", "carol", env=env
    )
    assert code == 0, err
    final = await harness.result(rid)
    assert final.status is RequestStatus.DENIED
    # Who did it, and what they wrote, reach the status and the compliance record.
    (action,) = final.operator_actions
    assert (action.action, action.operator, action.note) == (
        "deny",
        "carol",
        "duplicate of an open request",
    )
    with harness.records_engine.connect() as db:
        recorded = db.execute(sa.text("select operator_actions from compliance_records")).scalar()
    assert "carol" in str(recorded) and "duplicate of an open request" in str(recorded)
    code, _, err = await starter("status", "no-such-request", env=env)
    assert code == 2 and "no request with id no-such-request" in err


async def test_a_minor_removal_from_the_command_line_needs_two_operators(
    harness: Harness,
) -> None:
    env = {
        "TEMPORAL_ADDRESS": harness.client.service_client.config.target_host,
        "TASK_QUEUE": harness.settings.task_queue,
        "DATA_DIR": str(harness.settings.data_dir),
        "LINK_TOKEN_SECRET": "test-link-secret-0123456789abcdef",
        "PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
    }
    code, out, err = await starter(
        "remove-minor",
        "--jurisdiction", "US-MN",
        "--email", MARIA[0],
        "--name", MARIA[1],
        "--operator", "alice",
        "--reason", "a parent told us the account holder is 11",
        env=env,
    )  # fmt: skip
    assert code == 0, err
    rid = json.loads(out)["request_id"]
    harness.track(rid)
    await harness.wait_for_status(rid, RequestStatus.AWAITING_RECONFIRMATION)

    code, _, err = await starter("confirm-minor-removal", rid, "--operator", "alice", env=env)
    assert code == 2 and "a second member of the team" in err and err.count("\n") == 1
    code, out, err = await starter("confirm-minor-removal", rid, "--operator", "bob", env=env)
    assert code == 0, err
    code, _, err = await starter(
        "withdraw", rid, "--note", "test over", env={**env, "RIGHTS_OPERATOR": "dave"}
    )
    assert code == 0, err
    final = await harness.result(rid)
    assert [(a.action, a.operator) for a in final.operator_actions] == [
        ("confirm_minor_removal", "bob"),
        ("withdraw", "dave"),
    ]
    code, _, err = await starter(
        "remove-minor", "--jurisdiction", "US-MN", "--email", MARIA[0], "--name", MARIA[1],
        "--operator", "alice@example.com", "--reason", "a child's account", env=env,
    )  # fmt: skip
    assert code == 2 and "give the operator's login" in err
