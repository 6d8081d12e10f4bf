"""Every notice, for every jurisdiction it can go out in, says what `rights.notice_content`
requires and nothing it forbids; and an edited template that drops one element is caught.

Each notice is composed by the real notice activity from facts shaped as the workflow shapes
them (dates from the deadline engine, remedies from `rights.remedies`), then each element is
looked for in both the plain-text and the HTML part.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from activities.mail import OutboxMailer
from activities.notices import NoticeActivities, NoticeTemplates
from activities.records import NoticeLedger
from rights.activity_inputs import LinkPurpose, LinkSpec, NoticeFacts, SendNoticeInput
from rights.correspondence import Correspondence, CorrespondenceKind
from rights.deadlines import RightNotGranted, answered_on_receipt, due_dates
from rights.links import LinkTokens
from rights.models import (
    Agent,
    Channel,
    MinorRemoval,
    NoticeKind,
    OutcomeStatus,
    ProviderOutcome,
    ProviderTask,
    Recipient,
    Requester,
    Retention,
    RetentionGround,
    RightsRequest,
    TaskReason,
)
from rights.notice_content import (
    REQUIRED_CONTENT,
    Case,
    Element,
    forbidden,
    occurs_in,
    required,
)
from rights.remedies import appeals_granted, regulator_for, remedies_for
from rights.residence import country_of
from rights.settings import load_settings
from rights.terms import SUBMITTABLE_IN_ORDER, Jurisdiction, RequestType
from templates import TEMPLATES_DIR

BASE = "https://privacy.health.example"
RECEIVED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
RESIDENCE: dict[Jurisdiction, str | None] = {
    Jurisdiction.EU: "DE",
    Jurisdiction.GB: "GB",
    Jurisdiction.UNCOVERED: "JP",
    Jurisdiction.US_NO_STATE_LAW: "US-NV",
    Jurisdiction.UNDETERMINED: None,
}
OPERATOR_KINDS = {
    NoticeKind.AGENT_AUTHORIZATION_NEEDED,
    NoticeKind.OPERATOR_COMPLAINT,
    NoticeKind.OPERATOR_TRIAGE,
    NoticeKind.OPERATOR_TASK,
    NoticeKind.OPERATOR_DEADLINE_ALERT,
    NoticeKind.OPERATOR_APPEAL_REVIEW,
}
KEPT = [
    Retention(
        category="payment records", basis="IRS recordkeeping, 26 CFR §1.6001-1",
        ground=RetentionGround.LEGAL_OBLIGATION,
    ),
    Retention(
        category="fraud signals", basis="detecting security incidents, Cal. Civ. Code "
        "§1798.105(d)(2)", ground=RetentionGround.EXEMPTION,
    ),
]  # fmt: skip
MINOR_REMOVAL_KINDS = {NoticeKind.OPERATOR_MINOR_REMOVAL, NoticeKind.OPERATOR_MINOR_REMOVAL_DONE}
AGENT_KINDS = {
    NoticeKind.AGENT_AUTHORIZATION_NEEDED,
    NoticeKind.AGENT_REJECTED,
    NoticeKind.AGENT_REJECTED_REQUESTER,
}
CORRESPONDENCE_KINDS = {
    NoticeKind.CHOOSE_REQUEST: CorrespondenceKind.CHOOSE_REQUEST,
    NoticeKind.COMPLAINT_RECEIVED: CorrespondenceKind.COMPLAINT,
    NoticeKind.OPERATOR_COMPLAINT: CorrespondenceKind.COMPLAINT,
    NoticeKind.COMPLAINT_REPLY: CorrespondenceKind.COMPLAINT,
    NoticeKind.MESSAGE_RECEIVED: CorrespondenceKind.TRIAGE,
    NoticeKind.OPERATOR_TRIAGE: CorrespondenceKind.TRIAGE,
}
REPLY = ["We are sorry for the reminders.", "We have stopped them for good."]
LINK_PURPOSE = {
    NoticeKind.VERIFICATION: LinkPurpose.VERIFY,
    NoticeKind.VERIFICATION_REMINDER: LinkPurpose.VERIFY,
    NoticeKind.DELETION_RECONFIRMATION: LinkPurpose.CONFIRM_DELETION,
    NoticeKind.COMPLETED: LinkPurpose.REPORT,
}
CASES = [
    (case, jurisdiction)
    for case in REQUIRED_CONTENT
    for jurisdiction in Jurisdiction
    if occurs_in(case, jurisdiction)
]


@dataclass
class Rendered:
    """One composed notice, and the facts and links it was composed from."""

    text: str
    html: str
    subject: str
    input: SendNoticeInput
    link_url: str | None
    appeal_url: str | None


def compose(case: Case, jurisdiction: Jurisdiction, templates: NoticeTemplates) -> Rendered:
    """The case's notice as the workflow would have it sent."""
    request: RightsRequest | Correspondence = RightsRequest(
        request_id="req-content-0001",
        type=case.request_type,
        jurisdiction=jurisdiction,
        requester=Requester(
            full_name="Maria Lopez",
            email="maria.lopez@example.com",
            residence=RESIDENCE.get(jurisdiction, jurisdiction.value),
        ),
        agent=Agent(full_name="Dana Whitfield", email="dana@agents.example.org")
        if case.kind in AGENT_KINDS
        else None,
        channel=Channel.WEB_FORM,
        received_at=RECEIVED,
        minor_removal=MinorRemoval(started_by="alice", reason="a parent told us their child is 11")
        if case.kind in MINOR_REMOVAL_KINDS
        else None,
    )
    if case.kind in CORRESPONDENCE_KINDS:
        request = Correspondence(
            request_id="req-content-0001",
            type=CORRESPONDENCE_KINDS[case.kind],
            jurisdiction=jurisdiction,
            requester=request.requester,
            channel=Channel.EMAIL,
            received_at=RECEIVED,
            attachments=1,
        )
    try:
        due = due_dates(jurisdiction, case.request_type, RECEIVED.date())
    except RightNotGranted:
        due = answered_on_receipt(jurisdiction, case.request_type, RECEIVED.date())
    if case.kind in (NoticeKind.APPEAL_RECEIVED, NoticeKind.OPERATOR_APPEAL_REVIEW):
        due = due_dates(jurisdiction, RequestType.APPEAL, RECEIVED.date())
    row = REQUIRED_CONTENT[case]
    appeal_by = date(2027, 2, 14) if row.refuses and appeals_granted(jurisdiction) else None
    remedies = None
    if row.refuses or row.remedies or case.kind is NoticeKind.APPEAL_DENIED:
        remedies = remedies_for(
            jurisdiction,
            country_of(RESIDENCE.get(jurisdiction, jurisdiction.value), jurisdiction.value),
            appeal_by=appeal_by,
        )
    outcomes = [
        ProviderOutcome(provider="service-database", category="our app", status=OutcomeStatus.DONE)
    ]
    if case.kept_back:
        outcomes.append(
            ProviderOutcome(
                provider="payments", category="payments", status=OutcomeStatus.RETAINED,
                retained=KEPT,
            )
        )  # fmt: skip
    facts = NoticeFacts(
        respond_by=due.respond_by,
        respond_basis=due.legal_basis.respond_by,
        extension_reason="the payment processor has not yet confirmed the deletion",
        extension_days=45,
        extended_respond_by=date(2027, 1, 31),
        extension_basis="C.R.S. §6-1-1306(2)(b)",
        reason="the reason written for this notice",
        unblock="an operator closes the payments task with starter.py task-done",
        outcomes=outcomes,
        retained=KEPT if case.kept_back else [],
        tasks=[
            ProviderTask(
                provider="paper-archive", reason=TaskReason.MANUAL_PROVIDER,
                opened_at=RECEIVED, detail="delete the archived intake forms",
            )
        ],
        remedies=remedies,
        alternatives=["access", "deletion"],
        status="fulfilling",
        appeal_id="req-appeal-0001",
        paragraphs=REPLY,
    )  # fmt: skip
    purpose = LINK_PURPOSE.get(case.kind)
    if case.kind is NoticeKind.RECEIPT and jurisdiction is Jurisdiction.UNDETERMINED:
        purpose = LinkPurpose.RESIDENCE
    if case.kind is NoticeKind.COMPLETED and case.request_type is not RequestType.ACCESS:
        purpose = None
    link = (
        LinkSpec(purpose=purpose, nonce="n-1", expires_at=datetime(2026, 12, 9, tzinfo=UTC))
        if purpose
        else None
    )
    appeal_link = (
        LinkSpec(
            purpose=LinkPurpose.APPEAL, nonce="n-2", expires_at=datetime(2027, 2, 14, tzinfo=UTC)
        )
        if appeal_by
        else None
    )
    send = SendNoticeInput(
        request=request,
        kind=case.kind,
        key=case.kind.value,
        recipient=Recipient.OPERATOR if case.kind in OPERATOR_KINDS else Recipient.REQUESTER,
        facts=facts,
        link=link,
        appeal_link=appeal_link,
    )
    letter = notice_activities(templates).compose(send, "t" * 43)
    links = LinkTokens(b"content-secret", BASE)
    return Rendered(
        text=letter.text,
        html=letter.html,
        subject=letter.subject,
        input=send,
        link_url=links.url(request.request_id, link) if link else None,
        appeal_url=links.url(request.request_id, appeal_link) if appeal_link else None,
    )


