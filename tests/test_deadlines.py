"""Due dates as a requester, an operator or a regulator would check them on a calendar.

Every expected date below was counted by hand; the weekday comments say why a date moved.
"""

import ast
import calendar
import locale
import pickle
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # the project is not installed; make `rights` importable
    sys.path.insert(0, str(_ROOT))

from rights.deadlines import (  # noqa: E402
    DueDates,
    RightNotGranted,
    due_dates,
    granted_rights,
)
from rights.terms import Jurisdiction, RequestType  # noqa: E402

J, R = Jurisdiction, RequestType
US_STATES = (J.US_CO, J.US_CT, J.US_VA, J.US_UT, J.US_TX, J.US_OR, J.US_FL)


def dates(result: DueDates) -> tuple[date | None, date, date | None, date | None]:
    return (
        result.acknowledge_by,
        result.respond_by,
        result.extension_notice_by,
        result.extended_respond_by,
    )


# --- California -----------------------------------------------------------------------------


def test_california_access_ack_skips_a_monday_holiday_and_response_stays_on_sunday() -> None:
    # Thu 15 Jan 2026; Mon 19 Jan is Martin Luther King Jr. Day, so the 10th business day is
    # Fri 30 Jan. Day 45 is Sun 1 Mar 2026 and is not moved; day 90 is Wed 15 Apr 2026.
    result = due_dates(J.US_CA, R.ACCESS, date(2026, 1, 15))
    assert dates(result) == (
        date(2026, 1, 30),
        date(2026, 3, 1),
        date(2026, 3, 1),
        date(2026, 4, 15),
    )
    assert result.legal_basis.acknowledge_by == "11 CCR §7021(a)"
    assert "§1798.130(a)(2)(A)" in result.legal_basis.respond_by


@pytest.mark.parametrize("right", [R.DELETION, R.CORRECTION, R.PORTABILITY])
def test_california_delete_correct_and_portability_follow_the_know_timing(
    right: RequestType,
) -> None:
    result = due_dates(J.US_CA, right, date(2026, 1, 15))
    assert dates(result) == (
        date(2026, 1, 30),
        date(2026, 3, 1),
        date(2026, 3, 1),
        date(2026, 4, 15),
    )


def test_california_access_received_in_december_crosses_the_year_and_two_holidays() -> None:
    # Sun 20 Dec 2026: business days Mon 21 .. Thu 24 (4), Fri 25 Christmas, Mon 28 .. Thu 31 (8),
    # Fri 1 Jan New Year, Mon 4 (9), Tue 5 Jan 2027 (10). Day 45 is Wed 3 Feb 2027, day 90 is
    # Sat 20 Mar 2027 (not moved).
    result = due_dates(J.US_CA, R.ACCESS, date(2026, 12, 20))
    assert dates(result) == (
        date(2027, 1, 5),
        date(2027, 2, 3),
        date(2027, 2, 3),
        date(2027, 3, 20),
    )


def test_california_opt_out_received_before_thanksgiving_has_fifteen_business_days() -> None:
    # Fri 20 Nov 2026; Thanksgiving Thu 26 Nov is skipped: the 15th business day is Mon 14 Dec.
    result = due_dates(J.US_CA, R.OPT_OUT, date(2026, 11, 20))
    assert dates(result) == (None, date(2026, 12, 14), None, None)
    assert result.legal_basis.respond_by == "11 CCR §7026(f)(1)"
    assert result.legal_basis.acknowledge_by is None
    assert result.legal_basis.extended_respond_by is None


def test_california_limit_sensitive_across_christmas_and_new_year() -> None:
    # Fri 18 Dec 2026; Fri 25 Dec and Fri 1 Jan are holidays: 15th business day Tue 12 Jan 2027.
    result = due_dates(J.US_CA, R.LIMIT_SENSITIVE, date(2026, 12, 18))
    assert dates(result) == (None, date(2027, 1, 12), None, None)
    assert result.legal_basis.respond_by == "11 CCR §7027(g)(1)"


