"""Statutory due dates for privacy-rights requests: the product's legal position on deadlines.

Each date is the latest the product treats as lawful, with its citation, for notices and the UI.
Pure, so workflows may import and call it: the receipt date (the business's local date) is an
argument, there is no clock, and holidays come from ``holidays`` only for the years touched.

Counting conventions
- The receipt day is day 0; "N days" ends N calendar days after it (Cal. Civ. Code §10,
  Reg. 1182/71 Art. 3(1)). US calendar-day deadlines are never moved off weekends or holidays:
  roll-forward statutes (C.R.S. §2-4-108, Tex. Gov't Code §311.014, Utah Code §68-3-7) might
  allow a later day, but the unmoved day is lawful under every reading.
- Business days (California's, undefined in the regulations) are Monday to Friday except US
  federal holidays on their observed dates; California-only holidays are not skipped.
- EU and UK months follow Reg. 1182/71 Art. 3 and the ICO: the same date in the later month,
  else that month's last day, then the next working day if it is a Saturday, Sunday or public
  holiday. The extension cap is receipt + 3 months moved the same way (ICO: "three months from
  the original start date"). GB uses England and Wales bank holidays; EU uses the Member State
  of the controller's main establishment (Reg. 1182/71 Art. 2(1)), Ireland by default, and only
  EEA states are accepted, since a main establishment is in the Union. A count that reaches a
  year no ``holidays`` calendar covers (after 2100) is refused rather than counted without it.
- Every law here wants the extension notice within the first period ("within the first 45
  days", "within one month of receipt"), so ``extension_notice_by`` equals ``respond_by``.
- Clock pauses: in the UK the time to respond begins only once the controller has the
  information it asked for to confirm identity (UK GDPR Art. 12A, inserted by the Data (Use and
  Access) Act 2025, from 19 June 2026): ``restarted`` counts a GB request's dates again from
  the day identity was confirmed. The EU's Art. 12(3) counts from receipt and the product takes
  that stricter reading: EU requests do not pause. Clarification pauses are not modelled (the
  service asks requesters nothing else before acting).

Which rights each jurisdiction grants
- California ``portability`` is the request to know answered in a portable format, so it has
  the know timing, acknowledgement included. Only California sets an acknowledgement, and not
  for opt-out or limit requests (11 CCR §§7026, 7027 set none).
- ``opt_out`` in the other US states (sale, targeted advertising, profiling) has the 45-day
  period and extension of every consumer request, as the statutes set no other; it is an outer
  bound (Colorado Rule 4.03(A): "as soon as feasibly possible").
- ``opt_out`` in EU and GB is the Art. 21(2)-(3) objection to direct marketing, on Art. 12(3)
  timing. ``restriction`` (Art. 18), ``objection`` (Art. 21(1)) and ``consent_withdrawal``
  (Art. 7(3)) exist only there; ``limit_sensitive`` only in
  California (other states protect sensitive data by opt-in consent, not a request right).
- Utah's ``correction`` (2025 H.B. 418, Utah Code §13-61-201(4)) applies to requests received
  from 1 July 2026, on the Act's 45 + 45 days.
- Iowa: 90 days plus 45; no correction; deletion of what the consumer provided; the only
  opt-out is of sale (Iowa Code §715D.3). Minnesota's access answer lists the specific third
  parties (§325M.14 subd. 1(h)), and its ``profiling_review`` (subd. 1(g)) has the Act's 45 +
  45 days.
- ``appeal``: Colorado 45 days (+60), Minnesota 45 (+60), Oregon and New Jersey 45, the other
  states 60, only Colorado's and Minnesota's extendable. California and Utah have none; EU and
  GB refusals go to the regulator instead (GDPR Art. 77, UK GDPR Art. 77).
- A US resident of a state with no law in force (``US``) is honoured, when the setting says
  so, on the strictest periods the state laws share: 45 days, 45 more, an appeal in 45.

Effective dates
- Every rule applies to requests received from its ``applies_from`` (and before its
  ``applies_until``): the laws' effective dates are in ``STATE_LAWS_FROM``, researched with the
  sources in docs/state-laws.md. A request received before a right existed is refused with a
  reason that names the day the right begins.
"""

