"""Requests under the newer state laws, run end to end on the time-skipping server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from client import rights_requests
from dev.sample_service import accounts
from rights.deadlines import RightNotGranted, due_dates
from rights.models import (
    Agent,
    AgentRole,
    Channel,
    CorrectionItem,
    DataPoint,
    MinorRemoval,
    NewRequest,
    OperatorNote,
    OutcomeStatus,
    ProviderTaskDone,
    ReconfirmationAnswer,
    Requester,
    RequestStatus,
    SecondOperator,
    StepStatus,
    VerificationAnswer,
    VerificationOutcome,
)
from rights.terms import Jurisdiction, RequestType
from tests.harness import MARIA, Harness, verify
from tests.test_lifecycle import close_paper_archive, report_of


async def test_a_minnesota_deletion_runs_on_the_minnesota_act(harness: Harness) -> None:
    request = await harness.submit(RequestType.DELETION, jurisdiction=Jurisdiction.US_MN)
    rid = request.request_id
    await verify(harness, rid)
    await harness.wait_for_notice(rid, "deletion_reconfirmation")
    answer = await rights_requests.confirm_deletion(
        harness.client,
        rid,
        ReconfirmationAnswer(token=harness.link_token(rid, "deletion_reconfirmation")),
    )
    assert answer.outcome is VerificationOutcome.VERIFIED
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "minnesota_deletion_completed")
    await harness.wait_for_notice(rid, "completed")
    # Records kept by law are a partial refusal: the appeal link works for the window.
    await harness.env.sleep(timedelta(days=harness.settings.appeal_window_days, hours=1))
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    completed = harness.text(rid, "completed")
    assert f"/r/{rid}/appeal?token=" in completed
    assert "Minnesota Attorney General" in completed
    received = final.due_dates.received
    assert final.respond_by == received + timedelta(days=45)
    assert "§325M.14" in final.due_dates.legal_basis.respond_by
    receipt = harness.text(rid, "receipt")
    assert f"respond by {final.respond_by.isoformat()} (Minn. Stat. §325M.14 subd. 4)" in receipt
    with harness.records_engine.connect() as db:
        record = db.execute(sa.text("select jurisdiction, status from compliance_records")).one()
    assert (record.jurisdiction, record.status) == ("US-MN", "completed")


async def test_a_resident_of_a_state_without_a_law_is_honoured(harness: Harness) -> None:
    request = await harness.submit(
        RequestType.ACCESS, jurisdiction=Jurisdiction.US_NO_STATE_LAW, residence="US-NV"
    )
    rid = request.request_id
    await verify(harness, rid)
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "no_state_law_access_honoured")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    assert harness.notice_kinds(rid)[0] == "receipt"
    assert final.respond_by == final.due_dates.received + timedelta(days=45)
    assert "our privacy policy" in final.due_dates.legal_basis.respond_by


async def test_a_resident_of_a_state_without_a_law_is_answered_when_not_honoured(
    harness: Harness,
) -> None:
    harness.settings = harness.settings.model_copy(update={"honour_states_without_law": False})
    request = await harness.submit(
        RequestType.ACCESS, jurisdiction=Jurisdiction.US_NO_STATE_LAW, residence="US-NV"
    )
    rid = request.request_id
    final = await harness.result(rid)

    assert final.status is RequestStatus.NOT_GRANTED
    assert harness.notice_kinds(rid) == ["not_granted"]
    text = harness.text(rid, "not_granted")
    assert "the state where you live has no consumer privacy law in force" in text
    assert "https://reportfraud.ftc.gov/" in text


async def test_an_evening_receipt_in_minneapolis_counts_from_that_day(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"business_timezone": "America/Chicago"})
    # 9:30 pm on 2 December in Minneapolis is 03:30 on 3 December in UTC.
    evening = datetime(2026, 12, 3, 3, 30, tzinfo=UTC)
    request = await harness.submit(
        RequestType.DELETION, jurisdiction=Jurisdiction.US_MN, received_at=evening
    )
    rid = request.request_id
    state = await harness.wait_for(rid, lambda s: bool(s.notices))

    assert state.due_dates.received == date(2026, 12, 2)
    assert state.respond_by == date(2027, 1, 16)
    await rights_requests.withdraw(harness.client, rid, OperatorNote(note="test over"))
    await harness.result(rid)


async def test_a_utah_correction_is_carried_out_since_1_july_2026(harness: Harness) -> None:
    """Utah Code §13-61-201(4), from 2025 H.B. 418; before that day it is answered on receipt
    (tests/test_state_laws.py shows the boundary)."""
    corrections = [CorrectionItem(field="phone", corrected_value="+1 415 555 0199")]
    request = await harness.submit(
        RequestType.CORRECTION, jurisdiction=Jurisdiction.US_UT, corrections=corrections
    )
    rid = request.request_id
    await verify(harness, rid)
    await harness.wait_for(rid, lambda s: any(t.provider == "paper-archive" for t in s.open_tasks))
    await rights_requests.provider_task_done(
        harness.client, rid, ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.DONE)
    )
    harness.save_history_if_recording(rid, "utah_correction_completed")
    final = await harness.result(rid)

    assert final.due_dates.received >= date(2026, 7, 1)
    assert final.status is RequestStatus.COMPLETED
    assert harness.notice_kinds(rid)[0] == "receipt"
    with harness.service_engine.connect() as db:
        assert db.execute(sa.select(accounts.c.phone)).scalar() == "+1 415 555 0199"


async def test_a_minnesota_access_lists_the_parties_the_data_went_to(harness: Harness) -> None:
    """Minn. Stat. §325M.14 subd. 1(h): the specific third parties, by name."""
    request = await harness.submit(RequestType.ACCESS, jurisdiction=Jurisdiction.US_MN)
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")
    await rights_requests.answer_verification(
        harness.client,
        rid,
        VerificationAnswer(
            token=harness.link_token(rid, "verification"),
            data_points={DataPoint.PHONE: MARIA[2], DataPoint.DATE_OF_BIRTH: MARIA[3]},
        ),
    )
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "minnesota_access_third_parties")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    report = report_of(harness, rid)
    listed = report["third_parties"]
    assert listed["basis"] == "Minn. Stat. §325M.14 subd. 1(h)"
    # The service database holds Maria's data; the paper archive was searched and had none.
    assert listed["recipients"] == ["our cloud hosting provider, as our service provider"]
    async with harness.pages() as http:
        page = await http.get(
            f"/r/{rid}/report", params={"token": harness.link_token(rid, "completed")}
        )
    assert page.status_code == 200
    assert "Who received your information" in page.text
    assert "our cloud hosting provider, as our service provider" in page.text


async def test_a_california_access_has_no_minnesota_list(harness: Harness) -> None:
    request = await harness.submit(RequestType.ACCESS, jurisdiction=Jurisdiction.US_CA)
    rid = request.request_id
    await verify(harness, rid)
    await close_paper_archive(harness, rid)
    await harness.result(rid)
    assert "third_parties" not in report_of(harness, rid)


async def test_a_guardians_deletion_for_a_minor(harness: Harness) -> None:
    """A parent acts for a child: the privacy team reviews the proof of guardianship, which
    stands in for the child's verification; every notice goes to the parent."""
    guardian = Agent(
        full_name="Rosa Lopez",
        email="rosa.lopez@example.net",
        authorization_url="https://files.example.net/birth-certificate.pdf",
        acts_as=AgentRole.PARENT_OR_GUARDIAN,
    )
    request = await harness.submit(RequestType.DELETION, agent=guardian)
    rid = request.request_id
    await harness.wait_for_notice(rid, "agent_authorization_needed")
    review = harness.text(rid, "agent_authorization_needed")
    assert "A parent or guardian filed a deletion request for a minor" in review
    assert "birth-certificate.pdf" in review
    await rights_requests.approve_agent(harness.client, rid, OperatorNote(note="proof checked"))
    await harness.wait_for_notice(rid, "deletion_reconfirmation")
    await rights_requests.confirm_deletion(
        harness.client,
        rid,
        ReconfirmationAnswer(token=harness.link_token(rid, "deletion_reconfirmation")),
    )
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "guardian_deletion_for_a_minor")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    assert "verification" not in harness.notice_kinds(rid)
    steps = {step.name.value: step for step in final.steps}
    assert steps["agent_authorization"].status is StepStatus.DONE
    assert steps["identity_verification"].note == "the privacy team accepted the guardian's proof"
    for kind in ("receipt", "deletion_reconfirmation", "completed"):
        assert harness.message(rid, kind)["To"] == guardian.email
    assert "Dear Rosa Lopez" in harness.text(rid, "completed")
    with harness.service_engine.connect() as db:
        account = db.execute(sa.select(accounts)).one()
    assert account.email == f"deleted-{account.id}@deleted.invalid"


