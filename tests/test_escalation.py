"""Nothing lapses silently: the privacy team is alerted on a ladder before every deadline and
daily once it has passed, naming where the request is stuck and what unblocks it; the
requester is told of an extension only with its reason and length, and never merely because
the request waits on them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from client import rights_requests
from rights.escalation import latest_rung, next_rung
from rights.models import NoticeSent, OutcomeStatus, ProviderTaskDone, RequestStatus
from rights.terms import Jurisdiction, RequestType
from tests.harness import Harness, verify_and_reconfirm


def alert_days(notices: list[NoticeSent], start: date) -> list[int]:
    """The days after `start` on which the privacy team was alerted."""
    return [
        (n.sent_at.date() - start).days
        for n in notices
        if n.kind.value == "operator_deadline_alert"
    ]


async def test_a_manual_task_left_open_climbs_the_ladder_then_daily(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION, jurisdiction=Jurisdiction.US_CA)
    rid = request.request_id
    await verify_and_reconfirm(harness, rid)
    await harness.wait_for(rid, lambda s: bool(s.open_tasks))
    harness.save_history_if_recording(rid, "manual_task_ladder")

    # California: 45 days, extended once to 90 at day 40 (five days' lead), then overdue.
    await harness.env.sleep(timedelta(days=93, hours=1))
    state = await harness.wait_for_notice(rid, "operator_deadline_alert", count=9)
    start = state.received_at.date()

    assert alert_days(state.notices, start) == [31, 38, 76, 83, 87, 89, 91, 92, 93]
    assert state.extended and state.respond_by == start + timedelta(days=90)
    [extension] = [n for n in state.notices if n.kind.value == "extension"]
    assert (extension.sent_at.date() - start).days == 40
    told = harness.text(rid, "extension")
    assert "our privacy team is completing part of the work by hand" in told
    assert "by 45 days" in told and state.respond_by.isoformat() in told
    overdue = harness.message(rid, "operator_deadline_alert")
    assert "OVERDUE by 3 days" in str(overdue["Subject"])
    alert = harness.text(rid, "operator_deadline_alert")
    assert "Stuck at: operator tasks open at paper-archive" in alert
    assert f"starter.py task-done {rid} --provider P" in alert

    await rights_requests.provider_task_done(
        harness.client, rid, ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.DONE)
    )
    final = await harness.result(rid)
    assert final.status is RequestStatus.COMPLETED
    # Answered, the request is alerted about no more.
    assert alert_days(final.notices, start) == [31, 38, 76, 83, 87, 89, 91, 92, 93]


@pytest.mark.parametrize("jurisdiction", [Jurisdiction.EU, Jurisdiction.GB])
async def test_a_request_waiting_on_its_requester_gets_no_extension(
    env: WorkflowEnvironment, tmp_path: Path, jurisdiction: Jurisdiction
) -> None:
    async with Harness.running(env, tmp_path, verification_ttl_days=30) as harness:
        residence = "DE" if jurisdiction is Jurisdiction.EU else "GB"
        request = await harness.submit(
            RequestType.ACCESS, jurisdiction=jurisdiction, residence=residence
        )
        rid = request.request_id
        await harness.wait_for_status(rid, RequestStatus.AWAITING_VERIFICATION)
        harness.save_history_if_recording(
            rid, f"{jurisdiction.value.lower()}_verification_not_extended"
        )

        await harness.env.sleep(timedelta(days=30, hours=1))
        final = await harness.result(rid)

    kinds = [n.kind.value for n in final.notices]
    assert "extension" not in kinds and not final.extended
    assert final.status is RequestStatus.UNVERIFIABLE
    # The team still heard of it, on the ladder, with what would move it on.
    assert kinds.count("operator_deadline_alert") >= 3
    alert = harness.text(rid, "operator_deadline_alert")
    assert "waiting for the requester to confirm their identity" in alert
    assert f"verify-manually {rid}" in alert
    refusal = harness.text(rid, "unverifiable")
    # The authority where the requester lives (GDPR Art. 77), or the ICO.
    regulator = "https://ico.org.uk/" if jurisdiction is Jurisdiction.GB else "www.bfdi.bund.de"
    assert regulator in refusal and "courts" in refusal


LADDER = (14, 7, 3, 1)
DUE = date(2026, 12, 20)


@pytest.mark.parametrize(
    ("now", "latest"),
    [
        (datetime(2026, 12, 5, 23, 59, tzinfo=UTC), None),  # before the first rung
        (datetime(2026, 12, 6, 0, 0, tzinfo=UTC), datetime(2026, 12, 6, tzinfo=UTC)),
        (datetime(2026, 12, 18, 12, 0, tzinfo=UTC), datetime(2026, 12, 17, tzinfo=UTC)),
        (datetime(2026, 12, 20, 12, 0, tzinfo=UTC), datetime(2026, 12, 19, tzinfo=UTC)),
        (datetime(2026, 12, 21, 0, 0, tzinfo=UTC), datetime(2026, 12, 21, tzinfo=UTC)),
        (datetime(2026, 12, 25, 5, 0, tzinfo=UTC), datetime(2026, 12, 25, tzinfo=UTC)),
    ],
)
def test_the_latest_rung_is_the_alert_the_watch_last_owed(
    now: datetime, latest: datetime | None
) -> None:
    assert latest_rung(DUE, LADDER, now=now) == latest


@given(
    st.datetimes(
        min_value=datetime(2026, 11, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC)
    )
)
def test_the_watch_alerts_at_every_rung_the_sweep_expects(now: datetime) -> None:
    """The sweep's expectation and the watch's timers agree: the watch's next alert after the
    latest rung is after `now`, so no alert is expected that the watch would not have sent."""
    latest = latest_rung(DUE, LADDER, now=now)
    if latest is None:
        assert next_rung(DUE, LADDER, after=datetime(2026, 10, 1, tzinfo=UTC)) > now
    else:
        assert latest <= now < next_rung(DUE, LADDER, after=latest)
        assert latest == next_rung(DUE, LADDER, after=latest - timedelta(microseconds=1))


async def test_a_watch_starting_after_its_rungs_sends_one_alert_for_the_latest(
    harness: Harness,
) -> None:
    """A request received long ago, or a worker back from an outage: one alert, not nine, and
    no extension notice after the day the law allowed it."""
    now = await harness.env.get_current_time()
    request = await harness.submit(
        RequestType.ACCESS, jurisdiction=Jurisdiction.US_CO, received_at=now - timedelta(days=50)
    )
    rid = request.request_id
    await harness.wait_for_notice(rid, "operator_deadline_alert")
    harness.save_history_if_recording(rid, "late_watch_one_alert")
    first = harness.message(rid, "operator_deadline_alert")

    await harness.env.sleep(timedelta(days=1))
    state = await harness.wait_for_notice(rid, "operator_deadline_alert", count=2)

    alerts = [n for n in state.notices if n.kind.value == "operator_deadline_alert"]
    assert len(alerts) == 2 and not state.extended
    assert "extension" not in [n.kind.value for n in state.notices]
    assert "OVERDUE by 5 days" in str(first["Subject"])
    assert "OVERDUE by 6 days" in str(harness.message(rid, "operator_deadline_alert")["Subject"])