import calendar
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Final, NamedTuple

import holidays
from pydantic import BaseModel, ConfigDict

from rights.terms import LAW_NAMES, RIGHT_WORDS, Jurisdiction, RequestType


class RightNotGranted(ValueError):
    """The law of the jurisdiction gives no such right, so there is no lawful date to invent."""

    def __init__(
        self, jurisdiction: Jurisdiction, right: RequestType, applies_from: date | None = None
    ) -> None:
        super().__init__(jurisdiction, right, applies_from)
        self.jurisdiction = jurisdiction
        self.right = right
        # Set when the law grants the right, but only to requests received from this day.
        self.applies_from = applies_from

    def __str__(self) -> str:
        if self.applies_from is not None:
            return (
                f"{self.jurisdiction}'s right '{self.right}' applies to requests received from "
                f"{self.applies_from.isoformat()}"
            )
        if self.jurisdiction is Jurisdiction.UNCOVERED:
            return "no law this service applies covers the requester's residence"
        if self.jurisdiction is Jurisdiction.US_NO_STATE_LAW:
            return "the requester's state has no privacy law and HONOUR_STATES_WITHOUT_LAW is off"
        if self.jurisdiction is Jurisdiction.UNDETERMINED:
            return f"no law this service applies grants the right '{self.right}'"
        return f"{self.jurisdiction} does not grant the right '{self.right}'"

    def in_plain_words(self) -> str:
        """The reason as the requester's notice gives it."""
        if self.applies_from is not None:
            return (
                f"{LAW_NAMES[self.jurisdiction]} gives a right {RIGHT_WORDS[self.right]} only "
                f"for requests received from {self.applies_from:%B %-d, %Y}, after yours"
            )
        if self.jurisdiction is Jurisdiction.UNDETERMINED:
            return f"none of the privacy laws we apply gives a right {RIGHT_WORDS[self.right]}"
        if self.jurisdiction is Jurisdiction.US_NO_STATE_LAW:
            return (
                "the state where you live has no consumer privacy law in force, so no law gives "
                "you this right against us"
            )
        if self.jurisdiction is Jurisdiction.UNCOVERED:
            laws = ", ".join(
                name for j, name in LAW_NAMES.items() if j is not Jurisdiction.US_NO_STATE_LAW
            )
            return (
                "none of the privacy laws we apply covers where you live "
                f"(we apply {laws}), so no law gives you this right against us"
            )
        return f"{LAW_NAMES[self.jurisdiction]} does not give a right {RIGHT_WORDS[self.right]}"


class LegalBasis(BaseModel):
    """The citation behind each date, shown to requesters and operators beside the date."""

    model_config = ConfigDict(frozen=True)

    acknowledge_by: str | None
    respond_by: str
    extension_notice_by: str | None
    extended_respond_by: str | None


class DueDates(BaseModel):
    """The deadlines a request must meet; a null date means the law sets none."""

    model_config = ConfigDict(frozen=True)

    jurisdiction: Jurisdiction
    type: RequestType
    received: date
    acknowledge_by: date | None
    respond_by: date
    extension_notice_by: date | None
    extended_respond_by: date | None
    legal_basis: LegalBasis


class Unit(StrEnum):
    DAYS = "days"
    BUSINESS_DAYS = "business_days"
    MONTHS = "months"


class Period(NamedTuple):
    """A period counted from the receipt day, with the provision that sets it."""

    length: int
    unit: Unit
    basis: str


ALWAYS: Final = date.min