def test_california_business_days_use_observed_federal_holidays() -> None:
    # Thu 16 Dec 2021. Christmas (Sat) is observed Fri 24 Dec; New Year 2022 (Sat) is observed
    # Fri 31 Dec 2021. Business days: 17, 20-23 (5), 27-30 (9), Mon 3 .. Fri 7 Jan (14), Mon 10.
    result = due_dates(J.US_CA, R.OPT_OUT, date(2021, 12, 16))
    assert result.respond_by == date(2022, 1, 10)


# --- Other US states ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "right", "received", "respond_by", "extended_respond_by"),
    [
        # 31 Jan is a month end: day 45 is Tue 17 Mar 2026, day 90 Fri 1 May 2026.
        (J.US_TX, R.ACCESS, date(2026, 1, 31), date(2026, 3, 17), date(2026, 5, 1)),
        # Leap year: 15 Jan 2028 + 45 is Tue 29 Feb 2028; + 90 is Fri 14 Apr 2028.
        (J.US_CO, R.DELETION, date(2028, 1, 15), date(2028, 2, 29), date(2028, 4, 14)),
        # The same receipt date in a common year lands on 1 Mar.
        (J.US_CO, R.DELETION, date(2027, 1, 15), date(2027, 3, 1), date(2027, 4, 15)),
        # Received on 29 Feb 2028: day 45 Fri 14 Apr, day 90 Mon 29 May 2028.
        (J.US_OR, R.CORRECTION, date(2028, 2, 29), date(2028, 4, 14), date(2028, 5, 29)),
        # Year crossing: 31 Dec 2026 + 45 is Sun 14 Feb 2027 (not moved); + 90 is Wed 31 Mar.
        (J.US_VA, R.PORTABILITY, date(2026, 12, 31), date(2027, 2, 14), date(2027, 3, 31)),
        (J.US_CT, R.OPT_OUT, date(2026, 5, 1), date(2026, 6, 15), date(2026, 7, 30)),
        # Received on Independence Day (a Saturday): holidays do not matter for calendar days.
        (J.US_UT, R.ACCESS, date(2026, 7, 4), date(2026, 8, 18), date(2026, 10, 2)),
        # Florida extends by 15 days only: 10 Mar 2026 + 45 = Fri 24 Apr, + 60 = Sat 9 May.
        (J.US_FL, R.ACCESS, date(2026, 3, 10), date(2026, 4, 24), date(2026, 5, 9)),
    ],
)
def test_us_state_requests_have_45_days_and_one_extension(
    jurisdiction: Jurisdiction,
    right: RequestType,
    received: date,
    respond_by: date,
    extended_respond_by: date,
) -> None:
    result = due_dates(jurisdiction, right, received)
    assert dates(result) == (None, respond_by, respond_by, extended_respond_by)


@pytest.mark.parametrize(
    ("jurisdiction", "received", "respond_by", "extended_respond_by"),
    [
        # Colorado: 45 days (Thu 16 Jul 2026), extendable by 60 (Mon 14 Sep 2026).
        (J.US_CO, date(2026, 6, 1), date(2026, 7, 16), date(2026, 9, 14)),
        # 60 days from 15 Dec 2026 is Sat 13 Feb 2027, not moved; no extension.
        (J.US_CT, date(2026, 12, 15), date(2027, 2, 13), None),
        (J.US_VA, date(2026, 12, 15), date(2027, 2, 13), None),
        (J.US_TX, date(2026, 12, 15), date(2027, 2, 13), None),
        (J.US_FL, date(2026, 12, 15), date(2027, 2, 13), None),
        # Oregon: 45 days from 15 Dec 2026 is Fri 29 Jan 2027.
        (J.US_OR, date(2026, 12, 15), date(2027, 1, 29), None),
    ],
)
def test_appeals_run_from_the_appeal_receipt(
    jurisdiction: Jurisdiction,
    received: date,
    respond_by: date,
    extended_respond_by: date | None,
) -> None:
    result = due_dates(jurisdiction, R.APPEAL, received)
    notice_by = respond_by if extended_respond_by else None
    assert dates(result) == (None, respond_by, notice_by, extended_respond_by)


def test_appeal_legal_basis_names_the_appeal_provision() -> None:
    assert due_dates(J.US_CO, R.APPEAL, date(2026, 6, 1)).legal_basis.respond_by == (
        "C.R.S. §6-1-1306(3)(b)"
    )
    assert due_dates(J.US_VA, R.APPEAL, date(2026, 6, 1)).legal_basis.respond_by == (
        "Va. Code §59.1-577(C)"
    )


