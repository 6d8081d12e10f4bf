"""Appeals, end to end on the time-skipping server: filed through a refusal's link, by intake
or by an operator; decided by the privacy team; carried out, recorded, refused where no law
grants one, and closed once its link has expired.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from temporalio.common import SearchAttributeKey

from client import rights_requests
from dev.sample_service import messages
from rights.models import (
    AppealDecision,
    AppealFiling,
    AppealOutcome,
    Channel,
    DenyInput,
    ExtendInput,
    NoticeSent,
    OutcomeStatus,
    ProviderTaskDone,
    RequestStatus,
)
from rights.terms import Jurisdiction, RequestType
from tests.harness import INTAKE_KEY, MARIA, Harness

AUTH = {"Authorization": f"Bearer {INTAKE_KEY}"}
REQUEST_TYPE = SearchAttributeKey.for_keyword("RightsRequestType")


async def denied(harness: Harness, type: RequestType, jurisdiction: Jurisdiction) -> str:
    """A request the privacy team refused before verification; its denial notice sent."""
    request = await harness.submit(type, jurisdiction=jurisdiction)
    rid = request.request_id
    await harness.wait_for_status(rid, RequestStatus.AWAITING_VERIFICATION)
    await rights_requests.deny(
        harness.client, rid, DenyInput(reason="the account named in the request was closed")
    )
    await harness.wait_for_notice(rid, "denied")
    return rid


def sent_on_days(notices: list[NoticeSent], kind: str, start: date) -> list[int]:
    """The days after `start` on which each `kind` notice went out."""
    return [(n.sent_at.date() - start).days for n in notices if n.kind.value == kind]


async def test_colorado_denial_appealed_through_its_link_extended_once_and_granted(
    harness: Harness,
) -> None:
    rid = await denied(harness, RequestType.DELETION, Jurisdiction.US_CO)
    notice = harness.text(rid, "denied")
    assert f"/r/{rid}/appeal?token=" in notice and "Colorado Attorney General" in notice
    path = harness.link_path(rid, "denied")

    async with harness.pages() as http:
        form = await http.get(path)
        assert form.status_code == 200 and "Appeal our decision" in form.text
        assert "the account named in the request was closed" in form.text
        token = path.split("token=")[1]
        empty = await http.post(path.split("?")[0], data={"token": token, "reason": " "})
        filed = await http.post(
            path.split("?")[0],
            data={"token": token, "reason": "My account is open; I log in every week."},
        )
        again = await http.post(path.split("?")[0], data={"token": token, "reason": "Again."})

    assert empty.status_code == 400 and "Tell us why." in empty.text
    assert filed.status_code == 200 and "We received your appeal" in filed.text
    assert again.status_code == 410
    original = await harness.wait_for(rid, lambda s: s.appeal is not None)
    assert original.appeal is not None and not original.appeal_window_open
    appeal_id = original.appeal.appeal_id
    appeal = await harness.wait_for_status(appeal_id, RequestStatus.AWAITING_APPEAL_DECISION)
    harness.save_history_if_recording(rid, "colorado_appeal_granted")
    harness.save_history_if_recording(appeal_id, "colorado_appeal")

    # Its own run, linked both ways, with Colorado's 45-day appeal period.
    assert appeal.type is RequestType.APPEAL and appeal.appeal_of == rid
    assert appeal.respond_by == appeal.received_at.date() + timedelta(days=45)
    assert appeal.due_dates.extended_respond_by == appeal.received_at.date() + timedelta(days=105)
    described = await harness.handle(appeal_id).describe()
    assert described.typed_search_attributes.get(REQUEST_TYPE) == "appeal"
    assert harness.message(rid, "appeal_received")["To"] == MARIA[0]
    assert f"decide-appeal {appeal_id}" in harness.text(rid, "operator_appeal_review")

    extended = await rights_requests.extend(
        harness.client,
        appeal_id,
        ExtendInput(reason="we are asking the clinic that closed the account", days=60),
    )
    assert extended.extended and extended.respond_by == appeal.respond_by + timedelta(days=60)
    with pytest.raises(rights_requests.RequestRefused, match="already been extended once"):
        await rights_requests.extend(
            harness.client, appeal_id, ExtendInput(reason="once more", days=1)
        )
    await harness.wait_for_notice(appeal_id, "extension")
    extension = harness.text(rid, "extension")
    assert "by 60 days" in extension and extended.respond_by.isoformat() in extension

    await rights_requests.decide_appeal(
        harness.client,
        appeal_id,
        AppealDecision(outcome=AppealOutcome.GRANTED, reasons="the account was open after all"),
    )
    assert (await harness.wait_for_status(appeal_id, RequestStatus.APPEAL_GRANTED)).closed_at
    assert "the account was open after all" in harness.text(rid, "appeal_granted")

    # The refused deletion is now carried out: the service database, then the paper archive.
    await harness.wait_for(rid, lambda s: bool(s.open_tasks))
    await rights_requests.provider_task_done(
        harness.client, rid, ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.DONE)
    )
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    assert final.appeal is not None and final.appeal.outcome is AppealOutcome.GRANTED
    completed = harness.text(rid, "completed")
    assert "We granted your appeal, and have now carried out your deletion request" in completed
    with harness.service_engine.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 0
    with harness.records_engine.connect() as db:
        rows = {
            row.request_id: row
            for row in db.execute(sa.text("select request_id, status, appeal_of, appeal from "
                                          "compliance_records"))
        }  # fmt: skip
    assert rows[rid].status == "completed" and appeal_id in rows[rid].appeal
    assert "granted" in rows[rid].appeal
    assert rows[appeal_id].status == "appeal_granted" and rows[appeal_id].appeal_of == rid


async def test_texas_appeal_filed_by_intake_escalates_and_is_denied_with_the_ag_link(
    harness: Harness,
) -> None:
    rid = await denied(harness, RequestType.ACCESS, Jurisdiction.US_TX)
    async with harness.pages() as http:
        response = await http.post(
            "/v1/requests",
            json={
                "type": "appeal",
                "appeal_of": rid,
                "channel": "email",
                "details": "I sent the form from my own address.",
            },
            headers=AUTH,
        )
    assert response.status_code == 202, response.text
    appeal_id = response.json()["request_id"]
    assert response.json()["appeal_of"] == rid
    appeal = await harness.wait_for_status(appeal_id, RequestStatus.AWAITING_APPEAL_DECISION)
    assert appeal.respond_by == appeal.received_at.date() + timedelta(days=60)
    harness.save_history_if_recording(rid, "texas_appeal_denied")
    harness.save_history_if_recording(appeal_id, "texas_appeal_escalated_denied")

    # Undecided, the appeal climbs the same ladder as a request: 14, 7, 3 and 1 days before.
    await harness.env.sleep(timedelta(days=59, hours=1))
    waiting = await harness.wait_for_notice(appeal_id, "operator_deadline_alert", count=4)
    start = waiting.received_at.date()
    assert sent_on_days(waiting.notices, "operator_deadline_alert", start) == [46, 53, 57, 59]
    alert = harness.text(rid, "operator_deadline_alert")
    assert "the appeal awaits an operator's decision" in alert
    assert f"decide-appeal {appeal_id}" in alert
    assert "extension" not in {n.kind.value for n in waiting.notices}  # Texas allows none

    await rights_requests.decide_appeal(
        harness.client,
        appeal_id,
        AppealDecision(outcome=AppealOutcome.DENIED, reasons="the request came from another"
                       " address than the one on the account"),
    )  # fmt: skip
    closed = await harness.wait_for_status(appeal_id, RequestStatus.APPEAL_DENIED)
    final = await harness.result(rid)

    assert closed.denial_reason is not None and "another address" in closed.denial_reason
    assert final.status is RequestStatus.DENIED
    assert final.appeal is not None and final.appeal.outcome is AppealOutcome.DENIED
    answer = harness.text(rid, "appeal_denied")
    assert "another address than the one on the account" in answer
    assert "the Texas Attorney General" in answer
    assert (
        "https://www.texasattorneygeneral.gov/consumer-protection/file-consumer-complaint" in answer
    )
    with harness.records_engine.connect() as db:
        record = db.execute(
            sa.text("select status, appeal_of from compliance_records where request_id = :id"),
            {"id": appeal_id},
        ).one()
    assert (record.status, record.appeal_of) == ("appeal_denied", rid)


async def test_california_appeal_is_refused_with_the_regulator(harness: Harness) -> None:
    rid = await denied(harness, RequestType.DELETION, Jurisdiction.US_CA)
    final = await harness.result(rid)
    assert final.status is RequestStatus.DENIED and final.appeal_by is None
    assert "/appeal?token=" not in harness.text(rid, "denied")

    with pytest.raises(rights_requests.RequestRefused) as refused:
        await rights_requests.file_appeal(
            harness.client, rid, AppealFiling(reason="Please look again.", channel=Channel.EMAIL)
        )
    async with harness.pages() as http:
        response = await http.post(
            "/v1/requests",
            json={"type": "appeal", "appeal_of": rid, "channel": "email", "details": "Again."},
            headers=AUTH,
        )

    assert "US-CA law grants no appeal" in str(refused.value)
    assert "California Privacy Protection Agency" in str(refused.value)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "appeal_of" and "grants no appeal" in error["problem"]
    assert (await harness.status(rid)).appeal is None


async def test_an_appeal_link_used_after_it_expired_is_closed(harness: Harness) -> None:
    rid = await denied(harness, RequestType.ACCESS, Jurisdiction.US_VA)
    path = harness.link_path(rid, "denied")
    harness.save_history_if_recording(rid, "appeal_window_lapsed")
    await harness.env.sleep(timedelta(days=harness.settings.appeal_window_days, hours=1))
    final = await harness.result(rid)
    assert final.status is RequestStatus.DENIED and not final.appeal_window_open

    async with harness.pages() as http:
        shown = await http.get(path)
        posted = await http.post(
            path.split("?")[0], data={"token": path.split("token=")[1], "reason": "Too late?"}
        )
        by_intake = await http.post(
            "/v1/requests",
            json={"type": "appeal", "appeal_of": rid, "channel": "email", "details": "Late."},
            headers=AUTH,
        )

    assert shown.status_code == 410 and posted.status_code == 410
    assert "Appeal our decision" not in shown.text + posted.text
    assert by_intake.status_code == 422
    assert "its appeal period has ended" in by_intake.json()["errors"][0]["problem"]
    assert final.appeal is None and "appeal_received" not in harness.notice_kinds(rid)