class Rule(NamedTuple):
    """One row: the periods a law sets for one right, for requests received from
    ``applies_from`` until the day before ``applies_until``; ``extended`` is measured from
    receipt."""

    respond: Period
    acknowledge: Period | None = None
    extended: Period | None = None
    extension_notice_basis: str | None = None
    applies_from: date = ALWAYS
    applies_until: date | None = None

    def applies_to(self, received: date) -> bool:
        return self.applies_from <= received and (
            self.applies_until is None or received < self.applies_until
        )

    def from_(self, day: date) -> "Rule":
        """The same rule, in force from `day` (a law's effective date)."""
        return self._replace(applies_from=day)


class _Calendar(NamedTuple):
    country: str
    subdivision: str | None = None


_DAYS, _BUSINESS_DAYS, _MONTHS = Unit.DAYS, Unit.BUSINESS_DAYS, Unit.MONTHS

_CA_KNOW = Rule(
    acknowledge=Period(10, _BUSINESS_DAYS, "11 CCR §7021(a)"),
    respond=Period(45, _DAYS, "Cal. Civ. Code §1798.130(a)(2)(A); 11 CCR §7021(b)"),
    extension_notice_basis="Cal. Civ. Code §1798.130(a)(2)(A); 11 CCR §7021(b)",
    extended=Period(90, _DAYS, "Cal. Civ. Code §1798.130(a)(2)(A); 11 CCR §7021(b) (90 in total)"),
)
_CA_OPT_OUT = Rule(respond=Period(15, _BUSINESS_DAYS, "11 CCR §7026(f)(1)"))
_CA_LIMIT = Rule(respond=Period(15, _BUSINESS_DAYS, "11 CCR §7027(g)(1)"))


def _state(
    basis: str,
    extended_days: int = 90,
    extension_notice_basis: str = "",
    *,
    respond_days: int = 45,
    applies_from: date = ALWAYS,
) -> Rule:
    """A US state's period (45 days in most), extendable once with notice within it."""
    return Rule(
        respond=Period(respond_days, _DAYS, basis),
        extension_notice_basis=extension_notice_basis or basis,
        extended=Period(extended_days, _DAYS, basis),
        applies_from=applies_from,
    )


def _appeal(days: int, basis: str, *, applies_from: date, extended_days: int = 0) -> Rule:
    """A state's appeal period, and the total when the law lets it be extended."""
    return Rule(
        respond=Period(days, _DAYS, basis),
        extension_notice_basis=basis if extended_days else None,
        extended=Period(extended_days, _DAYS, basis) if extended_days else None,
        applies_from=applies_from,
    )


_CO = _state("C.R.S. §6-1-1306(2)(a)-(b)")
_CO_APPEAL = _state("C.R.S. §6-1-1306(3)(b)", extended_days=45 + 60)
_CT = _state("Conn. Gen. Stat. §42-518(c)(1)")
_CT_APPEAL = Rule(respond=Period(60, _DAYS, "Conn. Gen. Stat. §42-518(d)"))
_VA = _state("Va. Code §59.1-577(B)(1)")
_VA_APPEAL = Rule(respond=Period(60, _DAYS, "Va. Code §59.1-577(C)"))
_UT = _state("Utah Code §13-61-203(2)(a)-(b)", extension_notice_basis="Utah Code §13-61-203(2)(c)")
# 2025 H.B. 418 adds the right to correct (Utah Code §13-61-201(4)) from 1 July 2026.
UTAH_CORRECTION_FROM: Final = date(2026, 7, 1)
_TX = _state("Tex. Bus. & Com. Code §541.052(b)")
_TX_APPEAL = Rule(respond=Period(60, _DAYS, "Tex. Bus. & Com. Code §541.053"))
_OR = _state("ORS 646A.576(5)(a)")
_OR_APPEAL = Rule(respond=Period(45, _DAYS, "ORS 646A.576(6)"))
_FL = _state("Fla. Stat. §501.706(2)", extended_days=45 + 15)
_FL_APPEAL = Rule(respond=Period(60, _DAYS, "Fla. Stat. §501.707"))