# --- EU (Ireland by default) and GB ---------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "respond_by", "extended_respond_by"),
    [
        # 28 Feb 2026 is a Saturday -> Mon 2 Mar. Three months: Thu 30 Apr 2026.
        (date(2026, 1, 31), date(2026, 3, 2), date(2026, 4, 30)),
        # Leap year: Tue 29 Feb 2028. Three months: Sun 30 Apr -> Mon 1 May is the Irish May
        # Bank Holiday -> Tue 2 May 2028.
        (date(2028, 1, 31), date(2028, 2, 29), date(2028, 5, 2)),
        # 28 Feb -> 28 Mar, not 31 Mar (Fri 28 Mar 2025); three months: Wed 28 May 2025.
        (date(2025, 2, 28), date(2025, 3, 28), date(2025, 5, 28)),
        # 31 Mar -> 30 Apr (Thu 30 Apr 2026); three months: 30 Jun 2026 (Tue).
        (date(2026, 3, 31), date(2026, 4, 30), date(2026, 6, 30)),
        # Year crossing: Fri 1 Jan 2027 is New Year's Day -> Mon 4 Jan; + 3 months Mon 1 Mar.
        (date(2026, 12, 1), date(2027, 1, 4), date(2027, 3, 1)),
        # Sat 26 Dec 2026 is St Stephen's Day, Sun 27 -> Mon 28 Dec 2026.
        (date(2026, 11, 26), date(2026, 12, 28), date(2027, 2, 26)),
        # Received on a Sunday: the month still runs from the actual receipt date.
        (date(2028, 2, 27), date(2028, 3, 27), date(2028, 5, 29)),
    ],
)
def test_eu_one_month_ends_on_an_irish_working_day(
    received: date, respond_by: date, extended_respond_by: date
) -> None:
    result = due_dates(J.EU, R.ACCESS, received)
    assert dates(result) == (None, respond_by, respond_by, extended_respond_by)


def test_eu_st_patricks_day_moves_the_deadline_in_ireland_but_not_in_germany() -> None:
    # One month from Tue 17 Feb 2026 is Tue 17 Mar 2026, St Patrick's Day in Ireland.
    assert due_dates(J.EU, R.DELETION, date(2026, 2, 17)).respond_by == (date(2026, 3, 18))
    german = due_dates(J.EU, R.DELETION, date(2026, 2, 17), eu_establishment="DE")
    assert german.respond_by == date(2026, 3, 17)


def test_eu_st_brigids_day_is_an_irish_holiday() -> None:
    # 1 Jan 2027 + 1 month = Mon 1 Feb 2027, St Brigid's Day in Ireland (first Monday in Feb).
    assert holidays.country_holidays("IE", years=2027).get(date(2027, 2, 1)) == "Saint Brigid's Day"
    assert due_dates(J.EU, R.ACCESS, date(2027, 1, 1)).respond_by == date(2027, 2, 2)
    assert due_dates(J.EU, R.ACCESS, date(2027, 1, 1), eu_establishment="DE").respond_by == (
        date(2027, 2, 1)
    )


def test_eu_good_friday_is_a_holiday_in_germany_but_not_in_ireland() -> None:
    # One month from 3 Mar 2026 is Good Friday, 3 Apr 2026. Germany: Good Friday, weekend and
    # Easter Monday push it to Tue 7 Apr. Ireland keeps Fri 3 Apr.
    assert due_dates(J.EU, R.OBJECTION, date(2026, 3, 3)).respond_by == date(2026, 4, 3)
    assert due_dates(J.EU, R.OBJECTION, date(2026, 3, 3), eu_establishment="DE").respond_by == (
        date(2026, 4, 7)
    )


def test_gb_ico_worked_example_skips_christmas_and_boxing_day() -> None:
    # ICO: received Mon 25 Nov 2024 -> Wed 25 Dec and Thu 26 Dec are bank holidays -> Fri 27 Dec.
    result = due_dates(J.GB, R.ACCESS, date(2024, 11, 25))
    assert dates(result) == (None, date(2024, 12, 27), date(2024, 12, 27), date(2025, 2, 25))
    assert "UK GDPR" in result.legal_basis.respond_by
    assert "Art. 12A" in (result.legal_basis.extended_respond_by or "")


