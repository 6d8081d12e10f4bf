"""Email intake: every message of the corpus (`tests/inbound_corpus/`, its expected outcome in
`manifest.toml`) posted as SendGrid Inbound Parse posts it, through the real endpoint, to real
runs on the time-skipping server; and the door itself probed: credentials, size, type.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from client import correspondence
from dev.sandbox.inbound import post_message, sendgrid_form
from rights.correspondence import (
    ComplaintReply,
    CorrespondenceStatus,
    TriageDone,
    correspondence_workflow_id,
)
from rights.models import RequestStatus
from tests.harness import ROOT, Harness

CORPUS = ROOT / "tests" / "inbound_corpus"
MANIFEST: list[dict[str, Any]] = tomllib.loads((CORPUS / "manifest.toml").read_text())["message"]
CREDENTIALS = ("sendgrid", "inbound-parse-secret-0123456789abcdef")
# What the sender of each outcome is told first (triage from a forged sender: nothing).
FIRST_NOTICE = {
    "complaint": "complaint_received",
    "choose_request": "choose_request",
}


@pytest.fixture
async def mailroom(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    # Ids derive from the Message-ID and the link secret: a secret of its own per test, so
    # one test's delivery of a corpus message is not another's duplicate on the shared server.
    async with Harness.running(
        env,
        tmp_path,
        inbound_parse_credentials=":".join(CREDENTIALS),
        link_token_secret=f"test-link-secret-{uuid.uuid4().hex}",
    ) as harness:
        yield harness


async def deliver(http: httpx.AsyncClient, case: dict[str, Any]) -> list[httpx.Response]:
    raw = (CORPUS / case["file"]).read_bytes()
    return [
        await post_message(http, CREDENTIALS, raw, spf=case["spf"], dkim=case["dkim"])
        for _ in range(case.get("delivered", 1))
    ]


async def outcome_problems(harness: Harness, case: dict[str, Any], answers: list[Any]) -> list[str]:
    """How the service's handling of one message differs from the manifest's expectation."""
    first = answers[0]
    expected = case["outcome"]
    if first.status_code != 200 or first.json()["outcome"] != expected:
        return [f"answered {first.status_code} {first.text}, expected {expected}"]
    answer = first.json()
    problems = []
    if len(answers) > 1 and [a.json() for a in answers[1:]] != [
        {"outcome": "duplicate", "id": answer["id"], "reason": None}
    ] * (len(answers) - 1):
        problems.append(f"redelivery answered {[a.json() for a in answers[1:]]}")
    item = answer.get("id")
    if expected == "ignored":
        if answer["reason"] != case["reason"]:
            problems.append(f"ignored as {answer['reason']}, expected {case['reason']}")
        return problems
    assert item is not None
    kept = harness.settings.inbound_dir / item / "message.txt"
    if not kept.exists():
        problems.append("message text not kept for the privacy team")
    if expected == "request":
        harness.track(item)
        state = await harness.wait_for(item, lambda s: bool(s.notices))
        if (state.type.value, state.jurisdiction.value) != (case["type"], case["jurisdiction"]):
            problems.append(f"started {state.type.value} under {state.jurisdiction.value}")
        first_kind = state.notices[0].kind.value
        wanted = "not_granted" if case["jurisdiction"] == "uncovered" else "receipt"
        if first_kind != wanted:
            problems.append(f"first notice {first_kind}, expected {wanted}")
        return problems
    harness.track_message(item)
    if case["file"] == "hello_only.eml":
        harness.save_history_if_recording(
            correspondence_workflow_id(item), "email_choose_request", workflow="correspondence"
        )
    state = await harness.wait_for_message(item, lambda s: bool(s.notices))
    if state.type.value != expected:
        problems.append(f"became {state.type.value}")
    if expected == "complaint" and state.jurisdiction.value != case["jurisdiction"]:
        problems.append(f"complaint under {state.jurisdiction.value}")
    if expected == "triage":
        if state.reason is None or state.reason.value != case["reason"]:
            problems.append(f"triaged as {state.reason}, expected {case['reason']}")
        told = [n.recipient.value for n in state.notices]
        forged = case["reason"] == "unauthenticated"
        if ("requester" in told) == forged:
            problems.append(f"notices to {told} for a {case['reason']} message")
    elif state.notices[0].kind.value != FIRST_NOTICE[expected]:
        problems.append(f"first notice {state.notices[0].kind.value}")
    return problems


async def test_every_corpus_message_gets_its_outcome(mailroom: Harness) -> None:
    assert len(MANIFEST) >= 30
    listed = {case["file"] for case in MANIFEST}
    assert listed == {path.name for path in CORPUS.glob("*.eml")}
    mismatches: dict[str, list[str]] = {}
    async with mailroom.pages() as http:
        for case in MANIFEST:
            answers = await deliver(http, case)
            problems = await outcome_problems(mailroom, case, answers)
            if problems:
                mismatches[case["file"]] = problems
    assert mismatches == {}
    outcomes = [case["outcome"] for case in MANIFEST]
    assert {outcome: outcomes.count(outcome) for outcome in set(outcomes)} == {
        "request": 28, "triage": 11, "ignored": 7, "complaint": 3, "choose_request": 7
    }  # fmt: skip


async def test_the_raw_message_reaches_no_history_and_no_log(
    mailroom: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    raw = (CORPUS / "deletion_ccpa_california.eml").read_bytes()
    async with mailroom.pages() as http:
        answer = (await post_message(http, CREDENTIALS, raw)).json()
    rid = answer["id"]
    mailroom.track(rid)
    await mailroom.wait_for_notice(rid, "receipt")
    history = await mailroom.handle(rid).fetch_history()

    told = history.to_json() + caplog.text
    for secret in ("d.okafor@example.org", "Daniel Okafor", "Thunderbird", "1798.105"):
        assert secret not in told
    kept = (mailroom.settings.inbound_dir / rid / "message.txt").read_text()
    assert "I am a California resident" in kept and "Thunderbird" not in kept


async def test_an_agents_letter_keeps_its_authorization_beside_it(mailroom: Harness) -> None:
    case = next(c for c in MANIFEST if c["file"] == "agent_authorization_pdf.eml")
    async with mailroom.pages() as http:
        [answer] = await deliver(http, case)
    item = answer.json()["id"]
    mailroom.track_message(item)
    mailroom.save_history_if_recording(
        correspondence_workflow_id(item), "email_agent_letter_triaged", workflow="correspondence"
    )
    state = await mailroom.wait_for_message(item, lambda s: len(s.notices) == 2)

    kept = sorted((mailroom.settings.inbound_dir / item / "attachments").iterdir())
    assert [path.name for path in kept] == ["01-authorization.pdf"]
    assert kept[0].read_bytes().startswith(b"%PDF")
    assert [n.kind.value for n in state.notices] == ["message_received", "operator_triage"]
    operator = mailroom.text(item, "operator_triage")
    assert "1 attachment beside it" in operator and f"triage-done {item}" in operator
    await correspondence.triage_done(
        mailroom.client, item, TriageDone(note="agent asked for proof", started_request=None)
    )
    final = await mailroom.wait_for_message(item, lambda s: s.closed_at is not None)
    assert final.status is CorrespondenceStatus.TRIAGED and final.outcome == "triaged"


async def test_a_uk_complaint_is_acknowledged_answered_and_names_the_ico(
    mailroom: Harness,
) -> None:
    case = next(c for c in MANIFEST if c["file"] == "complaint_uk_england.eml")
    async with mailroom.pages() as http:
        [answer] = await deliver(http, case)
    item = answer.json()["id"]
    mailroom.track_message(item)
    mailroom.save_history_if_recording(
        correspondence_workflow_id(item), "email_uk_complaint_answered", workflow="correspondence"
    )
    waiting = await mailroom.wait_for_message(
        item, lambda s: s.status is CorrespondenceStatus.AWAITING_REPLY and len(s.notices) == 2
    )

    # The Data (Use and Access) Act 2025: acknowledged within 30 days (here, at once).
    assert waiting.acknowledged_at is not None
    assert (waiting.acknowledged_at - waiting.received_at).days < 30
    await correspondence.reply_to_complaint(
        mailroom.client,
        item,
        ComplaintReply(reply="We are sorry.\n\nWe have stopped the reminders you mentioned."),
    )
    final = await mailroom.wait_for_message(item, lambda s: s.closed_at is not None)

    assert final.status is CorrespondenceStatus.ANSWERED
    reply = mailroom.text(item, "complaint_reply")
    assert "We are sorry.\n\nWe have stopped the reminders you mentioned." in reply
    assert "https://ico.org.uk/make-a-complaint/" in reply and "courts" in reply
    with mailroom.records_engine.connect() as db:
        row = db.execute(
            sa.text("select kind, jurisdiction, status from correspondence_records")
        ).one()
    assert tuple(row) == ("complaint", "GB", "answered")


@pytest.mark.parametrize(
    ("headers", "status", "field"),
    [
        ({}, 401, "Authorization"),
        ({"Authorization": "Basic c2VuZGdyaWQ6d3Jvbmc="}, 401, "Authorization"),
        ({"Authorization": "Basic !!!"}, 401, "Authorization"),
    ],
)
async def test_the_door_refuses_wrong_credentials(
    mailroom: Harness, headers: dict[str, str], status: int, field: str
) -> None:
    fields, _ = sendgrid_form((CORPUS / "plain_deletion.eml").read_bytes())
    async with mailroom.pages() as http:
        response = await http.post("/v1/inbound/email", data=fields, headers=headers)
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field
    assert not mailroom.settings.inbound_dir.exists()


async def test_the_door_refuses_other_bodies_and_sizes(mailroom: Harness) -> None:
    async with mailroom.pages() as http:
        not_a_form = await http.post("/v1/inbound/email", json={"from": "x"}, auth=CREDENTIALS)
        huge = await http.post(
            "/v1/inbound/email",
            content=b"x" * (mailroom.settings.inbound_max_body_bytes + 1),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
            auth=CREDENTIALS,
        )
    assert not_a_form.status_code == 415
    assert huge.status_code == 413


async def test_without_credentials_configured_email_intake_is_off(
    harness: Harness,
) -> None:
    fields, _ = sendgrid_form((CORPUS / "plain_deletion.eml").read_bytes())
    async with harness.pages() as http:
        response = await http.post("/v1/inbound/email", data=fields, auth=CREDENTIALS)
    assert response.status_code == 503
    assert response.json()["errors"][0]["field"] == "INBOUND_PARSE_CREDENTIALS"


async def test_an_email_that_names_no_place_asks_where_the_requester_lives(
    mailroom: Harness,
) -> None:
    case = next(c for c in MANIFEST if c["file"] == "plain_deletion.eml")
    async with mailroom.pages() as http:
        [answer] = await deliver(http, case)
        rid = answer.json()["id"]
        mailroom.track(rid)
        mailroom.save_history_if_recording(rid, "email_residence_asked_then_california")
        waiting = await mailroom.wait_for_status(rid, RequestStatus.AWAITING_RESIDENCE)
        # Until then, the earliest date of any law: one month (the GDPR's) from receipt.
        assert waiting.due_dates.extended_respond_by is None
        path = mailroom.link_path(rid, "receipt")
        form = await http.get(path)
        wrong = await http.post(
            path.split("?")[0], data={"token": path.split("token=")[1], "residence": "QQ"}
        )
        told = await http.post(
            path.split("?")[0], data={"token": path.split("token=")[1], "residence": "US-CA"}
        )
    settled = await mailroom.wait_for_status(rid, RequestStatus.AWAITING_VERIFICATION)

    assert form.status_code == 200 and "Where do you live?" in form.text
    assert wrong.status_code == 400 and "Choose your state or country" in wrong.text
    assert told.status_code == 200 and "California" in told.text
    assert settled.jurisdiction.value == "US-CA"
    assert settled.respond_by > waiting.respond_by  # California's 45 days, from receipt
    assert settled.due_dates.extended_respond_by is not None
    steps = {step.name.value: step.status.value for step in settled.steps}
    assert steps["residence"] == "done"


async def test_a_residence_never_given_closes_the_request_with_a_notice(
    mailroom: Harness,
) -> None:
    case = next(c for c in MANIFEST if c["file"] == "spanish_deletion.eml")
    async with mailroom.pages() as http:
        [answer] = await deliver(http, case)
    rid = answer.json()["id"]
    mailroom.track(rid)
    mailroom.save_history_if_recording(rid, "email_residence_never_given")
    await mailroom.wait_for_status(rid, RequestStatus.AWAITING_RESIDENCE)
    await mailroom.env.sleep(timedelta(days=mailroom.settings.verification_ttl_days, hours=1))
    final = await mailroom.result(rid)

    assert final.status is RequestStatus.RESIDENCE_UNKNOWN
    told = mailroom.text(rid, "residence_unanswered")
    assert "you did not tell us where you live" in told and "/request" in told
    assert "https://reportfraud.ftc.gov/" in told