# The laws in force since 2024, by the day each first applies (see docs/state-laws.md).
STATE_LAWS_FROM: Final[Mapping[Jurisdiction, date]] = {
    Jurisdiction.US_MT: date(2024, 10, 1),
    Jurisdiction.US_DE: date(2025, 1, 1),
    Jurisdiction.US_IA: date(2025, 1, 1),
    Jurisdiction.US_NE: date(2025, 1, 1),
    Jurisdiction.US_NH: date(2025, 1, 1),
    Jurisdiction.US_NJ: date(2025, 1, 15),
    Jurisdiction.US_TN: date(2025, 7, 1),
    Jurisdiction.US_MN: date(2025, 7, 31),
    Jurisdiction.US_MD: date(2025, 10, 1),
    Jurisdiction.US_IN: date(2026, 1, 1),
    Jurisdiction.US_KY: date(2026, 1, 1),
    Jurisdiction.US_RI: date(2026, 1, 1),
}
_ON = STATE_LAWS_FROM
_MN = _state("Minn. Stat. §325M.14 subd. 4", applies_from=_ON[Jurisdiction.US_MN])
_MN_APPEAL = _appeal(
    45, "Minn. Stat. §325M.14 subd. 5", applies_from=_ON[Jurisdiction.US_MN], extended_days=45 + 60
)
_MT = _state("Mont. Code Ann. §30-14-2808(4)(a)", applies_from=_ON[Jurisdiction.US_MT])
_MT_APPEAL = _appeal(60, "Mont. Code Ann. §30-14-2808(5)", applies_from=_ON[Jurisdiction.US_MT])
_DE = _state("6 Del. C. §12D-104(c)(1)", applies_from=_ON[Jurisdiction.US_DE])
_DE_APPEAL = _appeal(60, "6 Del. C. §12D-104(d)", applies_from=_ON[Jurisdiction.US_DE])
_IA = _state(
    "Iowa Code §715D.3(2)(a)",
    respond_days=90,
    extended_days=90 + 45,
    applies_from=_ON[Jurisdiction.US_IA],
)
_IA_APPEAL = _appeal(60, "Iowa Code §715D.3(3)", applies_from=_ON[Jurisdiction.US_IA])
_NE = _state("Neb. Rev. Stat. §87-1108(2)", applies_from=_ON[Jurisdiction.US_NE])
_NE_APPEAL = _appeal(60, "Neb. Rev. Stat. §87-1109", applies_from=_ON[Jurisdiction.US_NE])
_NH = _state("RSA 507-H:4, III", applies_from=_ON[Jurisdiction.US_NH])
_NH_APPEAL = _appeal(60, "RSA 507-H:4, IV", applies_from=_ON[Jurisdiction.US_NH])
_NJ = _state("N.J.S.A. 56:8-166.7(a)", applies_from=_ON[Jurisdiction.US_NJ])
_NJ_APPEAL = _appeal(45, "N.J.S.A. 56:8-166.7(d)", applies_from=_ON[Jurisdiction.US_NJ])
_TN = _state("Tenn. Code Ann. §47-18-3304(b)(1)", applies_from=_ON[Jurisdiction.US_TN])
_TN_APPEAL = _appeal(60, "Tenn. Code Ann. §47-18-3304(c)", applies_from=_ON[Jurisdiction.US_TN])
_MD = _state("Md. Code, Com. Law §14-4605(c)", applies_from=_ON[Jurisdiction.US_MD])
_MD_APPEAL = _appeal(60, "Md. Code, Com. Law §14-4605(d)", applies_from=_ON[Jurisdiction.US_MD])
_IN = _state("Ind. Code §24-15-3-1(c)(1)", applies_from=_ON[Jurisdiction.US_IN])
_IN_APPEAL = _appeal(60, "Ind. Code §24-15-3-1(d)", applies_from=_ON[Jurisdiction.US_IN])
_KY = _state("KRS 367.3615(3)(a)", applies_from=_ON[Jurisdiction.US_KY])
_KY_APPEAL = _appeal(60, "KRS 367.3615(4)", applies_from=_ON[Jurisdiction.US_KY])
_RI = _state("R.I. Gen. Laws §6-48.1-6(b)(1)", applies_from=_ON[Jurisdiction.US_RI])
_RI_APPEAL = _appeal(60, "R.I. Gen. Laws §6-48.1-6(c)", applies_from=_ON[Jurisdiction.US_RI])

