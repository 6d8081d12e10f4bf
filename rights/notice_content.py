"""What each notice must say, per jurisdiction: the table a template edit is checked against.

Every notice is a legal statement. Refusals, in whole or in part, must give the reason, what
the requester can do next, and the remedies of their law: the appeal and by when where the law
grants one (C.R.S. §6-1-1306(3); Conn. Gen. Stat. §42-518(d); Va. Code §59.1-577(C); Tex. Bus.
& Com. Code §541.053; ORS 646A.576(6); Fla. Stat. §501.707), the regulator named and linked
(11 CCR §7022(f) and §7024(e) for California; GDPR Art. 12(4) and UK GDPR Art. 12(4)), and for
the EU and the UK the courts as well (Art. 79). A denied appeal names the Attorney General's
online complaint mechanism. An extension gives its reason, its length in days and the new date
(Cal. Civ. Code §1798.130(a)(2)(A); C.R.S. §6-1-1306(2)(b); GDPR Art. 12(3)). A deletion's
answer says a record of the request is kept (11 CCR §7022(e)) and how backups are handled
(§7022(d)). A request granted in full invites no appeal.

`tests/test_notice_content.py` renders every row for every jurisdiction it can occur in and
checks each element named here is present, and each forbidden one absent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, NamedTuple

from rights.models import NoticeKind
from rights.remedies import appeals_granted, courts_too
from rights.terms import Jurisdiction, RequestType


class Element(StrEnum):
    """One thing a notice tells its reader."""

    REFERENCE = "the request's reference"
    REASON = "the specific reason"
    NEXT_STEPS = "what the requester can do next"
    APPEAL = "how to appeal, by when, and the link"
    REGULATOR = "the regulator, named, with its online complaint page"
    COURTS = "the remedy before the courts"
    RESPOND_BY = "the date we answer by, and its legal basis"
    ANSWER_BY = "the date the privacy team answers by"
    EXTENSION = "the extension's reason, its length in days and the new date"
    OUTCOMES = "what was done, place by place"
    RETENTION = "what was kept, and whether a legal duty or an exemption is the ground"
    RECORD_KEPT = "that a record of the request is kept (11 CCR §7022(e))"
    BACKUPS = "how copies in backups are handled (11 CCR §7022(d))"
    ACTION_LINK = "the link to act on, and until when it works"
    FORM_LINKS = "a link to the request form for each right"
    REPLY = "the privacy team's reply, as written"
    STUCK_AT = "the step the request is stuck in, and what would unblock it"
    TASKS = "the open provider tasks"
    HOW_TO_DECIDE = "the commands the privacy team decides with"


class Case(NamedTuple):
    """A notice as it goes out in one situation: its kind, for which request, with what result."""

    kind: NoticeKind
    request_type: RequestType = RequestType.ACCESS
    kept_back: bool = False


# The jurisdictions a notice can go out under: a law applies; no law covers the requester;
# their law is not known yet (an email that named no place).
LAWS: Final = frozenset(
    j for j in Jurisdiction if j not in (Jurisdiction.UNCOVERED, Jurisdiction.UNDETERMINED)
)
EVERY: Final = frozenset(Jurisdiction)
APPEAL_LAWS: Final = frozenset(j for j in LAWS if appeals_granted(j))


class Row(NamedTuple):
    """What a case must say everywhere it occurs (`reach`), and what it must not say.

    A refusal (`refuses`) also carries the remedies of the requester's law: the appeal where the
    law grants one, the regulator always, the courts in the EU and the UK. An answer that
    refuses nothing may still name the regulator and the courts (`remedies`).
    """

    always: frozenset[Element]
    reach: frozenset[Jurisdiction] = LAWS
    refuses: bool = False
    remedies: bool = False
    never: frozenset[Element] = frozenset()


def _row(
    *always: Element,
    reach: frozenset[Jurisdiction] = LAWS,
    refuses: bool = False,
    remedies: bool = False,
    never: tuple[Element, ...] = (),
) -> Row:
    return Row(frozenset((Element.REFERENCE, *always)), reach, refuses, remedies, frozenset(never))


E = Element
K = NoticeKind
_REFUSAL = (E.REASON, E.NEXT_STEPS)
_REMEDIES = (E.APPEAL, E.REGULATOR, E.COURTS)
_DELETION = RequestType.DELETION
_UNDETERMINED = frozenset({Jurisdiction.UNDETERMINED})

REQUIRED_CONTENT: Final[dict[Case, Row]] = {
    Case(K.RECEIPT): _row(E.RESPOND_BY, reach=LAWS | _UNDETERMINED),
    Case(K.VERIFICATION): _row(E.ACTION_LINK),
    Case(K.VERIFICATION_REMINDER): _row(E.ACTION_LINK),
    Case(K.CLOCK_RESTARTED): _row(E.RESPOND_BY, E.REASON, reach=frozenset({Jurisdiction.GB})),
    Case(K.DELETION_RECONFIRMATION, _DELETION): _row(E.ACTION_LINK),
    Case(K.NOT_RECONFIRMED, _DELETION): _row(E.NEXT_STEPS),
    Case(K.EXTENSION): _row(E.EXTENSION),
    Case(K.WITHDRAWN): _row(E.NEXT_STEPS, reach=LAWS | _UNDETERMINED),
    Case(K.UNVERIFIABLE): _row(*_REFUSAL, refuses=True),
    Case(K.DENIED): _row(*_REFUSAL, refuses=True, reach=LAWS | _UNDETERMINED),
    Case(K.NOT_GRANTED): _row(*_REFUSAL, refuses=True, reach=LAWS | {Jurisdiction.UNCOVERED}),
    Case(K.RESIDENCE_UNANSWERED): _row(*_REFUSAL, refuses=True, reach=_UNDETERMINED),
    Case(K.AGENT_REJECTED): _row(*_REFUSAL, never=_REMEDIES),
    Case(K.AGENT_REJECTED_REQUESTER): _row(*_REFUSAL, refuses=True),
    Case(K.COMPLETED): _row(E.OUTCOMES, E.ACTION_LINK, never=_REMEDIES),
    Case(K.COMPLETED, _DELETION): _row(E.OUTCOMES, E.RECORD_KEPT, E.BACKUPS, never=_REMEDIES),
    Case(K.COMPLETED, _DELETION, kept_back=True): _row(
        E.OUTCOMES, E.RETENTION, E.RECORD_KEPT, E.BACKUPS, refuses=True
    ),
    Case(K.APPEAL_RECEIVED): _row(E.RESPOND_BY, reach=APPEAL_LAWS),
    Case(K.APPEAL_GRANTED): _row(E.REASON, never=_REMEDIES, reach=APPEAL_LAWS),
    Case(K.APPEAL_DENIED): _row(E.REASON, E.REGULATOR, never=(E.APPEAL,), reach=APPEAL_LAWS),
    Case(K.CHOOSE_REQUEST): _row(E.NEXT_STEPS, E.FORM_LINKS, never=_REMEDIES, reach=EVERY),
    Case(K.COMPLAINT_RECEIVED): _row(E.ANSWER_BY, never=(E.APPEAL,), reach=EVERY),
    Case(K.MESSAGE_RECEIVED): _row(E.REASON, E.ANSWER_BY, never=_REMEDIES, reach=EVERY),
    Case(K.COMPLAINT_REPLY): _row(E.REPLY, remedies=True, never=(E.APPEAL,), reach=EVERY),
    Case(K.AGENT_AUTHORIZATION_NEEDED): _row(E.HOW_TO_DECIDE),
    Case(K.OPERATOR_TASK): _row(E.TASKS, E.HOW_TO_DECIDE),
    Case(K.OPERATOR_DEADLINE_ALERT): _row(E.RESPOND_BY, E.STUCK_AT, E.TASKS, reach=EVERY),
    Case(K.OPERATOR_APPEAL_REVIEW): _row(
        E.RESPOND_BY, E.REASON, E.HOW_TO_DECIDE, reach=APPEAL_LAWS
    ),
    Case(K.OPERATOR_COMPLAINT): _row(E.ANSWER_BY, E.HOW_TO_DECIDE, reach=EVERY),
    Case(K.OPERATOR_TRIAGE): _row(E.REASON, E.ANSWER_BY, E.HOW_TO_DECIDE, reach=EVERY),
    Case(K.OPERATOR_MINOR_REMOVAL, _DELETION): _row(E.REASON, E.HOW_TO_DECIDE),
    Case(K.OPERATOR_MINOR_REMOVAL_DONE, _DELETION): _row(E.OUTCOMES),
}
"""Every notice kind, in each situation whose content differs."""


def refuses(kind: NoticeKind, *, kept_back: bool) -> bool:
    """Whether a notice of `kind` refuses something, and so must give the remedies."""
    return any(
        row.refuses
        for case, row in REQUIRED_CONTENT.items()
        if case.kind is kind and case.kept_back == kept_back
    )


def occurs_in(case: Case, jurisdiction: Jurisdiction) -> bool:
    """Whether the case can happen to a request (or message) under `jurisdiction`."""
    return jurisdiction in REQUIRED_CONTENT[case].reach


def required(case: Case, jurisdiction: Jurisdiction) -> frozenset[Element]:
    """What the case's notice must contain under `jurisdiction`'s law."""
    row = REQUIRED_CONTENT[case]
    elements = set(row.always)
    if row.refuses or row.remedies:
        elements.add(Element.REGULATOR)
        if courts_too(jurisdiction):
            elements.add(Element.COURTS)
    if row.refuses and appeals_granted(jurisdiction):
        elements.add(Element.APPEAL)
    if case.kind is NoticeKind.RECEIPT and jurisdiction is Jurisdiction.UNDETERMINED:
        elements.add(Element.ACTION_LINK)  # the link to say where the requester lives
    return frozenset(elements)


def forbidden(case: Case, jurisdiction: Jurisdiction) -> frozenset[Element]:
    """What the case's notice must not contain under `jurisdiction`'s law: an appeal where the
    law grants none, the remedies of a refusal on a notice that refuses nothing."""
    row = REQUIRED_CONTENT[case]
    elements = set(row.never)
    if not appeals_granted(jurisdiction):
        elements.add(Element.APPEAL)
    return frozenset(elements - required(case, jurisdiction))
