"""The privacy desk's `starter.py list` and `show`, on a dev server's real visibility store."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from client import rights_requests
from client.desk import DeskFilter, desk_query, list_requests
from rights.models import OperatorNote, RequestStatus, WaitingOn
from rights.terms import Jurisdiction, RequestType
from tests.conftest import start_dev_server
from tests.harness import TEST_PAYLOAD_KEYS, Harness
from tests.test_starter import starter


def test_the_query_is_the_one_the_ui_takes() -> None:
    now = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    query = desk_query(
        DeskFilter(
            status=RequestStatus.FULFILLING,
            overdue=True,
            due_within=timedelta(days=7),
            waiting_on=WaitingOn.PROVIDER,
        ),
        now,
    )
    assert query == (
        "WorkflowType IN ('RightsRequestWorkflow', 'AppealWorkflow') "
        "AND ExecutionStatus = 'Running' AND RightsRequestStatus = 'fulfilling' "
        "AND WaitingOn = 'provider' AND RespondBy < '2026-12-02T00:00:00+00:00' "
        "AND RespondBy <= '2026-12-09T00:00:00+00:00'"
    )


async def test_list_and_show_on_a_dev_server(tmp_path: Path) -> None:
    async with (
        await start_dev_server() as dev,
        Harness.running(dev, tmp_path) as harness,
    ):
        now = datetime.now(UTC)
        # Received 50 days ago in Colorado: past its 45 days. Today in California: 45 left.
        late = await harness.submit(
            RequestType.ACCESS, jurisdiction=Jurisdiction.US_CO, received_at=now - timedelta(50)
        )
        fresh = await harness.submit(RequestType.DELETION, received_at=now)
        opt_out = await harness.submit(RequestType.OPT_OUT, received_at=now)
        for request in (late, fresh):
            await harness.wait_for_status(request.request_id, RequestStatus.AWAITING_VERIFICATION)
        await harness.result(opt_out.request_id)

        # Visibility is eventually consistent: wait until all three runs' latest attributes are
        # indexed, then ask each question once.
        indexed = {
            late.request_id: "awaiting_verification",
            fresh.request_id: "awaiting_verification",
            opt_out.request_id: "completed",
        }
        for _ in range(200):
            everything = await list_requests(harness.client, DeskFilter(closed_too=True))
            if {row.request_id: row.status for row in everything} == indexed:
                break
            await dev.sleep(0.05)

        async def listed(wanted: DeskFilter) -> list[str]:
            return [row.request_id for row in await list_requests(harness.client, wanted)]

        overdue = await listed(DeskFilter(overdue=True))
        waiting = await listed(DeskFilter(status=RequestStatus.AWAITING_VERIFICATION))
        colorado = await listed(DeskFilter(jurisdiction=Jurisdiction.US_CO))
        on_requester = await listed(DeskFilter(waiting_on=WaitingOn.REQUESTER))
        on_us = await listed(DeskFilter(waiting_on=WaitingOn.US))
        answered = await listed(DeskFilter(waiting_on=WaitingOn.NOBODY, closed_too=True))
        env = {
            "TEMPORAL_ADDRESS": harness.client.service_client.config.target_host,
            "TASK_QUEUE": harness.settings.task_queue,
            "DATA_DIR": str(harness.settings.data_dir),
            "LINK_TOKEN_SECRET": "test-link-secret-0123456789abcdef",
            "PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
        }
        code, table, err = await starter("list", "--overdue", env=env)
        code_json, as_json, _ = await starter("list", "--due-within", "60d", "--json", env=env)
        code_waiting, on_requester_table, _ = await starter(
            "list", "--waiting-on", "requester", env=env
        )
        code_bad, _, bad = await starter("list", "--waiting-on", "someone", env=env)
        code_show, shown, _ = await starter("show", late.request_id, env=env)
        for request in (late, fresh):
            await rights_requests.withdraw(
                harness.client, request.request_id, OperatorNote(note="test over")
            )

    assert overdue == [late.request_id]
    assert set(waiting) == {late.request_id, fresh.request_id}
    assert colorado == [late.request_id]
    assert set(on_requester) == {late.request_id, fresh.request_id}
    assert on_us == [] and answered == [opt_out.request_id]
    assert {row.request_id: row.status for row in everything} == indexed
    assert code == 0, err
    assert table.splitlines()[0].split() == [
        "REQUEST", "TYPE", "LAW", "STATUS", "WAITING", "ON", "RESPOND", "BY", "DAYS", "LEFT"
    ]  # fmt: skip
    assert code_waiting == 0 and "(2 requests)" in on_requester_table
    assert on_requester_table.count(" requester ") == 2
    assert code_bad == 2 and "unknown waiting on 'someone'" in bad
    assert late.request_id in table and fresh.request_id not in table
    assert "(1 requests)" in table and "-5" in table
    assert code_json == 0
    rows = json.loads(as_json)
    assert [row["request_id"] for row in rows] == [late.request_id, fresh.request_id]
    assert rows[1]["days_left"] == 45 and date.fromisoformat(rows[0]["respond_by"])
    assert [row["waiting_on"] for row in rows] == ["requester", "requester"]
    assert code_show == 0
    assert "status      awaiting_verification" in shown
    assert "identity_verification" in shown and "receipt" in shown and "<34" not in shown
    assert re.search(
        r"identity_verification +active +\d{4}-\d\d-\d\d \d\d:\d\d +reasonably_high", shown
    )
    assert "maria" not in shown.lower()
