"""The records run themselves: the retention purge, the §7102 metrics, and their schedules."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from activities.records import NoticeLedger
from client import rights_requests
from client.desk import DeskFilter, list_requests
from client.schedules import METRICS, PURGE, SWEEP, apply_schedules
from rights.activity_inputs import MetricsInput, MetricsReport, PurgeResult, SweepInput, SweepResult
from rights.models import Channel, NewRequest, NoticeKind, OperatorNote, Requester
from rights.terms import Jurisdiction, RequestType
from stores.records import compliance_records, correspondence_records, notice_ledger
from tests.conftest import start_dev_server
from tests.harness import MARIA, Harness
from workflows.record_keeping import (
    MetricsReportWorkflow,
    OverdueSweepWorkflow,
    RecordsPurgeWorkflow,
)


def record(
    request_type: str,
    status: str,
    received: datetime,
    days: int | None,
    *,
    kept: bool = False,
    retain_until: date = date(2099, 1, 1),
    appeal_of: str | None = None,
) -> dict[str, Any]:
    outcomes = [{"provider": "service-database", "status": "done", "retained": []}]
    if kept:
        outcomes.append({"provider": "stripe", "status": "retained", "retained": [{"b": 1}]})
    return {
        "request_id": f"req-{uuid.uuid4().hex[:12]}",
        "request_type": request_type,
        "jurisdiction": "US-CA",
        "channel": "web_form",
        "received_at": received,
        "respond_by": (received + timedelta(days=45)).date(),
        "extended": False,
        "status": status,
        "responded_at": None if days is None else received + timedelta(days=days),
        "denial_basis": None,
        "steps": [],
        "notices": [],
        "provider_outcomes": outcomes,
        "retain_until": retain_until,
        "appeal_of": appeal_of,
    }


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 15, 0, tzinfo=UTC)


# Twenty records of 2026, counted by hand below, plus three that must not count.
TWENTY = [
    # deletion: 6 received; 3 in whole (days 10, 20, 30), 1 in part (day 40),
    # 1 unverifiable (answered day 8), 1 not reconfirmed (answered day 7).
    record("deletion", "completed", at(1, 5), 10),
    record("deletion", "completed", at(2, 5), 20),
    record("deletion", "completed", at(3, 5), 30),
    record("deletion", "completed", at(4, 5), 40, kept=True),
    record("deletion", "unverifiable", at(5, 5), 8),
    record("deletion", "not_reconfirmed", at(6, 5), 7),
    # access: 8 received; 6 in whole (days 5, 15, 25, 35, 45, 44), 1 denied (day 12),
    # 1 still open (no answer yet).
    record("access", "completed", at(1, 10), 5),
    record("access", "completed", at(2, 10), 15),
    record("access", "completed", at(3, 10), 25),
    record("access", "completed", at(4, 10), 35),
    record("access", "completed", at(5, 10), 45),
    record("access", "completed", at(6, 10), 44),
    record("access", "denied", at(7, 10), 12),
    record("access", "fulfilling", at(12, 20), None),
    # opt_out: 4 received, all in whole (days 1, 2, 3, 4).
    record("opt_out", "completed", at(1, 1), 1),
    record("opt_out", "completed", at(8, 1), 2),
    record("opt_out", "completed", at(9, 1), 3),
    record("opt_out", "completed", at(10, 1), 4),
    # limit_sensitive: 2 received; 1 not granted (day 0), 1 in part (day 9).
    record("limit_sensitive", "not_granted", at(11, 1), 0),
    record("limit_sensitive", "completed", at(11, 2), 9, kept=True),
]
NOT_COUNTED = [
    record("deletion", "completed", at(12, 31, 2025), 3),  # received in 2025
    record("deletion", "completed", at(1, 1, 2027), 3),  # received in 2027
    record("appeal", "completed", at(3, 1), 5, appeal_of="req-x"),  # an appeal's own record
]


async def test_metrics_match_twenty_hand_counted_requests(harness: Harness) -> None:
    with harness.records_engine.begin() as db:
        db.execute(compliance_records.insert(), TWENTY + NOT_COUNTED)

    report = await harness.client.execute_workflow(
        MetricsReportWorkflow.run,
        MetricsInput(year=2026),
        id=f"metrics-{uuid.uuid4().hex[:8]}",
        task_queue=harness.settings.task_queue,
        result_type=MetricsReport,
    )

    rows = {row.request_type: row for row in report.rows}
    assert set(rows) == {"access", "deletion", "limit_sensitive", "opt_out"}
    deletion, access = rows["deletion"], rows["access"]
    assert (deletion.received, deletion.complied_in_whole, deletion.complied_in_part) == (6, 3, 1)
    assert deletion.denied == {
        "identity could not be verified": 1,
        "the deletion was not confirmed": 1,
    }
    assert deletion.median_days == 15.0  # 7, 8, 10, 20, 30, 40
    assert deletion.mean_days == 19.2  # 115 / 6
    assert (access.received, access.complied_in_whole, access.complied_in_part) == (8, 6, 0)
    assert access.denied == {"denied by the privacy team": 1}
    assert access.median_days == 25.0  # 5, 12, 15, 25, 35, 44, 45 (the open one not answered)
    assert access.mean_days == 25.9  # 181 / 7
    assert (rows["opt_out"].received, rows["opt_out"].complied_in_whole) == (4, 4)
    assert rows["opt_out"].median_days == 2.5
    limit = rows["limit_sensitive"]
    assert (limit.received, limit.complied_in_part, limit.denied) == (
        2,
        1,
        {"the law grants no such right": 1},
    )
    assert sum(row.received for row in report.rows) == 20
    written = json.loads((harness.settings.metrics_dir / "2026.json").read_text())
    assert written["year"] == 2026 and len(written["rows"]) == 4
    table = list(
        csv.DictReader(io.StringIO((harness.settings.metrics_dir / "2026.csv").read_text()))
    )
    by_type = {line["request_type"]: line for line in table}
    assert by_type["deletion"]["denied"] == "2" and by_type["deletion"]["median_days"] == "15.0"


async def test_the_purge_removes_only_what_is_past_retention(harness: Harness) -> None:
    today = (await harness.env.get_current_time()).date()
    old = record("deletion", "completed", at(1, 5, 2023), 10, retain_until=today - timedelta(1))
    due_today = record("access", "completed", at(1, 5, 2024), 10, retain_until=today)
    kept = record("access", "completed", at(1, 5, 2026), 10, retain_until=today + timedelta(1))
    message = {
        "kind": "complaint",
        "jurisdiction": "GB",
        "channel": "email",
        "received_at": at(1, 5, 2023),
        "answer_by": date(2023, 2, 4),
        "status": "answered",
        "notices": [],
    }
    with harness.records_engine.begin() as db:
        db.execute(compliance_records.insert(), [old, due_today, kept])
        db.execute(
            correspondence_records.insert(),
            [
                {**message, "correspondence_id": "msg-old", "retain_until": today - timedelta(1)},
                {**message, "correspondence_id": "msg-kept", "retain_until": today},
            ],
        )
        for row in (old, kept):
            db.execute(
                notice_ledger.insert().values(
                    request_id=row["request_id"],
                    notice_key="receipt-1",
                    kind="receipt",
                    message_id="<m@example>",
                    sent_at=row["received_at"],
                )
            )
    expired = harness.settings.reports_dir / "req-00000000-0000-0000-0000-00000000e0e0"
    live = harness.settings.reports_dir / "req-00000000-0000-0000-0000-00000000f0f0"
    for folder, expires in (
        (expired, datetime.now(UTC) - timedelta(1)),
        (live, datetime.now(UTC) + timedelta(1)),
    ):
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps({"expires_at": expires.isoformat()}))

    result = await harness.client.execute_workflow(
        RecordsPurgeWorkflow.run,
        id=f"purge-{uuid.uuid4().hex[:8]}",
        task_queue=harness.settings.task_queue,
        result_type=PurgeResult,
    )

    assert result == PurgeResult(
        compliance_records=1, correspondence_records=1, notices=1, report_folders=1
    )
    with harness.records_engine.connect() as db:
        left = set(db.execute(sa.select(compliance_records.c.request_id)).scalars())
        messages = set(db.execute(sa.select(correspondence_records.c.correspondence_id)).scalars())
        ledger = set(db.execute(sa.select(notice_ledger.c.request_id)).scalars())
    assert left == {due_today["request_id"], kept["request_id"]}
    assert messages == {"msg-kept"} and ledger == {kept["request_id"]}
    assert not expired.exists() and live.exists()


async def test_schedules_are_applied_idempotently_on_a_dev_server(tmp_path: Path) -> None:
    async with (
        await start_dev_server() as dev,
        Harness.running(dev, tmp_path) as harness,
    ):
        first = await apply_schedules(harness.client, harness.settings)
        second = await apply_schedules(harness.client, harness.settings)
        listed = {schedule.id async for schedule in await harness.client.list_schedules()}
        purge = await harness.client.get_schedule_handle(PURGE).describe()
        metrics = await harness.client.get_schedule_handle(METRICS).describe()
        sweep = await harness.client.get_schedule_handle(SWEEP).describe()
    assert first == {PURGE: "created", METRICS: "created", SWEEP: "created"}
    assert second == {PURGE: "updated", METRICS: "updated", SWEEP: "updated"}
    assert {PURGE, METRICS, SWEEP} <= listed
    assert sweep.schedule.action.workflow == "OverdueSweepWorkflow"  # type: ignore[union-attr]
    (after_midnight,) = sweep.schedule.spec.calendars
    assert [(r.start, r.end) for r in after_midnight.hour] == [(5, 5)]
    assert purge.schedule.action.workflow == "RecordsPurgeWorkflow"  # type: ignore[union-attr]
    assert metrics.schedule.action.workflow == "MetricsReportWorkflow"  # type: ignore[union-attr]
    (daily,) = purge.schedule.spec.calendars
    (yearly,) = metrics.schedule.spec.calendars
    assert [(r.start, r.end) for r in daily.hour] == [(3, 3)] and daily.day_of_month[0].end == 31
    assert [(r.start, r.end) for r in yearly.month] == [(1, 1)]
    assert [(r.start, r.end) for r in yearly.day_of_month] == [(2, 2)]


async def test_the_sweep_alerts_once_on_deadlines_no_watch_alerted(tmp_path: Path) -> None:
    """Runs on a task queue nobody polls stand for runs a worker outage or a failing workflow
    task has stalled: their watches cannot alert, so the sweep must."""
    async with (
        await start_dev_server() as dev,
        Harness.running(dev, tmp_path) as harness,
    ):
        now = datetime.now(UTC)
        # Colorado, received 50 days ago: 5 days overdue. Its own watch alerts at once.
        watched = await harness.submit(
            RequestType.ACCESS, jurisdiction=Jurisdiction.US_CO, received_at=now - timedelta(50)
        )
        stalled = harness.settings.model_copy(update={"task_queue": f"stalled-{uuid.uuid4()}"})

        async def start_stalled(jurisdiction: Jurisdiction, days_ago: int) -> str:
            new = NewRequest(
                type=RequestType.DELETION,
                jurisdiction=jurisdiction,
                requester=Requester(
                    full_name=MARIA[1], email=MARIA[0], residence=jurisdiction.value
                ),
                channel=Channel.WEB_FORM,
            )
            request = await rights_requests.submit_request(
                harness.client, stalled, new, received_at=now - timedelta(days_ago)
            )
            return request.request_id

        overdue = await start_stalled(Jurisdiction.US_CO, 50)  # 5 days past its deadline
        near = await start_stalled(Jurisdiction.US_CA, 43)  # due in 2 days: 3-day alert due
        later = await start_stalled(Jurisdiction.US_CA, 0)  # due in 45 days: nothing yet
        ledger = NoticeLedger(harness.records_engine)
        alert = NoticeKind.OPERATOR_DEADLINE_ALERT.value
        for _ in range(400):
            indexed = await list_requests(harness.client, DeskFilter())
            alerted = ledger.last_sent([watched.request_id], alert)
            if len(indexed) == 4 and watched.request_id in alerted:
                break
            await dev.sleep(0.05)

        async def sweep() -> SweepResult:
            return await harness.client.execute_workflow(
                OverdueSweepWorkflow.run,
                SweepInput(now=datetime.now(UTC)),
                id=f"sweep-{uuid.uuid4().hex[:8]}",
                task_queue=harness.settings.task_queue,
                result_type=SweepResult,
            )

        first, again = await sweep(), await sweep()
        digests = harness.outbox("overdue-sweep")
        for request_id in (overdue, near, later):
            await harness.handle(request_id).terminate("the test is over")
        # Withdrawn, not denied: a denial's appeal window would wait 60 real days here.
        await rights_requests.withdraw(
            harness.client, watched.request_id, OperatorNote(note="test over")
        )

    assert {row.request_id for row in indexed} == {watched.request_id, overdue, near, later}
    assert first.near_or_overdue == 3  # not `later`
    missed = {row.request_id: row for row in first.missed}
    assert set(missed) == {overdue, near}
    assert missed[overdue].days_left == -5 and missed[near].days_left == 2
    assert missed[overdue].last_alert is None and missed[near].status == "received"
    assert first.digest_sent and not again.digest_sent and len(again.missed) == 2
    (digest,) = digests
    assert digest["To"] == harness.settings.operator_email
    assert "2 requests past or near the deadline" in str(digest["Subject"])
    text = str(digest.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert overdue in text and near in text and "overdue by 5 days" in text
    assert watched.request_id not in text and later not in text
    assert MARIA[0] not in digest.as_string() and MARIA[1] not in digest.as_string()