# A resident of a state with no law in force, honoured (HONOUR_STATES_WITHOUT_LAW): the
# strictest periods the state laws share, 45 days plus 45, and an appeal decided in 45 days.
_VOLUNTARY = _state("our privacy policy: the 45 days (plus 45) the state privacy laws set")
_VOLUNTARY_APPEAL = Rule(
    respond=Period(45, _DAYS, "our privacy policy: the shortest appeal period the state laws set")
)

_MONTH_COUNT = "Reg. (EEC, Euratom) 1182/71 Art. 3"
_EU = Rule(
    respond=Period(1, _MONTHS, f"GDPR Art. 12(3); {_MONTH_COUNT}"),
    extension_notice_basis="GDPR Art. 12(3)",
    extended=Period(3, _MONTHS, f"GDPR Art. 12(3) (two further months); {_MONTH_COUNT}"),
)
_ICO = "ICO, 'What should we consider when responding to a request?'"
_GB = Rule(
    respond=Period(1, _MONTHS, f"UK GDPR Arts 12(3), 12A; {_ICO}"),
    extension_notice_basis="UK GDPR Art. 12A",
    extended=Period(3, _MONTHS, f"UK GDPR Art. 12A (two further months); {_ICO}"),
)

_KNOW = (RequestType.ACCESS, RequestType.DELETION, RequestType.CORRECTION, RequestType.PORTABILITY)
_STATE_RIGHTS = (*_KNOW, RequestType.OPT_OUT)
# GDPR Arts 18, 21 and 7(3) (UK GDPR the same): restriction, objection and withdrawing consent
# are answered on the Art. 12(3) clock like every other right.
_GDPR_RIGHTS = (
    *_STATE_RIGHTS,
    RequestType.RESTRICTION,
    RequestType.OBJECTION,
    RequestType.CONSENT_WITHDRAWAL,
)


def _with_appeal(
    rule: Rule, appeal: Rule, rights: tuple[RequestType, ...] = _STATE_RIGHTS
) -> dict[RequestType, tuple[Rule, ...]]:
    return {**dict.fromkeys(rights, (rule,)), RequestType.APPEAL: (appeal,)}


def _rows(rules: Mapping[RequestType, Rule]) -> dict[RequestType, tuple[Rule, ...]]:
    return {right: (rule,) for right, rule in rules.items()}


# Iowa grants no correction and no targeted-advertising opt-out; its deletion reaches only
# what the consumer provided (Iowa Code §715D.3(1)(b)).
_IOWA_RIGHTS = (
    RequestType.ACCESS,
    RequestType.DELETION,
    RequestType.PORTABILITY,
    RequestType.OPT_OUT,
)