async def test_an_operator_started_removal_of_a_minors_data(harness: Harness) -> None:
    """The team learns it holds a child's data: no verification, nobody written to but the
    team, a second operator confirms, every provider deletes, and the record says who."""
    new = NewRequest(
        type=RequestType.DELETION,
        jurisdiction=Jurisdiction.US_MN,
        requester=Requester(full_name=MARIA[1], email=MARIA[0]),
        channel=Channel.OPERATOR,
        minor_removal=MinorRemoval(
            started_by="alice", reason="a parent told us the account holder is 11 years old"
        ),
    )
    request = await rights_requests.submit_request(
        harness.client, harness.settings, new, received_at=await harness.env.get_current_time()
    )
    rid = request.request_id
    harness.track(rid)
    await harness.wait_for_notice(rid, "operator_minor_removal")
    assert "confirm-minor-removal" in harness.text(rid, "operator_minor_removal")

    with pytest.raises(rights_requests.RequestRefused, match="a second member of the team"):
        await rights_requests.confirm_minor_removal(
            harness.client, rid, SecondOperator(operator="Alice")
        )
    await rights_requests.confirm_minor_removal(harness.client, rid, SecondOperator(operator="bob"))
    await close_paper_archive(harness, rid)
    harness.save_history_if_recording(rid, "minor_removal_by_operators")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    # Only the privacy team was written to.
    assert {notice.recipient.value for notice in final.notices} == {"operator"}
    assert harness.notice_kinds(rid) == [
        "operator_minor_removal",
        "operator_task",
        "operator_minor_removal_done",
    ]
    steps = {step.name.value: step for step in final.steps}
    assert steps["receipt"].status is StepStatus.SKIPPED
    assert steps["identity_verification"].status is StepStatus.SKIPPED
    assert steps["deletion_reconfirmation"].note == "started by alice, confirmed by bob"
    with harness.service_engine.connect() as db:
        account = db.execute(sa.select(accounts)).one()
    assert account.email == f"deleted-{account.id}@deleted.invalid"
    with harness.records_engine.connect() as db:
        record = db.execute(sa.text("select channel, status, steps from compliance_records")).one()
    assert (record.channel, record.status) == ("operator", "completed")
    assert "confirmed by bob" in str(record.steps)


