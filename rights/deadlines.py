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
- Clock pauses (awaiting authentication, UK Art. 12A clarification) are not modelled: the
  workflow recomputes from the date the clock restarts.

Which rights each jurisdiction grants
- California ``portability`` is the request to know answered in a portable format, so it has
  the know timing, acknowledgement included. Only California sets an acknowledgement, and not
  for opt-out or limit requests (11 CCR §§7026, 7027 set none).
- ``opt_out`` in the other US states (sale, targeted advertising, profiling) has the 45-day
  period and extension of every consumer request, as the statutes set no other; it is an outer
  bound (Colorado Rule 4.03(A): "as soon as feasibly possible").
- ``opt_out`` in EU and GB is the Art. 21(2)-(3) objection to direct marketing, on Art. 12(3)
  timing. ``restriction`` and ``objection`` exist only there; ``limit_sensitive`` only in
  California (other states protect sensitive data by opt-in consent, not a request right).
- Utah grants no ``correction`` (the product's position; H.B. 418's right to correct, reported
  in force from 1 Jul 2026, is not modelled yet).
- ``appeal``: Colorado 45 days (+60), Connecticut, Virginia and Texas 60, Oregon 45, Florida 60,
  only Colorado's extendable. California and Utah have none; EU and GB refusals go to the
  regulator instead (GDPR Art. 77, UK GDPR Art. 77).
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

    def __init__(self, jurisdiction: Jurisdiction, right: RequestType) -> None:
        super().__init__(jurisdiction, right)
        self.jurisdiction = jurisdiction
        self.right = right

    def __str__(self) -> str:
        if self.jurisdiction is Jurisdiction.UNCOVERED:
            return "no law this service applies covers the requester's residence"
        if self.jurisdiction is Jurisdiction.UNDETERMINED:
            return f"no law this service applies grants the right '{self.right}'"
        return f"{self.jurisdiction} does not grant the right '{self.right}'"

    def in_plain_words(self) -> str:
        """The reason as the requester's notice gives it."""
        if self.jurisdiction is Jurisdiction.UNDETERMINED:
            return f"none of the privacy laws we apply gives a right {RIGHT_WORDS[self.right]}"
        if self.jurisdiction is Jurisdiction.UNCOVERED:
            laws = ", ".join(LAW_NAMES.values())
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


class Rule(NamedTuple):
    """One row: the periods a law sets for one right; ``extended`` is measured from receipt."""

    respond: Period
    acknowledge: Period | None = None
    extended: Period | None = None
    extension_notice_basis: str | None = None


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


def _state(basis: str, extended_days: int = 90, extension_notice_basis: str = "") -> Rule:
    """A US state's 45-day period, extendable once with notice within the first 45 days."""
    return Rule(
        respond=Period(45, _DAYS, basis),
        extension_notice_basis=extension_notice_basis or basis,
        extended=Period(extended_days, _DAYS, basis),
    )


_CO = _state("C.R.S. §6-1-1306(2)(a)-(b)")
_CO_APPEAL = _state("C.R.S. §6-1-1306(3)(b)", extended_days=45 + 60)
_CT = _state("Conn. Gen. Stat. §42-518(c)(1)")
_CT_APPEAL = Rule(respond=Period(60, _DAYS, "Conn. Gen. Stat. §42-518(d)"))
_VA = _state("Va. Code §59.1-577(B)(1)")
_VA_APPEAL = Rule(respond=Period(60, _DAYS, "Va. Code §59.1-577(C)"))
_UT = _state("Utah Code §13-61-203(2)(a)-(b)", extension_notice_basis="Utah Code §13-61-203(2)(c)")
_TX = _state("Tex. Bus. & Com. Code §541.052(b)")
_TX_APPEAL = Rule(respond=Period(60, _DAYS, "Tex. Bus. & Com. Code §541.053"))
_OR = _state("ORS 646A.576(5)(a)")
_OR_APPEAL = Rule(respond=Period(45, _DAYS, "ORS 646A.576(6)"))
_FL = _state("Fla. Stat. §501.706(2)", extended_days=45 + 15)
_FL_APPEAL = Rule(respond=Period(60, _DAYS, "Fla. Stat. §501.707"))

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
_GDPR_RIGHTS = (*_STATE_RIGHTS, RequestType.RESTRICTION, RequestType.OBJECTION)


def _with_appeal(rule: Rule, appeal: Rule) -> dict[RequestType, Rule]:
    return {**dict.fromkeys(_STATE_RIGHTS, rule), RequestType.APPEAL: appeal}


_RULES: Final[Mapping[Jurisdiction, Mapping[RequestType, Rule]]] = {
    Jurisdiction.US_CA: {
        **dict.fromkeys(_KNOW, _CA_KNOW),
        RequestType.OPT_OUT: _CA_OPT_OUT,
        RequestType.LIMIT_SENSITIVE: _CA_LIMIT,
    },
    Jurisdiction.US_CO: _with_appeal(_CO, _CO_APPEAL),
    Jurisdiction.US_CT: _with_appeal(_CT, _CT_APPEAL),
    Jurisdiction.US_VA: _with_appeal(_VA, _VA_APPEAL),
    Jurisdiction.US_UT: dict.fromkeys(  # no correction right: see the module docstring
        (RequestType.ACCESS, RequestType.DELETION, RequestType.PORTABILITY, RequestType.OPT_OUT),
        _UT,
    ),
    Jurisdiction.US_TX: _with_appeal(_TX, _TX_APPEAL),
    Jurisdiction.US_OR: _with_appeal(_OR, _OR_APPEAL),
    Jurisdiction.US_FL: _with_appeal(_FL, _FL_APPEAL),
    Jurisdiction.EU: dict.fromkeys(_GDPR_RIGHTS, _EU),
    Jurisdiction.GB: dict.fromkeys(_GDPR_RIGHTS, _GB),
    Jurisdiction.UNCOVERED: {},
}
"""One row per jurisdiction and right; a right missing from a row is not granted there."""

# fmt: off
EEA_STATES: Final = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
"""Where a main establishment can be (Art. 4(16) GDPR); EEA states apply the GDPR too."""


def granted_rights(jurisdiction: Jurisdiction) -> frozenset[RequestType]:
    """The request types the jurisdiction's law grants, as the product reads it; while the
    requester's law is undetermined, every right some law grants."""
    if Jurisdiction(jurisdiction) is Jurisdiction.UNDETERMINED:
        return frozenset(right for rules in _RULES.values() for right in rules)
    return frozenset(_RULES[Jurisdiction(jurisdiction)])


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
    rule = _RULES[jurisdiction].get(right)
    if rule is None:
        raise RightNotGranted(jurisdiction, right)
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
        if right in _RULES[jurisdiction]
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