_RULES: Final[Mapping[Jurisdiction, Mapping[RequestType, tuple[Rule, ...]]]] = {
    Jurisdiction.US_CA: _rows(
        {
            **dict.fromkeys(_KNOW, _CA_KNOW),
            RequestType.OPT_OUT: _CA_OPT_OUT,
            RequestType.LIMIT_SENSITIVE: _CA_LIMIT,
        }
    ),
    Jurisdiction.US_CO: _with_appeal(_CO, _CO_APPEAL),
    Jurisdiction.US_CT: _with_appeal(_CT, _CT_APPEAL),
    Jurisdiction.US_VA: _with_appeal(_VA, _VA_APPEAL),
    Jurisdiction.US_UT: {
        **dict.fromkeys(
            (
                RequestType.ACCESS,
                RequestType.DELETION,
                RequestType.PORTABILITY,
                RequestType.OPT_OUT,
            ),
            (_UT,),
        ),
        RequestType.CORRECTION: (_UT.from_(UTAH_CORRECTION_FROM),),
    },
    Jurisdiction.US_TX: _with_appeal(_TX, _TX_APPEAL),
    Jurisdiction.US_OR: _with_appeal(_OR, _OR_APPEAL),
    Jurisdiction.US_FL: _with_appeal(_FL, _FL_APPEAL),
    Jurisdiction.US_MN: _with_appeal(
        _MN, _MN_APPEAL, (*_STATE_RIGHTS, RequestType.PROFILING_REVIEW)
    ),
    Jurisdiction.US_MT: _with_appeal(_MT, _MT_APPEAL),
    Jurisdiction.US_DE: _with_appeal(_DE, _DE_APPEAL),
    Jurisdiction.US_IA: _with_appeal(_IA, _IA_APPEAL, _IOWA_RIGHTS),
    Jurisdiction.US_NE: _with_appeal(_NE, _NE_APPEAL),
    Jurisdiction.US_NH: _with_appeal(_NH, _NH_APPEAL),
    Jurisdiction.US_NJ: _with_appeal(_NJ, _NJ_APPEAL),
    Jurisdiction.US_TN: _with_appeal(_TN, _TN_APPEAL),
    Jurisdiction.US_MD: _with_appeal(_MD, _MD_APPEAL),
    Jurisdiction.US_IN: _with_appeal(_IN, _IN_APPEAL),
    Jurisdiction.US_KY: _with_appeal(_KY, _KY_APPEAL),
    Jurisdiction.US_RI: _with_appeal(_RI, _RI_APPEAL),
    Jurisdiction.US_NO_STATE_LAW: _with_appeal(_VOLUNTARY, _VOLUNTARY_APPEAL),
    Jurisdiction.EU: dict.fromkeys(_GDPR_RIGHTS, (_EU,)),
    Jurisdiction.GB: dict.fromkeys(_GDPR_RIGHTS, (_GB,)),
    Jurisdiction.UNCOVERED: {},
}
"""One row per jurisdiction and right, each with the rules in force over time (a right missing
from a row is not granted there; a right whose rules do not cover the receipt day is not granted
to that request)."""

# fmt: off
EEA_STATES: Final = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
"""Where a main establishment can be (Art. 4(16) GDPR); EEA states apply the GDPR too."""


def granted_rights(
    jurisdiction: Jurisdiction, on: date, *, honour_states_without_law: bool = True
) -> frozenset[RequestType]:
    """The request types the jurisdiction's law grants to a request received `on`, as the
    product reads it; while the requester's law is undetermined, every right some law grants.
    A state without a law grants what our policy honours there, if it honours anything."""
    jurisdiction = Jurisdiction(jurisdiction)
    if jurisdiction is Jurisdiction.US_NO_STATE_LAW and not honour_states_without_law:
        return frozenset()
    rows = _RULES.values() if jurisdiction is Jurisdiction.UNDETERMINED else [_RULES[jurisdiction]]
    return frozenset(
        right
        for row in rows
        for right, rules in row.items()
        if any(rule.applies_to(on) for rule in rules)
    )


def _rule_in_force(jurisdiction: Jurisdiction, right: RequestType, received: date) -> Rule:
    for rule in _RULES[jurisdiction].get(right, ()):
        if rule.applies_to(received):
            return rule
    raise _not_granted(jurisdiction, right, received)


def _not_granted(jurisdiction: Jurisdiction, right: RequestType, received: date) -> RightNotGranted:
    """The refusal, naming the day the right begins where the law grants it only later."""
    rules = _RULES.get(jurisdiction, {}).get(right, ())
    later = [rule.applies_from for rule in rules if rule.applies_from > received]
    return RightNotGranted(jurisdiction, right, min(later) if later else None)