def notice_activities(templates: NoticeTemplates) -> NoticeActivities:
    settings = load_settings(_env_file=None, public_base_url=BASE)
    return NoticeActivities(
        settings,
        OutboxMailer(settings.outbox_dir),
        NoticeLedger(sa.create_engine("sqlite://")),
        LinkTokens(b"content-secret", BASE),
        templates,
    )


def in_both(rendered: Rendered, *needles: str) -> bool:
    """Every needle in the text part and, escaped as a browser would read it, in the HTML."""
    html = rendered.html.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
    return all(needle in rendered.text and needle in html for needle in needles)


def linked(rendered: Rendered, url: str) -> bool:
    """The URL ends a line of the text (so mail clients link all of it, and nothing after it
    runs into it) and is a link in the HTML."""
    escaped = url.replace("&", "&amp;")
    ends_a_line = any(line.rstrip().endswith(url) for line in rendered.text.splitlines())
    return ends_a_line and f'href="{escaped}"' in rendered.html


def _appeal(r: Rendered) -> bool:
    remedies = r.input.facts.remedies
    return (
        r.appeal_url is not None
        and remedies is not None
        and remedies.appeal_by is not None
        and linked(r, r.appeal_url)
        and in_both(r, remedies.appeal_by.isoformat())
    )


