"""Identity matching: what counts as a match, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

A value that says nothing once parsed is missing on either side, never a match; phones are
compared as E.164 numbers, dates of birth strictly as ISO dates, postal codes per country.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from activities.data_points import canonical
from activities.identity import IdentityActivities
from dev.sample_service import accounts, add_person, create_service_schema
from rights.activity_inputs import IdentityMatch, MatchIdentityInput
from rights.models import Channel, DataPoint, Requester, RightsRequest
from rights.terms import Jurisdiction, RequestType, VerificationStandard
from tests.harness import MARIA, default_registry

NO_PHONE = ("no.phone@example.com", "Noor Haddad", "", "1990-05-01", "94110")
IRISH = ("aoife.byrne@example.ie", "Aoife Byrne", "+353 1 555 0103", "1991-07-23", "D02 X285")


@pytest.fixture
def identity(database: Engine) -> IdentityActivities:
    create_service_schema(database)
    for person in (MARIA, NO_PHONE, IRISH):
        add_person(database, *person)
    return IdentityActivities(database, default_registry().identity)


def match(
    identity: IdentityActivities,
    person: tuple[str, ...],
    points: dict[DataPoint, str],
    *,
    standard: VerificationStandard = VerificationStandard.REASONABLE,
    jurisdiction: Jurisdiction = Jurisdiction.US_CA,
    residence: str | None = None,
    declaration: bool = False,
) -> IdentityMatch:
    request = RightsRequest(
        request_id="req-identity-1",
        type=RequestType.ACCESS,
        jurisdiction=jurisdiction,
        requester=Requester(full_name=person[1], email=person[0], residence=residence),
        channel=Channel.WEB_FORM,
        received_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return identity.match_identity(
        MatchIdentityInput(
            request=request,
            standard=standard,
            data_points=points,
            declaration_signed=declaration,
        )
    )


def test_an_empty_phone_on_file_matches_nothing(identity: IdentityActivities) -> None:
    for answer in ("", "  ", "none", "()-"):
        result = match(identity, NO_PHONE, {DataPoint.PHONE: answer or "-"})
        assert not result.matched and result.points_matched == 0, answer


def test_an_answer_that_parses_to_nothing_is_missing(identity: IdentityActivities) -> None:
    result = match(identity, MARIA, {DataPoint.PHONE: "call me", DataPoint.POSTAL_CODE: "94110"})
    assert result.matched and result.points_matched == 1


@pytest.mark.parametrize(
    ("answer", "matched"),
    [
        ("+1 415 555 0101", True),
        ("(415) 555-0101", True),
        ("415.555.0101", True),
        ("+44 415 555 0101", False),  # same last ten digits, another country
        ("+1 415 555 0102", False),
    ],
)
def test_phones_are_compared_as_international_numbers(
    identity: IdentityActivities, answer: str, matched: bool
) -> None:
    result = match(identity, MARIA, {DataPoint.PHONE: answer})
    assert result.matched is matched
    if not matched:
        assert "phone given does not match" in result.reason and answer not in result.reason


def test_a_local_number_is_read_in_the_country_of_the_number_on_file(
    identity: IdentityActivities,
) -> None:
    result = match(identity, IRISH, {DataPoint.PHONE: "01 555 0103"}, jurisdiction=Jurisdiction.EU)
    assert result.matched


@pytest.mark.parametrize(
    ("answer", "matched", "points"),
    [
        ("1984-03-12", True, 1),
        ("03/12/1984", False, 0),  # not an ISO date: says nothing, so nothing matched
        ("1984-3-12", False, 0),
        ("1984-02-30", False, 0),
        ("1984-03-13", False, 0),
    ],
)
def test_dates_of_birth_are_parsed_strictly(
    identity: IdentityActivities, answer: str, matched: bool, points: int
) -> None:
    result = match(identity, MARIA, {DataPoint.DATE_OF_BIRTH: answer})
    assert result.matched is matched and result.points_matched == points


def test_postal_codes_are_normalised_per_country(identity: IdentityActivities) -> None:
    assert match(identity, MARIA, {DataPoint.POSTAL_CODE: "94110-2231"}).matched
    assert not match(identity, MARIA, {DataPoint.POSTAL_CODE: "9411"}).matched
    irish = match(
        identity, IRISH, {DataPoint.POSTAL_CODE: "d02x285"}, jurisdiction=Jurisdiction.EU,
        residence="IE",
    )  # fmt: skip
    assert irish.matched
    assert canonical(DataPoint.POSTAL_CODE, "SW1A 1AA", country="GB", on_file="") == "SW1A1AA"


def test_the_standard_met_is_reported_for_a_partial_answer(identity: IdentityActivities) -> None:
    high = VerificationStandard.REASONABLY_HIGH
    one_point = match(identity, MARIA, {DataPoint.PHONE: MARIA[2]}, standard=high)
    two_points = {DataPoint.PHONE: MARIA[2], DataPoint.DATE_OF_BIRTH: MARIA[3]}
    no_declaration = match(identity, MARIA, two_points, standard=high)
    declared = match(identity, MARIA, two_points, standard=high, declaration=True)
    colorado = match(identity, MARIA, two_points, standard=high, jurisdiction=Jurisdiction.US_CO)

    assert one_point.matched and one_point.standard_met is VerificationStandard.REASONABLE
    assert no_declaration.standard_met is VerificationStandard.REASONABLE
    assert "signed declaration" in no_declaration.reason
    assert declared.standard_met is high and declared.points_matched == 2
    # The perjury declaration is California's: elsewhere two matching details suffice.
    assert colorado.standard_met is high


def test_a_contradicting_detail_fails_even_beside_a_match(identity: IdentityActivities) -> None:
    result = match(
        identity, MARIA, {DataPoint.PHONE: MARIA[2], DataPoint.DATE_OF_BIRTH: "1999-01-01"}
    )
    assert not result.matched and "date of birth given does not match" in result.reason


def test_no_account_under_the_email(identity: IdentityActivities, database: Engine) -> None:
    with database.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(accounts)).scalar() == 3
    stranger = ("stranger@example.com", "S Tranger", "", "", "")
    assert not match(identity, stranger, {DataPoint.PHONE: MARIA[2]}).matched