def due_dates(
    jurisdiction: Jurisdiction, right: RequestType, received: date, *, eu_establishment: str = "IE"
) -> DueDates:
    """Deadlines for a request received on ``received`` (the business's local date).

    ``eu_establishment`` is the Member State of the controller's main establishment, whose
    public holidays end EU periods. Raises ``RightNotGranted`` where the law grants no such
    right, and ``ValueError`` where no holiday calendar covers a year the count reaches,
    rather than inventing a date.
    """
    jurisdiction, right = Jurisdiction(jurisdiction), RequestType(right)
    if isinstance(received, datetime):
        raise TypeError("received must be a date in the business's local time, not a datetime")
    if eu_establishment not in EEA_STATES:
        raise ValueError(f"eu_establishment {eu_establishment!r} is not an EEA country code")
    if jurisdiction is Jurisdiction.UNDETERMINED:
        return _earliest_of_every_law(right, received, eu_establishment)
    rule = _rule_in_force(jurisdiction, right, received)
    holiday_calendar = _holiday_calendar(jurisdiction, eu_establishment)
    respond_by = _end_of(rule.respond, received, holiday_calendar)
    acknowledge_by = (
        _end_of(rule.acknowledge, received, holiday_calendar) if rule.acknowledge else None
    )
    extended = _end_of(rule.extended, received, holiday_calendar) if rule.extended else None
    return DueDates(
        jurisdiction=jurisdiction,
        type=right,
        received=received,
        acknowledge_by=acknowledge_by,
        respond_by=respond_by,
        extension_notice_by=respond_by if rule.extended else None,
        extended_respond_by=extended,
        legal_basis=LegalBasis(
            acknowledge_by=rule.acknowledge.basis if rule.acknowledge else None,
            respond_by=rule.respond.basis,
            extension_notice_by=rule.extension_notice_basis,
            extended_respond_by=rule.extended.basis if rule.extended else None,
        ),
    )


def _earliest_of_every_law(right: RequestType, received: date, eu_establishment: str) -> DueDates:
    """Until the requester says where they live: the earliest date of every law that grants the
    right, so whichever applies is met; no extension is taken on a law not yet known."""
    candidates = [
        due_dates(jurisdiction, right, received, eu_establishment=eu_establishment)
        for jurisdiction in _RULES
        if right in granted_rights(jurisdiction, received)
    ]
    if not candidates:
        raise RightNotGranted(Jurisdiction.UNDETERMINED, right)
    earliest = min(candidates, key=lambda due: due.respond_by)
    acknowledgements = [due.acknowledge_by for due in candidates if due.acknowledge_by]
    basis = (
        f"the earliest of the laws that may apply until you tell us where you live "
        f"({earliest.jurisdiction.value}: {earliest.legal_basis.respond_by})"
    )
    return DueDates(
        jurisdiction=Jurisdiction.UNDETERMINED,
        type=right,
        received=received,
        acknowledge_by=min(acknowledgements) if acknowledgements else None,
        respond_by=earliest.respond_by,
        extension_notice_by=None,
        extended_respond_by=None,
        legal_basis=LegalBasis(
            acknowledge_by="11 CCR §7021(a), the only law that sets one"
            if acknowledgements
            else None,
            respond_by=basis,
            extension_notice_by=None,
            extended_respond_by=None,
        ),
    )


def dates_or_refusal(
    jurisdiction: Jurisdiction,
    right: RequestType,
    received: date,
    *,
    eu_establishment: str,
    honour_states_without_law: bool,
) -> tuple[DueDates, RightNotGranted | None]:
    """A run's dates: the law's, or, where it grants no such right to this request, the
    refusal and the dates of answering it on receipt."""
    try:
        if right not in granted_rights(
            jurisdiction, received, honour_states_without_law=honour_states_without_law
        ):
            raise _not_granted(jurisdiction, right, received)
        return due_dates(jurisdiction, right, received, eu_establishment=eu_establishment), None
    except RightNotGranted as refusal:
        return answered_on_receipt(jurisdiction, right, received), refusal


