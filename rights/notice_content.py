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
    EXTENSION = "the extension's reason, its length in days and the new date"
    OUTCOMES = "what was done, place by place"
    RETENTION = "what was kept, and whether a legal duty or an exemption is the ground"
    RECORD_KEPT = "that a record of the request is kept (11 CCR §7022(e))"
    BACKUPS = "how copies in backups are handled (11 CCR §7022(d))"
    ACTION_LINK = "the link to act on, and until when it works"
    STUCK_AT = "the step the request is stuck in, and what would unblock it"
    TASKS = "the open provider tasks"
    HOW_TO_DECIDE = "the commands the privacy team decides with"


class Case(NamedTuple):
    """A notice as it goes out in one situation: its kind, for which request, with what result."""

    kind: NoticeKind
    request_type: RequestType = RequestType.ACCESS
    kept_back: bool = False


class Row(NamedTuple):
    """What a case must say everywhere, whether it refuses anything, and what it must not say.

    A refusal (`refuses`) also carries the remedies of the requester's law: the appeal where the
    law grants one, the regulator always, the courts in the EU and the UK.
    """

    always: frozenset[Element]
    refuses: bool = False
    never: frozenset[Element] = frozenset()
    only_where_appeals: bool = False


def _row(
    *always: Element,
    refuses: bool = False,
    never: tuple[Element, ...] = (),
    only_where_appeals: bool = False,
) -> Row:
    return Row(
        frozenset((Element.REFERENCE, *always)), refuses, frozenset(never), only_where_appeals
    )


E = Element
K = NoticeKind
_REFUSAL = (E.REASON, E.NEXT_STEPS)
_REMEDIES = (E.APPEAL, E.REGULATOR, E.COURTS)
_DELETION = RequestType.DELETION

REQUIRED_CONTENT: Final[dict[Case, Row]] = {
    Case(K.RECEIPT): _row(E.RESPOND_BY),
    Case(K.VERIFICATION): _row(E.ACTION_LINK),
    Case(K.VERIFICATION_REMINDER): _row(E.ACTION_LINK),
    Case(K.DELETION_RECONFIRMATION, _DELETION): _row(E.ACTION_LINK),
    Case(K.NOT_RECONFIRMED, _DELETION): _row(E.NEXT_STEPS),
    Case(K.EXTENSION): _row(E.EXTENSION),
    Case(K.WITHDRAWN): _row(E.NEXT_STEPS),
    Case(K.UNVERIFIABLE): _row(*_REFUSAL, refuses=True),
    Case(K.DENIED): _row(*_REFUSAL, refuses=True),
    Case(K.NOT_GRANTED): _row(*_REFUSAL, refuses=True),
    Case(K.AGENT_REJECTED): _row(*_REFUSAL, never=_REMEDIES),
    Case(K.AGENT_REJECTED_REQUESTER): _row(*_REFUSAL, refuses=True),
    Case(K.COMPLETED): _row(E.OUTCOMES, E.ACTION_LINK, never=_REMEDIES),
    Case(K.COMPLETED, _DELETION): _row(E.OUTCOMES, E.RECORD_KEPT, E.BACKUPS, never=_REMEDIES),
    Case(K.COMPLETED, _DELETION, kept_back=True): _row(
        E.OUTCOMES, E.RETENTION, E.RECORD_KEPT, E.BACKUPS, refuses=True
    ),
    Case(K.APPEAL_RECEIVED): _row(E.RESPOND_BY, only_where_appeals=True),
    Case(K.APPEAL_GRANTED): _row(E.REASON, never=_REMEDIES, only_where_appeals=True),
    Case(K.APPEAL_DENIED): _row(E.REASON, E.REGULATOR, never=(E.APPEAL,), only_where_appeals=True),
    Case(K.AGENT_AUTHORIZATION_NEEDED): _row(E.HOW_TO_DECIDE),
    Case(K.OPERATOR_TASK): _row(E.TASKS, E.HOW_TO_DECIDE),
    Case(K.OPERATOR_DEADLINE_ALERT): _row(E.RESPOND_BY, E.STUCK_AT, E.TASKS),
    Case(K.OPERATOR_APPEAL_REVIEW): _row(
        E.RESPOND_BY, E.REASON, E.HOW_TO_DECIDE, only_where_appeals=True
    ),
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
    """Whether the case can happen to a request under `jurisdiction`'s law."""
    if jurisdiction is Jurisdiction.UNCOVERED:
        return case.kind is NoticeKind.NOT_GRANTED
    return appeals_granted(jurisdiction) or not REQUIRED_CONTENT[case].only_where_appeals


def required(case: Case, jurisdiction: Jurisdiction) -> frozenset[Element]:
    """What the case's notice must contain under `jurisdiction`'s law."""
    row = REQUIRED_CONTENT[case]
    elements = set(row.always)
    if row.refuses:
        elements.add(Element.REGULATOR)
        if appeals_granted(jurisdiction):
            elements.add(Element.APPEAL)
        if courts_too(jurisdiction):
            elements.add(Element.COURTS)
    return frozenset(elements)


def forbidden(case: Case, jurisdiction: Jurisdiction) -> frozenset[Element]:
    """What the case's notice must not contain under `jurisdiction`'s law: an appeal where the
    law grants none, the remedies of a refusal on a notice that refuses nothing."""
    row = REQUIRED_CONTENT[case]
    elements = set(row.never)
    if not appeals_granted(jurisdiction):
        elements.add(Element.APPEAL)
    return frozenset(elements - required(case, jurisdiction))
