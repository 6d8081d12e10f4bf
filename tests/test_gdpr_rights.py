"""GDPR's other rights (restriction, objection, consent withdrawal) and the UK clock that waits
for identity, run end to end on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from client import rights_requests
from dev.sample_service import accounts
from rights.models import OperatorNote, RequestStatus, StepStatus
from rights.terms import Jurisdiction, RequestType
from tests.harness import Harness, verify


def flags(harness: Harness) -> tuple[bool, bool]:
    with harness.service_engine.connect() as db:
        row = db.execute(
            sa.select(accounts.c.processing_restricted, accounts.c.processing_objected)
        ).one()
    return bool(row.processing_restricted), bool(row.processing_objected)


async def test_an_eu_objection_stops_the_processing_and_says_so(harness: Harness) -> None:
    request = await harness.submit(
        RequestType.OBJECTION, jurisdiction=Jurisdiction.EU, residence="NL"
    )
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")
    token = harness.link_token(rid, "verification")
    async with harness.pages() as http:
        page = await http.get(f"/r/{rid}/verify", params={"token": token})
    assert page.status_code == 200 and 'name="phone"' in page.text
    assert "perjury" not in page.text.lower() and 'name="declaration"' not in page.text
    await verify(harness, rid)
    harness.save_history_if_recording(rid, "eu_objection_completed")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    assert harness.notice_kinds(rid) == ["receipt", "verification", "completed"]
    assert flags(harness) == (False, True)
    assert "GDPR Art. 12(3)" in final.due_dates.legal_basis.respond_by
    done = {o.provider: o.status.value for o in final.provider_outcomes}
    assert done == {"service-database": "done"}
    completed = harness.text(rid, "completed")
    assert "stopped processing your personal data on the grounds of our legitimate" in completed
    assert "Article 21" in completed
    # An EU requester is never asked for California's declaration under penalty of perjury.
    verification = harness.text(rid, "verification")
    assert "perjury" not in verification.lower()


async def test_a_gb_restriction_waits_for_identity_before_its_clock_runs(
    harness: Harness,
) -> None:
    request = await harness.submit(
        RequestType.RESTRICTION, jurisdiction=Jurisdiction.GB, residence="GB"
    )
    rid = request.request_id
    waiting = await harness.wait_for_notice(rid, "verification")
    first_due = waiting.respond_by
    received = waiting.due_dates.received

    await harness.env.sleep(timedelta(days=3))
    await verify(harness, rid)
    harness.save_history_if_recording(rid, "gb_restriction_clock_paused")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    assert harness.notice_kinds(rid) == ["receipt", "verification", "clock_restarted", "completed"]
    (pause,) = final.clock_pauses
    assert pause.paused_on == received
    assert (pause.restarted_on - received).days == 3
    assert pause.respond_by == final.respond_by > first_due
    assert final.due_dates.received == received
    assert "UK GDPR Art. 12A" in final.due_dates.legal_basis.respond_by
    assert pause.restarted_on.isoformat() in final.due_dates.legal_basis.respond_by
    told = harness.text(rid, "clock_restarted")
    assert f"We will respond by {final.respond_by.isoformat()}" in told
    assert "Article 12A" in told
    steps = {step.name.value: step for step in final.steps}
    assert steps["identity_verification"].status is StepStatus.DONE
    assert "clock paused" in (steps["identity_verification"].note or "")
    assert flags(harness) == (True, False)
    assert "We have restricted the processing" in harness.text(rid, "completed")
    with harness.records_engine.connect() as db:
        record = db.execute(sa.text("select respond_by, steps from compliance_records")).one()
    assert str(record.respond_by) == final.respond_by.isoformat()
    assert "clock paused" in str(record.steps)


async def test_an_eu_request_does_not_pause_its_clock(harness: Harness) -> None:
    request = await harness.submit(
        RequestType.RESTRICTION, jurisdiction=Jurisdiction.EU, residence="IE"
    )
    rid = request.request_id
    waiting = await harness.wait_for_notice(rid, "verification")
    await harness.env.sleep(timedelta(days=3))
    await verify(harness, rid)
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    assert final.clock_pauses == []
    assert final.respond_by == waiting.respond_by
    assert "clock_restarted" not in harness.notice_kinds(rid)


async def test_consent_is_withdrawn_without_proof_of_identity(harness: Harness) -> None:
    request = await harness.submit(
        RequestType.CONSENT_WITHDRAWAL, jurisdiction=Jurisdiction.EU, residence="AT"
    )
    rid = request.request_id
    harness.save_history_if_recording(rid, "eu_consent_withdrawn")
    final = await harness.result(rid)

    assert final.status is RequestStatus.COMPLETED
    assert harness.notice_kinds(rid) == ["receipt", "completed"]
    steps = {step.name.value: step.status for step in final.steps}
    assert steps["identity_verification"] is StepStatus.SKIPPED
    assert flags(harness) == (False, True)
    assert "Article 7(3)" in harness.text(rid, "completed")


async def test_an_eu_access_asks_two_details_and_no_declaration(harness: Harness) -> None:
    """The data itself is the EU right of access (Art. 15(3)): two details besides the email
    address, proportionate to health data, and never California's perjury declaration."""
    request = await harness.submit(RequestType.ACCESS, jurisdiction=Jurisdiction.EU, residence="FR")
    rid = request.request_id
    await harness.wait_for_notice(rid, "verification")
    async with harness.pages() as http:
        page = await http.get(
            f"/r/{rid}/verify", params={"token": harness.link_token(rid, "verification")}
        )
    assert page.status_code == 200
    assert 'name="phone"' in page.text and 'name="date_of_birth"' in page.text
    assert "perjury" not in page.text.lower() and 'name="declaration"' not in page.text
    await rights_requests.withdraw(harness.client, rid, OperatorNote(note="test over"))
    await harness.result(rid)