@pytest.mark.parametrize(
    ("received", "respond_by", "extended_respond_by"),
    [
        # 31 Jan 2028 -> Tue 29 Feb 2028; + 3 months Sun 30 Apr -> Mon 1 May is the early May
        # bank holiday in England -> Tue 2 May 2028.
        (date(2028, 1, 31), date(2028, 2, 29), date(2028, 5, 2)),
        # 31 Jan 2026 -> Sat 28 Feb -> Mon 2 Mar 2026.
        (date(2026, 1, 31), date(2026, 3, 2), date(2026, 4, 30)),
        # ICO: received 1 Jan (a bank holiday) -> 1 Feb: Mon 1 Feb 2027 is a working day in
        # England (unlike Ireland). + 3 months: Thu 1 Apr 2027.
        (date(2027, 1, 1), date(2027, 2, 1), date(2027, 4, 1)),
        # Good Friday 3 Apr 2026, weekend, Easter Monday 6 Apr -> Tue 7 Apr 2026.
        (date(2026, 3, 3), date(2026, 4, 7), date(2026, 6, 3)),
        # Christmas and Boxing Day 2027 fall at the weekend; substitute days Mon 27 and Tue 28
        # -> Wed 29 Dec 2027. + 3 months: Sun 27 Feb 2028 -> Mon 28 Feb.
        (date(2027, 11, 27), date(2027, 12, 29), date(2028, 2, 28)),
    ],
)
def test_gb_one_month_ends_on_an_english_working_day(
    received: date, respond_by: date, extended_respond_by: date
) -> None:
    result = due_dates(J.GB, R.RESTRICTION, received)
    assert dates(result) == (None, respond_by, respond_by, extended_respond_by)


@pytest.mark.parametrize("jurisdiction", [J.EU, J.GB])
def test_gdpr_opt_out_is_the_direct_marketing_objection_on_the_one_month_clock(
    jurisdiction: Jurisdiction,
) -> None:
    opt_out = due_dates(jurisdiction, R.OPT_OUT, date(2026, 1, 31))
    objection = due_dates(jurisdiction, R.OBJECTION, date(2026, 1, 31))
    assert dates(opt_out) == dates(objection)


# --- Rights a jurisdiction does not grant ---------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "right"),
    [
        (J.US_CA, R.APPEAL),
        (J.US_UT, R.APPEAL),
        (J.US_UT, R.CORRECTION),
        (J.EU, R.APPEAL),
        (J.GB, R.APPEAL),
        (J.EU, R.LIMIT_SENSITIVE),
        (J.GB, R.LIMIT_SENSITIVE),
        *[(state, R.LIMIT_SENSITIVE) for state in US_STATES],
        *[(state, R.RESTRICTION) for state in (J.US_CA, *US_STATES)],
        *[(state, R.OBJECTION) for state in (J.US_CA, *US_STATES)],
        *[(state, R.CONSENT_WITHDRAWAL) for state in (J.US_CA, *US_STATES)],
    ],
)
def test_a_right_the_law_does_not_grant_is_refused_by_name(
    jurisdiction: Jurisdiction, right: RequestType
) -> None:
    with pytest.raises(RightNotGranted) as raised:
        due_dates(jurisdiction, right, date(2026, 6, 1))
    assert str(jurisdiction) in str(raised.value)
    assert f"'{right}'" in str(raised.value)
    assert right not in granted_rights(jurisdiction, date(2026, 6, 1))