UK_IDENTITY_PAUSE_FROM: Final = date(2026, 6, 19)
"""UK GDPR Art. 12A, as inserted by the Data (Use and Access) Act 2025: requests received from
this day wait for the requester's identity without their clock running."""


def clock_waits_for_identity(jurisdiction: Jurisdiction, received: date) -> bool:
    """Whether the time to respond starts only once the requester's identity is confirmed."""
    return jurisdiction is Jurisdiction.GB and received >= UK_IDENTITY_PAUSE_FROM


def restarted(due: DueDates, day: date, *, eu_establishment: str = "IE") -> DueDates:
    """`due` counted again from `day`, when the clock restarts; the receipt day stays."""
    again = due_dates(due.jurisdiction, due.type, day, eu_establishment=eu_establishment)
    basis = again.legal_basis
    since = f"counted from {day.isoformat()}, when we confirmed who you are (UK GDPR Art. 12A)"
    return again.model_copy(
        update={
            "received": due.received,
            "acknowledge_by": due.acknowledge_by,
            "legal_basis": basis.model_copy(
                update={
                    "acknowledge_by": due.legal_basis.acknowledge_by,
                    "respond_by": f"{basis.respond_by}; {since}",
                }
            ),
        }
    )


def answered_on_receipt(jurisdiction: Jurisdiction, right: RequestType, received: date) -> DueDates:
    """The dates of a request for a right the law does not grant: refused the day it arrives,
    with the reason and the requester's remedies, rather than left without an answer."""
    return DueDates(
        jurisdiction=jurisdiction,
        type=right,
        received=received,
        acknowledge_by=None,
        respond_by=received,
        extension_notice_by=None,
        extended_respond_by=None,
        legal_basis=LegalBasis(
            acknowledge_by=None,
            respond_by=f"answered on receipt: {RightNotGranted(jurisdiction, right)}",
            extension_notice_by=None,
            extended_respond_by=None,
        ),
    )


def _holiday_calendar(jurisdiction: Jurisdiction, eu_establishment: str) -> _Calendar:
    """US periods skip federal holidays; EU and UK periods end on a local working day."""
    if jurisdiction is Jurisdiction.EU:
        return _Calendar(eu_establishment)
    if jurisdiction is Jurisdiction.GB:
        return _Calendar("GB", "ENG")
    return _Calendar("US")


def _end_of(period: Period, received: date, holiday_calendar: _Calendar) -> date:
    match period.unit:
        case Unit.DAYS:
            return received + timedelta(days=period.length)
        case Unit.BUSINESS_DAYS:
            day = received
            for _ in range(period.length):
                day = _next_working_day(day + timedelta(days=1), holiday_calendar)
            return day
        case Unit.MONTHS:
            return _next_working_day(_add_months(received, period.length), holiday_calendar)


def _add_months(day: date, months: int) -> date:
    """Same date ``months`` later, or that month's last day (Reg. 1182/71 Art. 3(2)(c))."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _next_working_day(day: date, holiday_calendar: _Calendar) -> date:
    while day.weekday() >= 5 or day in _public_holidays(holiday_calendar, day.year):
        day += timedelta(days=1)
    return day


@cache
def _public_holidays(holiday_calendar: _Calendar, year: int) -> frozenset[date]:
    """One year's public holidays on their observed dates, memoised (the function is pure).

    Holiday names are left untranslated: translating them reads message catalogues and locale
    settings, which is I/O that Temporal's workflow sandbox refuses, and only dates matter here.
    This overrides a private hook of ``holidays`` (pinned); a test fails if the hook moves.
    """
    entity = getattr(holidays, holiday_calendar.country).get_entity()
    if not entity.start_year <= year <= entity.end_year:
        raise ValueError(f"no {holiday_calendar.country} holiday calendar for {year}")
    untranslated = type(entity.__name__, (entity,), {"_init_translation": _untranslated_names})
    return frozenset(untranslated(years=year, subdiv=holiday_calendar.subdivision))


def _untranslated_names(entity: holidays.HolidayBase) -> None:
    entity.tr = lambda message: message