def _regulator(r: Rendered) -> bool:
    remedies = r.input.facts.remedies
    return (
        remedies is not None
        and in_both(r, remedies.regulator)
        and linked(r, remedies.regulator_url)
    )


def _retention(r: Rendered) -> bool:
    words = {
        RetentionGround.LEGAL_OBLIGATION: "the law requires us to keep it",
        RetentionGround.EXEMPTION: "kept under an exemption the law allows",
    }
    return all(
        in_both(r, item.category, item.basis, words[item.ground]) for item in r.input.facts.retained
    )


def _action_link(r: Rendered) -> bool:
    link = r.input.link
    return (
        r.link_url is not None
        and link is not None
        and linked(r, r.link_url)
        and in_both(r, link.expires_at.strftime("%Y-%m-%d"))
    )


PROBES: dict[Element, Callable[[Rendered], bool]] = {
    Element.REFERENCE: lambda r: (
        r.input.request.request_id in r.subject + r.text and r.input.request.request_id in r.html
    ),
    Element.REASON: lambda r: in_both(r, r.input.facts.reason or "-"),
    Element.NEXT_STEPS: lambda r: bool(
        re.search(r"What you can do next|make a new request", r.text)
        and re.search(r"What you can do next|make a new request", r.html)
    ),
    Element.APPEAL: _appeal,
    Element.REGULATOR: _regulator,
    Element.COURTS: lambda r: in_both(r, "courts"),
    Element.ANSWER_BY: lambda r: in_both(r, f"{r.input.facts.respond_by}"),
    Element.FORM_LINKS: lambda r: all(
        linked(r, f"{BASE}/request?type={right.value}") for right in SUBMITTABLE_IN_ORDER
    ),
    Element.REPLY: lambda r: in_both(r, *REPLY),
    Element.RESPOND_BY: lambda r: in_both(
        r, f"{r.input.facts.respond_by}", r.input.facts.respond_basis or "-"
    ),
    Element.EXTENSION: lambda r: in_both(
        r,
        r.input.facts.extension_reason or "-",
        f"{r.input.facts.extension_days} days",
        f"{r.input.facts.extended_respond_by}",
    ),
    Element.OUTCOMES: lambda r: in_both(r, *(o.category for o in r.input.facts.outcomes)),
    Element.RETENTION: _retention,
    Element.RECORD_KEPT: lambda r: in_both(r, "We keep a record of your request"),
    Element.BACKUPS: lambda r: in_both(
        r, "backup systems are deleted when that system is restored"
    ),
    Element.ACTION_LINK: _action_link,
    Element.STUCK_AT: lambda r: in_both(
        r, r.input.facts.reason or "-", r.input.facts.unblock or "-"
    ),
    Element.TASKS: lambda r: in_both(r, *(t.provider for t in r.input.facts.tasks)),
    Element.HOW_TO_DECIDE: lambda r: in_both(r, "python starter.py"),
}
# What must not appear: the element's own marks, whatever the facts.
ABSENT: dict[Element, Callable[[Rendered, Jurisdiction], bool]] = {
    Element.APPEAL: lambda r, j: (
        "/appeal?token=" not in r.text + r.html
        and "appeal this decision" not in (r.text + r.html).lower()
    ),
    Element.REGULATOR: lambda r, j: (
        regulator_for(j, country_of(RESIDENCE.get(j, j.value), j.value)).complaint_url
        not in r.text + r.html
    ),
    Element.COURTS: lambda r, j: "courts" not in r.text + r.html,
}