def test_right_not_granted_message_and_pickling() -> None:
    error = RightNotGranted(J.US_CA, R.APPEAL)
    assert str(error) == "US-CA does not grant the right 'appeal'"
    assert isinstance(error, ValueError)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_granted_rights_per_jurisdiction() -> None:
    state = {R.ACCESS, R.DELETION, R.CORRECTION, R.PORTABILITY, R.OPT_OUT}
    on = date(2026, 12, 2)
    assert granted_rights(J.US_CA, on) == {*state, R.LIMIT_SENSITIVE}
    assert granted_rights(J.US_UT, on) == state
    assert granted_rights(J.US_UT, date(2026, 6, 30)) == state - {R.CORRECTION}
    assert granted_rights(J.US_IA, on) == {*state - {R.CORRECTION}, R.APPEAL}
    for jurisdiction in (J.US_CO, J.US_CT, J.US_VA, J.US_TX, J.US_OR, J.US_FL):
        assert granted_rights(jurisdiction, on) == {*state, R.APPEAL}
    assert granted_rights(J.US_MN, on) == {*state, R.APPEAL, R.PROFILING_REVIEW}
    assert granted_rights(J.EU, on) == granted_rights(J.GB, on)
    assert granted_rights(J.EU, on) == {*state, R.RESTRICTION, R.OBJECTION, R.CONSENT_WITHDRAWAL}


# --- Inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("establishment", ["XX", "US", "ie", ""])
def test_unknown_or_non_eea_establishment_is_refused_by_name(establishment: str) -> None:
    with pytest.raises(ValueError, match=repr(establishment)):
        due_dates(J.EU, R.ACCESS, date(2026, 1, 31), eu_establishment=establishment)


def test_a_timestamp_is_refused_so_the_receipt_day_is_never_guessed() -> None:
    with pytest.raises(TypeError):
        due_dates(J.US_CA, R.ACCESS, datetime(2026, 1, 15, 23, 30))


def test_string_codes_are_accepted_and_the_json_dump_keeps_the_interface_names() -> None:
    result = due_dates("US-CO", "appeal", date(2026, 6, 1))  # type: ignore[arg-type]
    assert result.model_dump(mode="json") == {
        "jurisdiction": "US-CO",
        "type": "appeal",
        "received": "2026-06-01",
        "acknowledge_by": None,
        "respond_by": "2026-07-16",
        "extension_notice_by": "2026-07-16",
        "extended_respond_by": "2026-09-14",
        "legal_basis": {
            "acknowledge_by": None,
            "respond_by": "C.R.S. §6-1-1306(3)(b)",
            "extension_notice_by": "C.R.S. §6-1-1306(3)(b)",
            "extended_respond_by": "C.R.S. §6-1-1306(3)(b)",
        },
    }


# --- Properties over every granted right, 2000-2099 -----------------------------------------

GRANTED = [(j, r) for j in Jurisdiction for r in sorted(granted_rights(j, date(2099, 1, 1)))]
EEA_SAMPLE = ["IE", "DE", "FR", "NL", "PL"]


def is_working_day(day: date, jurisdiction: Jurisdiction, establishment: str) -> bool:
    country, subdivision = ("GB", "ENG") if jurisdiction is J.GB else (establishment, None)
    public_holidays = holidays.country_holidays(country, subdiv=subdivision, years=day.year)
    return day.weekday() < 5 and day not in public_holidays


@settings(max_examples=200, deadline=None)
@given(
    pair=st.sampled_from(GRANTED),
    received=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    establishment=st.sampled_from(EEA_SAMPLE),
)
def test_deadlines_are_ordered_and_each_has_a_basis(
    pair: tuple[Jurisdiction, RequestType], received: date, establishment: str
) -> None:
    jurisdiction, right = pair
    if right not in granted_rights(jurisdiction, received):
        # Before a law's first day: that law names the day; no law at all, while undetermined.
        said = (
            "no law this service applies grants"
            if jurisdiction is J.UNDETERMINED
            else "applies to requests received from"
        )
        with pytest.raises(RightNotGranted, match=said):
            due_dates(jurisdiction, right, received, eu_establishment=establishment)
        return
    result = due_dates(jurisdiction, right, received, eu_establishment=establishment)
    assert received < result.respond_by
    if result.acknowledge_by is not None:
        assert received < result.acknowledge_by <= result.respond_by
    if result.extension_notice_by is not None:
        assert result.extension_notice_by <= result.respond_by
    if result.extended_respond_by is not None:
        assert result.respond_by <= result.extended_respond_by
    assert (result.extension_notice_by is None) == (result.extended_respond_by is None)
    basis = result.legal_basis
    assert (basis.acknowledge_by is None) == (result.acknowledge_by is None)
    assert (basis.extension_notice_by is None) == (result.extension_notice_by is None)
    assert (basis.extended_respond_by is None) == (result.extended_respond_by is None)