def test_a_minor_removal_is_a_deletion() -> None:
    with pytest.raises(ValueError, match="minor_removal: a minor's data is removed by a deletion"):
        NewRequest(
            type=RequestType.ACCESS,
            jurisdiction=Jurisdiction.US_MN,
            requester=Requester(full_name=MARIA[1], email=MARIA[0]),
            channel=Channel.OPERATOR,
            minor_removal=MinorRemoval(started_by="alice", reason="a child's account"),
        )


async def test_a_minnesota_profiling_review_is_answered_by_a_person(harness: Harness) -> None:
    """Minn. Stat. §325M.14 subd. 1(g): a person reviews the decision at each place, and the
    answer carries what they found."""
    request = await harness.submit(RequestType.PROFILING_REVIEW, jurisdiction=Jurisdiction.US_MN)
    rid = request.request_id
    await verify(harness, rid)
    state = await harness.wait_for(rid, lambda s: len(s.open_tasks) == 2)
    assert {task.provider for task in state.open_tasks} == {"service-database", "paper-archive"}
    assert "questions a decision made by profiling them" in harness.text(rid, "operator_task")
    found = "appointment reminders were prioritised by visit history; the history was correct"
    await rights_requests.provider_task_done(
        harness.client,
        rid,
        ProviderTaskDone(provider="service-database", status=OutcomeStatus.DONE, note=found),
    )
    await rights_requests.provider_task_done(
        harness.client,
        rid,
        ProviderTaskDone(provider="paper-archive", status=OutcomeStatus.NOT_FOUND),
    )
    harness.save_history_if_recording(rid, "minnesota_profiling_review")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    completed = harness.text(rid, "completed")
    assert found in completed
    assert "§325M.14 subd. 1(g)" in completed
    assert "no decision about you was made by profiling there" in completed
    with pytest.raises(RightNotGranted):
        due_dates(Jurisdiction.US_CA, RequestType.PROFILING_REVIEW, final.due_dates.received)
