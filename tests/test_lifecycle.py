"""The request lifecycle as a requester and an operator see it: notices, rows, record, status."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from client import rights_requests
from dev.sample_service import accounts, appointments, messages, payments
from rights.activity_inputs import report_expiry_id
from rights.models import (
    Agent,
    CorrectionItem,
    DataPoint,
    DenyInput,
    ExtendInput,
    OperatorNote,
    OutcomeStatus,
    ProviderTaskDone,
    ReconfirmationAnswer,
    RequestStatus,
    StepStatus,
    VerificationAnswer,
    VerificationOutcome,
)
from rights.plans import ACCESS_ANSWER_WORDS, AccessAnswer
from rights.terms import Jurisdiction, RequestType
from tests.harness import MARIA, Harness, verify, verify_and_reconfirm

PHONE = {DataPoint.PHONE: MARIA[2]}
AGENT = Agent(
    full_name="Dana Whitfield",
    email="dana@agents.example.org",
    authorization_url="https://agents.example.org/permissions/77.pdf",
)


async def test_deletion_happy_path_deletes_masks_retains_and_records(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION)
    rid = request.request_id

    await verify(harness, rid)
    await harness.wait_for_notice(rid, "deletion_reconfirmation")
    confirm = harness.link_token(rid, "deletion_reconfirmation")
    answer = await rights_requests.confirm_deletion(
        harness.client, rid, ReconfirmationAnswer(token=confirm)
    )
    assert answer.outcome is VerificationOutcome.VERIFIED

    await harness.wait_for(rid, lambda s: any(t.provider == "paper-archive" for t in s.open_tasks))
    await rights_requests.provider_task_done(
        harness.client, rid, ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.DONE)
    )
    harness.save_history_if_recording(rid, "deletion_completed")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    assert harness.notice_kinds(rid) == [
        "receipt",
        "verification",
        "deletion_reconfirmation",
        "operator_task",
        "completed",
    ]
    with harness.service_engine.connect() as db:
        account = db.execute(sa.select(accounts)).one()
        assert account.email == f"deleted-{account.id}@deleted.invalid"
        assert account.full_name == "[redacted]" and account.phone is None
        assert db.execute(sa.select(sa.func.count()).select_from(appointments)).scalar() == 0
        assert db.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 0
        assert db.execute(sa.select(sa.func.count()).select_from(payments)).scalar() == 1
    outcomes = {o.provider: o for o in final.provider_outcomes}
    assert outcomes["service-database"].status is OutcomeStatus.RETAINED
    assert outcomes["paper-archive"].status is OutcomeStatus.DONE
    completed = harness.text(rid, "completed")
    assert "payment records: the law requires us to keep it: kept 7 years" in completed
    with harness.records_engine.connect() as db:
        record = db.execute(sa.text("select * from compliance_records")).one()
    assert record.request_id == rid and record.status == "completed"
    assert record.request_type == "deletion" and record.channel == "web_form"


async def test_a_new_deletion_pays_for_one_patch_marker_and_queues_only_linked_notices(
    harness: Harness,
) -> None:
    # Every earlier patch is one marker (and one TemporalChangeVersion upsert) for a new run;
    # notices are local activities, except those with a link the run waits on (0.5.3); the
    # attributes set at the start are not set again.
    request = await harness.submit(RequestType.DELETION)
    rid = request.request_id
    await verify_and_reconfirm(harness, rid)
    await close_paper_archive(harness, rid)
    await harness.result(rid)

    handle = harness.client.get_workflow_handle(rights_requests.workflow_id(rid))
    events = (await handle.fetch_history()).events
    markers = [
        e.marker_recorded_event_attributes
        for e in events
        if e.HasField("marker_recorded_event_attributes")
    ]
    patch_ids = [
        m.details["patch-data"].payloads[0].data for m in markers if m.marker_name == "core_patch"
    ]
    assert len(patch_ids) == 1 and b"0.5.3-links-after-wait" in patch_ids[0]
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    # Verification and confirmation carry links; receipt, operator task and completion do not.
    assert scheduled.count("send_notice") == 2 and "fulfil_at_provider" in scheduled
    local = [
        json.loads(m.details["data"].payloads[0].data)["activity_type"]
        for m in markers
        if m.marker_name == "core_local_activity"
    ]
    assert local.count("send_notice") == 3
    upserted = [
        set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    assert sum("TemporalChangeVersion" in keys for keys in upserted) == 1
    assert not any({"Jurisdiction", "RightsRequestType", "RespondBy"} & keys for keys in upserted)


async def close_paper_archive(harness: Harness, request_id: str) -> None:
    await harness.wait_for(request_id, lambda s: bool(s.open_tasks))
    await rights_requests.provider_task_done(
        harness.client,
        request_id,
        ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.NOT_FOUND),
    )


def report_of(harness: Harness, request_id: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(
        (harness.settings.reports_dir / request_id / "report.json").read_text()
    )
    return report


async def test_access_at_the_reasonable_standard_answers_with_categories(
    harness: Harness,
) -> None:
    request = await harness.submit(RequestType.ACCESS)
    rid = request.request_id
    await verify(harness, rid)
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "access_categories")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    report_dir = harness.settings.reports_dir / rid
    report = report_of(harness, rid)
    by_provider = {item["provider"]: item for item in report["categories"]}
    database = by_provider["service-database"]
    assert database["holds"] == "yes"
    assert {kind["name"]: kind["records"] for kind in database["kinds"]} == {
        "account profile": 1,
        "appointments": 2,
        "messages": 2,
        "payment records": 1,
    }
    assert database["purposes"] and database["recipients"] and database["retention"]
    assert by_provider["paper-archive"]["holds"] == "no"
    assert report["specific_pieces"] == {
        "provided": False,
        "explanation": ACCESS_ANSWER_WORDS[AccessAnswer.CATEGORIES_ASKED],
        "sources": [],
    }
    # Health data stays where it is: no message, appointment or contact detail in the report.
    everything = "".join(path.read_text() for path in report_dir.rglob("*.json"))
    for personal in (MARIA[0], MARIA[1], "lab results", "blood test"):
        assert personal not in everything
    assert not (report_dir / "sources").exists()
    completed = harness.text(rid, "completed")
    assert f"/r/{rid}/report?token=" in completed
    assert "categories of personal information" in completed
    assert not harness.message(rid, "completed").get_payload()[0].is_attachment()
    manifest = json.loads((report_dir / "manifest.json").read_text())
    assert datetime.fromisoformat(manifest["expires_at"]) > final.closed_at  # type: ignore[operator]


async def test_specific_pieces_after_the_reasonably_high_standard(harness: Harness) -> None:
    request = await harness.submit(RequestType.ACCESS, specific_pieces=True)
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")
    result = await rights_requests.answer_verification(
        harness.client,
        rid,
        VerificationAnswer(
            token=harness.link_token(rid, "verification"),
            data_points={DataPoint.PHONE: MARIA[2], DataPoint.DATE_OF_BIRTH: MARIA[3]},
            declaration_signed=True,
        ),
    )
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "access_specific_pieces")
    await harness.result(rid)

    assert result.standard_met == "reasonably_high"
    pieces = report_of(harness, rid)["specific_pieces"]
    assert pieces["provided"] is True
    (source,) = pieces["sources"]
    with harness.service_engine.connect() as db:
        account = db.execute(sa.select(accounts)).one()
        appointment_count = db.execute(
            sa.select(sa.func.count()).select_from(appointments)
        ).scalar()
    assert source["tables"]["accounts"][0]["email"] == account.email == MARIA[0]
    assert len(source["tables"]["appointments"]) == appointment_count == 2
    assert len(source["tables"]["payments"]) == 1


async def test_specific_pieces_fall_back_to_categories_below_the_high_standard(
    harness: Harness,
) -> None:
    request = await harness.submit(RequestType.ACCESS, specific_pieces=True)
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")
    token = harness.link_token(rid, "verification")

    wrong_phone = await rights_requests.answer_verification(
        harness.client,
        rid,
        VerificationAnswer(token=token, data_points={DataPoint.PHONE: "+1 415 555 9999"}),
    )
    no_declaration = await rights_requests.answer_verification(
        harness.client,
        rid,
        VerificationAnswer(
            token=token,
            data_points={DataPoint.PHONE: MARIA[2], DataPoint.DATE_OF_BIRTH: MARIA[3]},
        ),
    )
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "access_categories_fallback")
    final = await harness.result(rid)

    assert wrong_phone.outcome is VerificationOutcome.NOT_MATCHED
    assert "phone given does not match" in wrong_phone.message
    assert MARIA[2] not in wrong_phone.message
    assert no_declaration.outcome is VerificationOutcome.VERIFIED
    assert no_declaration.standard_met == "reasonable"
    assert "the specific pieces need two matching details and the signed declaration" in (
        no_declaration.message
    )
    assert final.status is RequestStatus.COMPLETED
    pieces = report_of(harness, rid)["specific_pieces"]
    assert pieces["provided"] is False and pieces["sources"] == []
    assert pieces["explanation"] == ACCESS_ANSWER_WORDS[AccessAnswer.CATEGORIES_FALLBACK]
    assert "11 CCR §7024(a)" in harness.text(rid, "completed")
    assert MARIA[0] not in (harness.settings.reports_dir / rid / "report.json").read_text()


async def test_report_files_are_deleted_when_their_link_expires(harness: Harness) -> None:
    request = await harness.submit(RequestType.ACCESS)
    rid = request.request_id
    await verify(harness, rid)
    await close_paper_archive(harness, rid)
    await harness.result(rid)
    report_dir = harness.settings.reports_dir / rid
    assert (report_dir / "report.json").is_file()
    expiry = harness.client.get_workflow_handle(report_expiry_id(rid), result_type=bool)

    await harness.env.sleep(
        timedelta(days=harness.settings.report_link_ttl_days) - timedelta(hours=1)
    )
    still_there = (report_dir / "report.json").is_file()
    await harness.env.sleep(timedelta(hours=2))
    harness.save_history_if_recording(report_expiry_id(rid), "report_expiry", workflow="expiry")
    deleted = await expiry.result()

    assert still_there
    assert deleted is True and not report_dir.exists()


async def test_a_deletion_removes_the_persons_earlier_reports(harness: Harness) -> None:
    access = await harness.submit(RequestType.ACCESS)
    await verify(harness, access.request_id)
    await close_paper_archive(harness, access.request_id)
    await harness.result(access.request_id)
    earlier = harness.settings.reports_dir / access.request_id
    assert (earlier / "report.json").is_file()

    deletion = await harness.submit(RequestType.DELETION)
    rid = deletion.request_id
    await verify_and_reconfirm(harness, rid)
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "deletion_with_earlier_report")
    final = await harness.result(rid)

    (reports,) = [o for o in final.provider_outcomes if o.provider == "access-reports"]
    assert reports.status is OutcomeStatus.DONE and reports.records_affected == 1
    assert not earlier.exists()
    assert "access reports we prepared for you earlier: done" in harness.text(rid, "completed")


async def test_verification_expires_after_a_reminder(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION)
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")

    await harness.env.sleep(timedelta(days=harness.settings.verification_ttl_days, hours=1))
    harness.save_history_if_recording(rid, "verification_expired")
    final = await harness.result(rid)

    assert final.status is RequestStatus.UNVERIFIABLE
    assert harness.notice_kinds(rid) == [
        "receipt",
        "verification",
        "verification_reminder",
        "unverifiable",
    ]
    assert harness.link_token(rid, "verification") != harness.link_token(
        rid, "verification_reminder"
    )
    assert "expired" in harness.text(rid, "unverifiable")
    reminder_sent = next(n for n in final.notices if n.kind.value == "verification_reminder")
    assert reminder_sent.sent_at - final.received_at >= timedelta(days=5)
    with harness.service_engine.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(appointments)).scalar() == 2


async def test_wrong_tokens_never_use_up_the_requesters_attempts(harness: Harness) -> None:
    request = await harness.submit(RequestType.ACCESS)
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")

    for _ in range(harness.settings.verification_max_attempts * 2):
        with pytest.raises(rights_requests.WrongToken):
            await rights_requests.answer_verification(
                harness.client, rid, VerificationAnswer(token="x" * 43, data_points=PHONE)
            )
    state = await harness.status(rid)
    assert state.status is RequestStatus.AWAITING_VERIFICATION
    assert state.verification_attempts == 0
    await verify(harness, rid)
    assert (await harness.status(rid)).verification_attempts == 1


async def test_answers_arriving_together_are_taken_one_at_a_time(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION)
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")
    answer = VerificationAnswer(token=harness.link_token(rid, "verification"), data_points=PHONE)

    results = await asyncio.gather(
        *(rights_requests.answer_verification(harness.client, rid, answer) for _ in range(3)),
        return_exceptions=True,
    )

    outcomes = [r.outcome for r in results if not isinstance(r, BaseException)]
    assert outcomes.count(VerificationOutcome.VERIFIED) == 1
    assert all(
        outcome is VerificationOutcome.ALREADY_ANSWERED
        for outcome in outcomes
        if outcome is not VerificationOutcome.VERIFIED
    )
    assert all(
        isinstance(r, rights_requests.RequestRefused)
        for r in results
        if isinstance(r, BaseException)
    )
    assert (await harness.status(rid)).verification_attempts == 1


async def test_verification_attempts_are_exhausted_by_wrong_details(harness: Harness) -> None:
    request = await harness.submit(RequestType.ACCESS)
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")
    wrong = VerificationAnswer(
        token=harness.link_token(rid, "verification"),
        data_points={DataPoint.PHONE: "+1 415 555 9999"},
    )

    outcomes = [
        (await rights_requests.answer_verification(harness.client, rid, wrong)).outcome
        for _ in range(harness.settings.verification_max_attempts)
    ]
    # Refused by the validator while the run is still closing, or unknown once it has closed.
    with pytest.raises((rights_requests.RequestRefused, rights_requests.UnknownRequest)):
        await rights_requests.answer_verification(harness.client, rid, wrong)
    harness.save_history_if_recording(rid, "verification_attempts_exhausted")
    final = await harness.result(rid)

    assert outcomes == [VerificationOutcome.NOT_MATCHED] * 4 + [
        VerificationOutcome.ATTEMPTS_EXHAUSTED
    ]
    assert final.status is RequestStatus.UNVERIFIABLE
    assert final.verification_attempts == 5
    assert "attempts were used up" in harness.text(rid, "unverifiable")


async def test_deletion_not_reconfirmed_closes_with_notice(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION)
    rid = request.request_id
    await verify(harness, rid)
    await harness.wait_for_notice(rid, "deletion_reconfirmation")

    await harness.env.sleep(timedelta(days=harness.settings.reconfirmation_ttl_days, hours=1))
    harness.save_history_if_recording(rid, "deletion_not_reconfirmed")
    final = await harness.result(rid)

    assert final.status is RequestStatus.NOT_RECONFIRMED
    assert harness.notice_kinds(rid)[-1] == "not_reconfirmed"
    assert "not deleted anything" in harness.text(rid, "not_reconfirmed")
    with harness.service_engine.connect() as db:
        assert db.execute(sa.select(accounts.c.email)).scalar() == MARIA[0]
        assert db.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 2


async def test_agent_rejected_closes_without_verification(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION, agent=AGENT)
    rid = request.request_id
    await harness.wait_for_notice(rid, "agent_authorization_needed")
    operator_mail = harness.message(rid, "agent_authorization_needed")
    assert operator_mail["To"] == harness.settings.operator_email
    assert AGENT.authorization_url in harness.text(rid, "agent_authorization_needed")  # type: ignore[operator]

    await rights_requests.reject_agent(
        harness.client, rid, DenyInput(reason="the signed permission was not provided")
    )
    harness.save_history_if_recording(rid, "agent_rejected")
    final = await harness.result(rid)

    assert final.status is RequestStatus.AGENT_REJECTED
    assert harness.notice_kinds(rid) == [
        "receipt",
        "agent_authorization_needed",
        "agent_rejected",
        "agent_rejected_requester",
    ]
    rejected = harness.message(rid, "agent_rejected")
    assert rejected["To"] == AGENT.email
    assert "signed permission was not provided" in harness.text(rid, "agent_rejected")
    # The consumer is told too (11 CCR §7063), with what they may do next.
    told = harness.message(rid, "agent_rejected_requester")
    assert told["To"] == MARIA[0]
    text = harness.text(rid, "agent_rejected_requester")
    assert "signed permission was not provided" in text
    assert "make the request yourself" in text and "California Privacy Protection Agency" in text


async def test_agent_approved_then_requester_verifies_directly(harness: Harness) -> None:
    request = await harness.submit(RequestType.ACCESS, agent=AGENT)
    rid = request.request_id
    await harness.wait_for_status(rid, RequestStatus.AWAITING_AGENT_AUTHORIZATION)
    with pytest.raises(rights_requests.RequestRefused, match="not waiting for identity"):
        await rights_requests.verify_manually(harness.client, rid, OperatorNote())

    await rights_requests.approve_agent(harness.client, rid, OperatorNote(note="POA on file"))
    await verify(harness, rid)

    assert harness.message(rid, "verification")["To"] == MARIA[0]
    state = await harness.wait_for_status(rid, RequestStatus.FULFILLING)
    steps = {step.name.value: step for step in state.steps}
    assert steps["agent_authorization"].status is StepStatus.DONE
    assert steps["identity_verification"].status is StepStatus.DONE


async def test_operator_deny_sends_the_reason_and_further_rights(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION, jurisdiction=Jurisdiction.US_CO)
    rid = request.request_id
    await harness.wait_for_status(rid, RequestStatus.AWAITING_VERIFICATION)
    reason = "the records are subject to a litigation hold (C.R.S. 6-1-1304(3)(a)(IV))"

    await rights_requests.deny(harness.client, rid, DenyInput(reason=reason))
    harness.save_history_if_recording(rid, "operator_denied")
    await harness.wait_for_status(rid, RequestStatus.DENIED)
    await harness.wait_for_notice(rid, "denied")
    # The appeal link works for APPEAL_WINDOW_DAYS; the run ends when it expires unused.
    await harness.env.sleep(timedelta(days=harness.settings.appeal_window_days, hours=1))
    final = await harness.result(rid)

    assert final.status is RequestStatus.DENIED
    assert final.denial_reason == reason
    denied = harness.text(rid, "denied")
    assert reason in denied and f"/r/{rid}/appeal?token=" in denied
    assert "Colorado Attorney General" in denied and "https://coag.gov/file-complaint/" in denied
    assert final.appeal_by is not None and final.appeal_by.isoformat() in denied
    assert final.appeal is None
    steps = {step.name.value: step for step in final.steps}
    assert steps["identity_verification"].status is StepStatus.FAILED
    with harness.records_engine.connect() as db:
        record = db.execute(sa.text("select status, denial_basis from compliance_records")).one()
    assert tuple(record) == ("denied", reason)
    with pytest.raises(rights_requests.UnknownRequest):
        await rights_requests.deny(harness.client, rid, DenyInput(reason=reason))


async def test_withdrawn_request_stops_and_confirms(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION)
    rid = request.request_id
    await verify(harness, rid)
    await harness.wait_for_status(rid, RequestStatus.AWAITING_RECONFIRMATION)

    await rights_requests.withdraw(harness.client, rid, OperatorNote(note="requester phoned"))
    harness.save_history_if_recording(rid, "withdrawn")
    final = await harness.result(rid)

    assert final.status is RequestStatus.WITHDRAWN
    assert harness.notice_kinds(rid)[-1] == "withdrawn"
    with harness.service_engine.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(appointments)).scalar() == 2


async def reach_open_manual_task(harness: Harness) -> str:
    request = await harness.submit(RequestType.DELETION)
    rid = request.request_id
    await verify_and_reconfirm(harness, rid)
    await harness.wait_for(rid, lambda s: any(t.provider == "paper-archive" for t in s.open_tasks))
    return rid


async def test_extension_notice_while_task_open_then_response_before_extended_date(
    harness: Harness,
) -> None:
    rid = await reach_open_manual_task(harness)
    received = (await harness.status(rid)).due_dates.received

    await harness.env.sleep(timedelta(days=41))
    state = await harness.wait_for_notice(rid, "extension")
    await rights_requests.provider_task_done(
        harness.client, rid, ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.DONE)
    )
    harness.save_history_if_recording(rid, "extended_then_completed")
    final = await harness.result(rid)

    assert state.extended and state.respond_by == received + timedelta(days=90)
    extension = harness.text(rid, "extension")
    assert state.respond_by.isoformat() in extension and "by 45 days" in extension
    assert "our privacy team is completing part of the work by hand" in extension
    sent = {n.kind.value: n.sent_at.date() for n in final.notices}
    assert sent["extension"] <= state.due_dates.respond_by
    assert sent["completed"] <= final.respond_by
    assert harness.notice_kinds(rid)[-2:] == ["extension", "completed"]


async def test_operator_alert_near_the_extended_date(harness: Harness) -> None:
    rid = await reach_open_manual_task(harness)

    await harness.env.sleep(timedelta(days=86))
    state = await harness.wait_for_notice(rid, "operator_deadline_alert")

    alert = harness.message(rid, "operator_deadline_alert")
    assert alert["To"] == harness.settings.operator_email
    assert state.respond_by.isoformat() in str(alert["Subject"])
    assert "paper-archive" in harness.text(rid, "operator_deadline_alert")
    sent = next(n for n in state.notices if n.kind.value == "operator_deadline_alert")
    assert sent.sent_at.date() < state.respond_by
    await rights_requests.deny(harness.client, rid, DenyInput(reason="closing the test run"))
    harness.save_history_if_recording(rid, "operator_alerted")
    assert (await harness.result(rid)).status is RequestStatus.DENIED


async def test_operator_extension_is_bounded_by_law(harness: Harness) -> None:
    rid = await reach_open_manual_task(harness)

    with pytest.raises(rights_requests.RequestRefused, match="would pass the latest lawful date"):
        await rights_requests.extend(harness.client, rid, ExtendInput(reason="complex", days=46))
    state = await rights_requests.extend(
        harness.client, rid, ExtendInput(reason="the archive is off site", days=30)
    )
    with pytest.raises(rights_requests.RequestRefused, match="already been extended"):
        await rights_requests.extend(harness.client, rid, ExtendInput(reason="again", days=5))

    assert state.respond_by == state.due_dates.respond_by + timedelta(days=30)
    assert "the archive is off site" in harness.text(rid, "extension")


async def test_duplicate_submission_is_refused(harness: Harness) -> None:
    first = await harness.submit(RequestType.OPT_OUT, request_id="dup-request-0001")

    with pytest.raises(rights_requests.RequestRefused, match="already exists"):
        await harness.submit(RequestType.DELETION, request_id="dup-request-0001")
    final = await harness.result(first.request_id)

    assert final.type is RequestType.OPT_OUT


async def test_a_right_not_granted_is_answered_with_the_reason_and_recorded(
    harness: Harness,
) -> None:
    request = await harness.submit(RequestType.LIMIT_SENSITIVE, jurisdiction=Jurisdiction.US_UT)
    rid = request.request_id
    harness.save_history_if_recording(rid, "right_not_granted")

    final = await harness.result(rid)

    assert final.status is RequestStatus.NOT_GRANTED
    assert harness.notice_kinds(rid) == ["not_granted"]
    text = harness.text(rid, "not_granted")
    assert "the Utah Consumer Privacy Act does not give a right to limit the use" in text
    assert "access, correction, deletion, opt out, portability" in text  # what Utah law grants
    assert "Utah Division of Consumer Protection" in text and "/appeal?token=" not in text
    with harness.records_engine.connect() as db:
        record = db.execute(sa.text("select status, denial_basis from compliance_records")).one()
    assert record.status == "not_granted" and "does not give a right" in record.denial_basis


@pytest.mark.parametrize(
    ("residence", "regulator"),
    [("US-NV", "https://reportfraud.ftc.gov/"), ("JP", "https://www.econsumer.gov/")],
)
async def test_a_residence_no_law_covers_is_answered_and_recorded(
    harness: Harness, residence: str, regulator: str
) -> None:
    request = await harness.submit(
        RequestType.DELETION, jurisdiction=Jurisdiction.UNCOVERED, residence=residence
    )
    rid = request.request_id
    harness.save_history_if_recording(rid, f"uncovered_residence_{residence.lower()}")

    final = await harness.result(rid)

    assert final.status is RequestStatus.NOT_GRANTED
    assert harness.notice_kinds(rid) == ["not_granted"]
    text = harness.text(rid, "not_granted")
    assert "none of the privacy laws we apply covers where you live" in text
    assert regulator in text and "/appeal?token=" not in text
    with harness.records_engine.connect() as db:
        record = db.execute(sa.text("select jurisdiction, status from compliance_records")).one()
    assert (record.jurisdiction, record.status) == ("uncovered", "not_granted")


async def test_opt_out_needs_no_verification(harness: Harness) -> None:
    request = await harness.submit(RequestType.OPT_OUT)
    harness.save_history_if_recording(request.request_id, "opt_out_completed")
    final = await harness.result(request.request_id)

    assert final.status is RequestStatus.COMPLETED
    assert harness.notice_kinds(request.request_id) == ["receipt", "completed"]
    steps = {step.name.value: step.status for step in final.steps}
    assert steps["identity_verification"] is StepStatus.SKIPPED
    with harness.service_engine.connect() as db:
        assert db.execute(sa.select(accounts.c.sale_opt_out)).scalar() is True
    assert final.due_dates.extended_respond_by is None


async def test_correction_applies_allowed_fields_and_tasks_the_rest(harness: Harness) -> None:
    corrections = [
        CorrectionItem(field="phone", corrected_value="+1 415 555 0199"),
        CorrectionItem(field="date_of_birth", corrected_value="1984-03-21"),
    ]
    request = await harness.submit(RequestType.CORRECTION, corrections=corrections)
    rid = request.request_id
    await verify(harness, rid)
    state = await harness.wait_for(
        rid, lambda s: any(t.provider == "service-database" for t in s.open_tasks)
    )
    task = next(t for t in state.open_tasks if t.provider == "service-database")
    assert task.detail == "correct by hand: date_of_birth"
    for provider in ("service-database", "paper-archive"):
        await rights_requests.provider_task_done(
            harness.client, rid, ProviderTaskDone(provider=provider, status=OutcomeStatus.DONE)
        )
    harness.save_history_if_recording(rid, "correction_completed")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    with harness.service_engine.connect() as db:
        assert db.execute(sa.select(accounts.c.phone)).scalar() == "+1 415 555 0199"
    assert "Corrected: phone." in harness.text(rid, "completed")


async def test_status_query_carries_no_personal_data(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION, agent=AGENT)
    state = await harness.wait_for_status(
        request.request_id, RequestStatus.AWAITING_AGENT_AUTHORIZATION
    )
    dumped = state.model_dump_json()
    for secret in (MARIA[0], MARIA[1], AGENT.email, AGENT.full_name):
        assert secret not in dumped
    await rights_requests.withdraw(harness.client, request.request_id, OperatorNote())
    await harness.result(request.request_id)


async def test_verification_attempts_survive_a_worker_restart(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"rights-restart-{uuid.uuid4().hex[:6]}"
    # No cache: a crashed worker keeps nothing, and the server hands its runs to the next one.
    async with Harness.running(env, tmp_path, task_queue=queue, workflow_cache_size=0) as before:
        request = await before.submit(RequestType.ACCESS)
        rid = request.request_id
        await before.wait_for_notice(rid, "verification")
        wrong = VerificationAnswer(
            token=before.link_token(rid, "verification"),
            data_points={DataPoint.PHONE: "+1 415 555 9999"},
        )
        for _ in range(2):
            await rights_requests.answer_verification(before.client, rid, wrong)
        before.release(rid)

    async with Harness.running(env, tmp_path, task_queue=queue) as after:
        after.track(rid)
        results = [
            await rights_requests.answer_verification(after.client, rid, wrong) for _ in range(3)
        ]
        final = await after.result(rid)

    assert [r.attempts_left for r in results] == [2, 1, 0]
    assert results[-1].outcome is VerificationOutcome.ATTEMPTS_EXHAUSTED
    assert final.status is RequestStatus.UNVERIFIABLE and final.verification_attempts == 5