@settings(max_examples=200, deadline=None)
@given(
    jurisdiction=st.sampled_from([J.EU, J.GB]),
    right=st.sampled_from(sorted(granted_rights(J.EU, date(2026, 1, 1)))),
    received=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    establishment=st.sampled_from(EEA_SAMPLE),
)
def test_gdpr_deadlines_are_the_first_working_day_from_the_corresponding_date(
    jurisdiction: Jurisdiction, right: RequestType, received: date, establishment: str
) -> None:
    result = due_dates(jurisdiction, right, received, eu_establishment=establishment)
    assert result.extended_respond_by is not None
    for deadline, months in ((result.respond_by, 1), (result.extended_respond_by, 3)):
        year, month = divmod(received.year * 12 + received.month - 1 + months, 12)
        last_day = calendar.monthrange(year, month + 1)[1]
        corresponding = date(year, month + 1, min(received.day, last_day))
        assert corresponding <= deadline <= corresponding + timedelta(days=7)
        assert is_working_day(deadline, jurisdiction, establishment)
        skipped = (
            corresponding + timedelta(days=n) for n in range((deadline - corresponding).days)
        )
        assert not any(is_working_day(day, jurisdiction, establishment) for day in skipped)


@settings(max_examples=200, deadline=None)
@given(pair=st.sampled_from(GRANTED), received=st.dates(date(2026, 7, 1), date(2099, 12, 31)))
def test_the_same_request_always_gets_the_same_dates(
    pair: tuple[Jurisdiction, RequestType], received: date
) -> None:
    assert due_dates(*pair, received) == due_dates(*pair, received)


def test_holiday_calendars_are_built_without_reading_translations_or_locale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Temporal's workflow sandbox refuses gettext and locale calls. No other test reaches
    # 1989-1990, so those calendars are built fresh here.
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("holiday names must not be translated")

    monkeypatch.setattr(holidays.holiday_base, "translation", refuse)
    monkeypatch.setattr(holidays.holiday_base, "gettext", refuse)
    monkeypatch.setattr(locale, "normalize", refuse)
    # One month from 1 Dec 1989 is New Year's Day, Mon 1 Jan 1990 -> Tue 2 Jan.
    assert due_dates(J.EU, R.ACCESS, date(1989, 12, 1)).respond_by == date(1990, 1, 2)
    assert due_dates(J.GB, R.ACCESS, date(1989, 12, 1)).respond_by == date(1990, 1, 2)
    # Fri 29 Dec 1989: 1 Jan and MLK Day (15 Jan) skipped, the 15th business day is 23 Jan.
    assert due_dates(J.US_CA, R.OPT_OUT, date(1989, 12, 29)).respond_by == date(1990, 1, 23)


@pytest.mark.parametrize(
    ("jurisdiction", "right", "received", "establishment"),
    [
        (J.EU, R.ACCESS, date(2101, 1, 15), "IE"),
        (J.GB, R.ACCESS, date(2100, 11, 15), "IE"),  # the extension reaches 2101
        (J.US_CA, R.OPT_OUT, date(2101, 1, 15), "IE"),
        (J.EU, R.ACCESS, date(2005, 1, 15), "ES"),  # holidays covers Spain from 2008
    ],
)
def test_dates_beyond_the_holiday_calendars_are_refused_not_guessed(
    jurisdiction: Jurisdiction, right: RequestType, received: date, establishment: str
) -> None:
    with pytest.raises(ValueError, match="holiday calendar"):
        due_dates(jurisdiction, right, received, eu_establishment=establishment)


def test_calendar_day_deadlines_need_no_holiday_calendar() -> None:
    assert due_dates(J.US_CO, R.ACCESS, date(2150, 1, 1)).respond_by == date(2150, 2, 15)


def test_the_module_imports_nothing_that_does_io_or_reads_a_clock() -> None:
    source = (_ROOT / "rights" / "deadlines.py").read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    allowed = {"calendar", "collections", "datetime", "enum", "functools", "typing"}
    assert "from rights.terms import" in source  # its only project import: the shared words
    assert imported <= allowed | {"holidays", "pydantic", "rights"}
    for clock in ("now(", "today(", "time.", "utcnow", "open(", "environ"):
        assert clock not in source