def content_problems(
    case: Case, jurisdiction: Jurisdiction, templates: NoticeTemplates
) -> list[str]:
    """Each required element the notice lacks, and each forbidden one it has."""
    rendered = compose(case, jurisdiction, templates)
    missing = [
        f"lacks {element.name}"
        for element in sorted(required(case, jurisdiction))
        if not PROBES[element](rendered)
    ]
    present = [
        f"has forbidden {element.name}"
        for element in sorted(forbidden(case, jurisdiction))
        if element in ABSENT and not ABSENT[element](rendered, jurisdiction)
    ]
    return missing + present


def test_every_element_has_a_probe_and_every_kind_a_row() -> None:
    assert set(PROBES) == set(Element)
    assert {case.kind for case in REQUIRED_CONTENT} == set(NoticeKind)
    assert len(CASES) > 150


@pytest.mark.parametrize(
    ("case", "jurisdiction"),
    CASES,
    ids=[f"{c.kind.value}-{c.request_type.value}{'-kept' if c.kept_back else ''}-{j.value}"
         for c, j in CASES],
)  # fmt: skip
def test_each_notice_says_what_its_law_requires(case: Case, jurisdiction: Jurisdiction) -> None:
    assert content_problems(case, jurisdiction, NoticeTemplates()) == []


@pytest.mark.parametrize(
    ("template", "line", "case", "jurisdiction", "problem"),
    [
        ("denied.j2", "{{ layout.remedies_text(facts.remedies, appeal_url) | safe }}",
         Case(NoticeKind.DENIED), Jurisdiction.US_CO, "lacks APPEAL"),
        ("extension.j2", "by {{ facts.extension_days }} days",
         Case(NoticeKind.EXTENSION), Jurisdiction.GB, "lacks EXTENSION"),
        ("completed.j2", "We keep a record of your request",
         Case(NoticeKind.COMPLETED, RequestType.DELETION), Jurisdiction.US_CA, "lacks RECORD_KEPT"),
    ],
)  # fmt: skip
def test_a_template_that_drops_a_required_element_fails(
    tmp_path: Path, template: str, line: str, case: Case, jurisdiction: Jurisdiction, problem: str
) -> None:
    """The table is a check, not a description: removing one element from the text part of
    one template is reported for that notice."""
    edited = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, edited)
    path = edited / "notices" / template
    source = path.read_text()
    text_block = source.split("{% block html %}")[0]
    assert line in text_block
    path.write_text(source.replace(text_block, text_block.replace(line, "", 1)))

    assert content_problems(case, jurisdiction, NoticeTemplates()) == []
    assert problem in content_problems(case, jurisdiction, NoticeTemplates(edited))
