"""The state laws in force by December 2026, effective-dated rules, and the business's day.

Each worked example names the statute it reads (docs/state-laws.md has the sources and the
readings chosen where they disagree). Calendar-day periods are never moved off weekends or
holidays (see rights/deadlines.py), so each date is the receipt day plus the statute's days.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from rights.deadlines import (
    STATE_LAWS_FROM,
    UTAH_CORRECTION_FROM,
    RightNotGranted,
    dates_or_refusal,
    due_dates,
    granted_rights,
)
from rights.receipt_day import receipt_day
from rights.remedies import appeals_granted, regulator_for
from rights.residence import jurisdiction_for_residence
from rights.settings import SettingsError, load_settings
from rights.terms import LAW_NAMES, Jurisdiction, RequestType
from tests.test_starter import starter

J, R = Jurisdiction, RequestType
NEW_STATES = tuple(STATE_LAWS_FROM)

WORKED_EXAMPLES = [
    (
        J.US_MN,
        R.ACCESS,
        date(2026, 3, 2),
        date(2026, 4, 16),
        date(2026, 5, 31),
        "Minn. Stat. §325M.14 subd. 4",
    ),
    (
        J.US_MN,
        R.DELETION,
        date(2025, 12, 31),
        date(2026, 2, 14),
        date(2026, 3, 31),
        "Minn. Stat. §325M.14 subd. 4",
    ),
    (
        J.US_MN,
        R.OPT_OUT,
        date(2025, 7, 31),
        date(2025, 9, 14),
        date(2025, 10, 29),
        "Minn. Stat. §325M.14 subd. 4",
    ),
    (
        J.US_MT,
        R.ACCESS,
        date(2024, 10, 1),
        date(2024, 11, 15),
        date(2024, 12, 30),
        "Mont. Code Ann. §30-14-2808(4)(a)",
    ),
    (
        J.US_MT,
        R.CORRECTION,
        date(2026, 2, 27),
        date(2026, 4, 13),
        date(2026, 5, 28),
        "Mont. Code Ann. §30-14-2808(4)(a)",
    ),
    (
        J.US_MT,
        R.OPT_OUT,
        date(2026, 12, 24),
        date(2027, 2, 7),
        date(2027, 3, 24),
        "Mont. Code Ann. §30-14-2808(4)(a)",
    ),
    (
        J.US_DE,
        R.DELETION,
        date(2025, 1, 1),
        date(2025, 2, 15),
        date(2025, 4, 1),
        "6 Del. C. §12D-104(c)(1)",
    ),
    (
        J.US_DE,
        R.PORTABILITY,
        date(2026, 5, 15),
        date(2026, 6, 29),
        date(2026, 8, 13),
        "6 Del. C. §12D-104(c)(1)",
    ),
    (
        J.US_DE,
        R.ACCESS,
        date(2026, 11, 30),
        date(2027, 1, 14),
        date(2027, 2, 28),
        "6 Del. C. §12D-104(c)(1)",
    ),
    (
        J.US_IA,
        R.ACCESS,
        date(2025, 1, 1),
        date(2025, 4, 1),
        date(2025, 5, 16),
        "Iowa Code §715D.3(2)(a)",
    ),
    (
        J.US_IA,
        R.DELETION,
        date(2026, 2, 1),
        date(2026, 5, 2),
        date(2026, 6, 16),
        "Iowa Code §715D.3(2)(a)",
    ),
    (
        J.US_IA,
        R.OPT_OUT,
        date(2026, 10, 15),
        date(2027, 1, 13),
        date(2027, 2, 27),
        "Iowa Code §715D.3(2)(a)",
    ),
    (
        J.US_NE,
        R.ACCESS,
        date(2025, 1, 1),
        date(2025, 2, 15),
        date(2025, 4, 1),
        "Neb. Rev. Stat. §87-1108(2)",
    ),
    (
        J.US_NE,
        R.CORRECTION,
        date(2026, 6, 30),
        date(2026, 8, 14),
        date(2026, 9, 28),
        "Neb. Rev. Stat. §87-1108(2)",
    ),
    (
        J.US_NE,
        R.DELETION,
        date(2026, 12, 20),
        date(2027, 2, 3),
        date(2027, 3, 20),
        "Neb. Rev. Stat. §87-1108(2)",
    ),
    (J.US_NH, R.ACCESS, date(2025, 1, 1), date(2025, 2, 15), date(2025, 4, 1), "RSA 507-H:4, III"),
    (
        J.US_NH,
        R.OPT_OUT,
        date(2026, 4, 10),
        date(2026, 5, 25),
        date(2026, 7, 9),
        "RSA 507-H:4, III",
    ),
    (
        J.US_NH,
        R.DELETION,
        date(2026, 11, 17),
        date(2027, 1, 1),
        date(2027, 2, 15),
        "RSA 507-H:4, III",
    ),
    (
        J.US_NJ,
        R.ACCESS,
        date(2025, 1, 15),
        date(2025, 3, 1),
        date(2025, 4, 15),
        "N.J.S.A. 56:8-166.7(a)",
    ),
    (
        J.US_NJ,
        R.CORRECTION,
        date(2026, 1, 30),
        date(2026, 3, 16),
        date(2026, 4, 30),
        "N.J.S.A. 56:8-166.7(a)",
    ),
    (
        J.US_NJ,
        R.DELETION,
        date(2026, 12, 2),
        date(2027, 1, 16),
        date(2027, 3, 2),
        "N.J.S.A. 56:8-166.7(a)",
    ),
    (
        J.US_TN,
        R.ACCESS,
        date(2025, 7, 1),
        date(2025, 8, 15),
        date(2025, 9, 29),
        "Tenn. Code Ann. §47-18-3304(b)(1)",
    ),
    (
        J.US_TN,
        R.PORTABILITY,
        date(2026, 3, 31),
        date(2026, 5, 15),
        date(2026, 6, 29),
        "Tenn. Code Ann. §47-18-3304(b)(1)",
    ),
    (
        J.US_TN,
        R.OPT_OUT,
        date(2026, 11, 1),
        date(2026, 12, 16),
        date(2027, 1, 30),
        "Tenn. Code Ann. §47-18-3304(b)(1)",
    ),
    (
        J.US_MD,
        R.ACCESS,
        date(2025, 10, 1),
        date(2025, 11, 15),
        date(2025, 12, 30),
        "Md. Code, Com. Law §14-4605(c)",
    ),
    (
        J.US_MD,
        R.DELETION,
        date(2026, 4, 1),
        date(2026, 5, 16),
        date(2026, 6, 30),
        "Md. Code, Com. Law §14-4605(c)",
    ),
    (
        J.US_MD,
        R.CORRECTION,
        date(2026, 12, 31),
        date(2027, 2, 14),
        date(2027, 3, 31),
        "Md. Code, Com. Law §14-4605(c)",
    ),
    (
        J.US_IN,
        R.ACCESS,
        date(2026, 1, 1),
        date(2026, 2, 15),
        date(2026, 4, 1),
        "Ind. Code §24-15-3-1(c)(1)",
    ),
    (
        J.US_IN,
        R.DELETION,
        date(2026, 7, 4),
        date(2026, 8, 18),
        date(2026, 10, 2),
        "Ind. Code §24-15-3-1(c)(1)",
    ),
    (
        J.US_IN,
        R.OPT_OUT,
        date(2026, 12, 2),
        date(2027, 1, 16),
        date(2027, 3, 2),
        "Ind. Code §24-15-3-1(c)(1)",
    ),
    (
        J.US_KY,
        R.ACCESS,
        date(2026, 1, 1),
        date(2026, 2, 15),
        date(2026, 4, 1),
        "KRS 367.3615(3)(a)",
    ),
    (
        J.US_KY,
        R.CORRECTION,
        date(2026, 8, 20),
        date(2026, 10, 4),
        date(2026, 11, 18),
        "KRS 367.3615(3)(a)",
    ),
    (
        J.US_KY,
        R.DELETION,
        date(2026, 11, 25),
        date(2027, 1, 9),
        date(2027, 2, 23),
        "KRS 367.3615(3)(a)",
    ),
    (
        J.US_RI,
        R.ACCESS,
        date(2026, 1, 1),
        date(2026, 2, 15),
        date(2026, 4, 1),
        "R.I. Gen. Laws §6-48.1-6(b)(1)",
    ),
    (
        J.US_RI,
        R.PORTABILITY,
        date(2026, 9, 9),
        date(2026, 10, 24),
        date(2026, 12, 8),
        "R.I. Gen. Laws §6-48.1-6(b)(1)",
    ),
    (
        J.US_RI,
        R.DELETION,
        date(2026, 12, 2),
        date(2027, 1, 16),
        date(2027, 3, 2),
        "R.I. Gen. Laws §6-48.1-6(b)(1)",
    ),
    (
        J.US_UT,
        R.CORRECTION,
        date(2026, 7, 1),
        date(2026, 8, 15),
        date(2026, 9, 29),
        "Utah Code §13-61-203(2)(a)-(b)",
    ),
    (
        J.US_UT,
        R.CORRECTION,
        date(2026, 12, 2),
        date(2027, 1, 16),
        date(2027, 3, 2),
        "Utah Code §13-61-203(2)(a)-(b)",
    ),
    (
        J.US_UT,
        R.CORRECTION,
        date(2027, 1, 15),
        date(2027, 3, 1),
        date(2027, 4, 15),
        "Utah Code §13-61-203(2)(a)-(b)",
    ),
    (
        J.US_NO_STATE_LAW,
        R.ACCESS,
        date(2026, 12, 2),
        date(2027, 1, 16),
        date(2027, 3, 2),
        "our privacy policy",
    ),
    (
        J.US_NO_STATE_LAW,
        R.DELETION,
        date(2026, 2, 14),
        date(2026, 3, 31),
        date(2026, 5, 15),
        "our privacy policy",
    ),
    (
        J.US_NO_STATE_LAW,
        R.CORRECTION,
        date(2027, 3, 1),
        date(2027, 4, 15),
        date(2027, 5, 30),
        "our privacy policy",
    ),
]


@pytest.mark.parametrize(
    ("jurisdiction", "right", "received", "respond_by", "extended_by", "statute"),
    WORKED_EXAMPLES,
)
def test_worked_examples_per_state(
    jurisdiction: Jurisdiction,
    right: RequestType,
    received: date,
    respond_by: date,
    extended_by: date,
    statute: str,
) -> None:
    due = due_dates(jurisdiction, right, received)
    assert (due.respond_by, due.extended_respond_by) == (respond_by, extended_by)
    assert due.extension_notice_by == respond_by
    assert due.acknowledge_by is None
    assert statute in due.legal_basis.respond_by


def test_every_new_state_has_three_worked_examples() -> None:
    examples = [example[0] for example in WORKED_EXAMPLES]
    assert {state: examples.count(state) for state in NEW_STATES} == dict.fromkeys(NEW_STATES, 3)


@pytest.mark.parametrize("state", NEW_STATES)
def test_a_law_applies_from_its_effective_date_and_not_the_day_before(state: Jurisdiction) -> None:
    first_day = STATE_LAWS_FROM[state]
    assert due_dates(state, R.ACCESS, first_day).respond_by > first_day
    with pytest.raises(RightNotGranted) as refused:
        due_dates(state, R.ACCESS, first_day - timedelta(days=1))
    assert first_day.isoformat() in str(refused.value)
    assert f"{first_day:%B %-d, %Y}" in refused.value.in_plain_words()
    assert LAW_NAMES[state] in refused.value.in_plain_words()
    assert granted_rights(state, first_day - timedelta(days=1)) == frozenset()


def test_utah_correction_begins_on_1_july_2026() -> None:
    """2025 H.B. 418, Utah Code §13-61-201(4)."""
    assert date(2026, 7, 1) == UTAH_CORRECTION_FROM
    on_the_day = due_dates(J.US_UT, R.CORRECTION, date(2026, 7, 1))
    assert on_the_day.respond_by == date(2026, 8, 15)
    with pytest.raises(RightNotGranted, match="received from 2026-07-01"):
        due_dates(J.US_UT, R.CORRECTION, date(2026, 6, 30))
    # Utah's other rights were there all along.
    assert due_dates(J.US_UT, R.ACCESS, date(2026, 6, 30)).respond_by == date(2026, 8, 14)


def test_a_request_before_the_right_existed_is_answered_on_receipt_with_the_date() -> None:
    due, refusal = dates_or_refusal(
        J.US_UT,
        R.CORRECTION,
        date(2026, 6, 30),
        eu_establishment="IE",
        honour_states_without_law=True,
    )
    assert refusal is not None and refusal.applies_from == UTAH_CORRECTION_FROM
    assert due.respond_by == date(2026, 6, 30)
    assert "July 1, 2026" in refusal.in_plain_words()


def test_iowa_has_ninety_days_no_correction_and_a_sixty_day_appeal() -> None:
    """Iowa Code §715D.3(1)-(3)."""
    with pytest.raises(RightNotGranted, match="US-IA does not grant the right 'correction'"):
        due_dates(J.US_IA, R.CORRECTION, date(2026, 3, 1))
    appeal = due_dates(J.US_IA, R.APPEAL, date(2026, 3, 1))
    assert appeal.respond_by == date(2026, 4, 30)
    assert appeal.extended_respond_by is None
    assert "§715D.3(3)" in appeal.legal_basis.respond_by


@pytest.mark.parametrize(
    ("state", "received", "decide_by", "extended_by", "statute"),
    [
        (J.US_MN, date(2026, 3, 2), date(2026, 4, 16), date(2026, 6, 15), "§325M.14 subd. 5"),
        (J.US_NJ, date(2026, 3, 2), date(2026, 4, 16), None, "56:8-166.7"),
        (J.US_MT, date(2026, 3, 2), date(2026, 5, 1), None, "§30-14-2808"),
        (J.US_TN, date(2026, 3, 2), date(2026, 5, 1), None, "§47-18-3304"),
        (J.US_NO_STATE_LAW, date(2026, 3, 2), date(2026, 4, 16), None, "our privacy policy"),
    ],
)
def test_appeal_periods(
    state: Jurisdiction, received: date, decide_by: date, extended_by: date | None, statute: str
) -> None:
    appeal = due_dates(state, R.APPEAL, received)
    assert (appeal.respond_by, appeal.extended_respond_by) == (decide_by, extended_by)
    assert statute in appeal.legal_basis.respond_by
    assert appeals_granted(state)


@pytest.mark.parametrize(
    ("residence", "jurisdiction"),
    [
        ("US-MN", J.US_MN),
        ("us-ri", J.US_RI),
        ("US-NV", J.US_NO_STATE_LAW),
        ("US-PR", J.US_NO_STATE_LAW),
        ("US-NY", J.US_NO_STATE_LAW),
        ("CA", J.UNCOVERED),
    ],
)
def test_residence_gives_the_new_laws(residence: str, jurisdiction: Jurisdiction) -> None:
    assert jurisdiction_for_residence(residence) is jurisdiction


def test_a_state_without_a_law_is_honoured_or_answered_by_the_setting() -> None:
    received = date(2026, 12, 2)
    honoured, none = dates_or_refusal(
        J.US_NO_STATE_LAW,
        R.DELETION,
        received,
        eu_establishment="IE",
        honour_states_without_law=True,
    )
    assert none is None and honoured.respond_by == date(2027, 1, 16)
    answered, refusal = dates_or_refusal(
        J.US_NO_STATE_LAW,
        R.DELETION,
        received,
        eu_establishment="IE",
        honour_states_without_law=False,
    )
    assert refusal is not None and answered.respond_by == received
    assert "no consumer privacy law" in refusal.in_plain_words()
    assert regulator_for(J.US_NO_STATE_LAW).name == "the Federal Trade Commission"
    assert granted_rights(J.US_NO_STATE_LAW, received, honour_states_without_law=False) == set()


def test_every_law_has_a_regulator_and_a_name() -> None:
    for state in NEW_STATES:
        assert regulator_for(state).complaint_url.startswith("https://")
        assert state in LAW_NAMES


# --- The receipt day is the business's day -----------------------------------------------


@pytest.mark.parametrize(
    ("at", "timezone", "day"),
    [
        # 9:30 pm in Minneapolis in winter (CST, UTC-6) is already the next day in UTC.
        (datetime(2026, 12, 3, 3, 30, tzinfo=UTC), "America/Chicago", date(2026, 12, 2)),
        # In summer (CDT, UTC-5), 6:59 pm is still that day; 7 pm is 00:00 UTC the next day.
        (datetime(2026, 7, 1, 23, 59, tzinfo=UTC), "America/Chicago", date(2026, 7, 1)),
        (datetime(2026, 7, 2, 0, 0, tzinfo=UTC), "America/Chicago", date(2026, 7, 1)),
        (datetime(2026, 7, 2, 5, 0, tzinfo=UTC), "America/Chicago", date(2026, 7, 2)),
        (datetime(2026, 12, 3, 3, 30, tzinfo=UTC), "UTC", date(2026, 12, 3)),
    ],
)
def test_receipt_day_is_the_date_in_the_business_timezone(
    at: datetime, timezone: str, day: date
) -> None:
    assert receipt_day(at, timezone) == day


def test_an_evening_receipt_in_minneapolis_counts_from_that_day() -> None:
    at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC) + timedelta(hours=1)  # 7:30 pm CDT on 30 June
    day = receipt_day(at, "America/Chicago")
    assert day == date(2026, 6, 30)
    assert due_dates(J.US_MN, R.ACCESS, day).respond_by == date(2026, 8, 14)
    # Counting from the UTC day would allow one day more than the law does, and would grant
    # Utah's correction a day early.
    with pytest.raises(RightNotGranted):
        due_dates(J.US_UT, R.CORRECTION, day)


def test_a_naive_receipt_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        receipt_day(datetime(2026, 12, 2, 12, 0), "America/Chicago")


def test_business_timezone_setting_defaults_to_minneapolis_and_refuses_unknown_names() -> None:
    assert load_settings(_env_file=None).business_timezone == "America/Chicago"
    assert load_settings(_env_file=None).honour_states_without_law is True
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, business_timezone="America/Minneapolis")
    assert "BUSINESS_TIMEZONE" in str(refused.value)
    assert "IANA time zone" in str(refused.value)


# --- starter.py deadlines -----------------------------------------------------------------


async def test_starter_deadlines_answers_every_new_jurisdiction() -> None:
    outputs = await asyncio.gather(
        *(
            starter(
                "deadlines",
                "--jurisdiction",
                state.value,
                "--type",
                "access",
                "--received",
                "2026-12-02",
            )
            for state in (*NEW_STATES, J.US_NO_STATE_LAW)
        )
    )
    for state, (code, out, err) in zip((*NEW_STATES, J.US_NO_STATE_LAW), outputs, strict=True):
        assert code == 0, err
        dates = json.loads(out)
        assert dates["jurisdiction"] == state.value
        expected = 90 if state is J.US_IA else 45
        assert dates["respond_by"] == (date(2026, 12, 2) + timedelta(days=expected)).isoformat()
