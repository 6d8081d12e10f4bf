"""Identity verification against the service's own records (11 CCR §§7060, 7062).

The link in the verification email proves control of the address; the data points the
requester types in must match the account's, as many as the standard needs, and none may
contradict it. A data point that is blank on file, or says nothing once parsed, is missing: it
neither matches nor contradicts. Reasons returned to the workflow name what is missing, never
the values.
"""

from __future__ import annotations

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from temporalio import activity

from activities.data_points import canonical
from logs import request_context
from rights.activity_inputs import ActivityName, IdentityMatch, MatchIdentityInput
from rights.plans import REQUIRED_DATA_POINTS, needs_declaration
from rights.registry import IdentitySource
from rights.residence import country_of
from rights.terms import VerificationStandard
from stores.engines import sanitised_database_errors

log = structlog.get_logger()


class IdentityActivities:
    def __init__(self, engine: Engine, source: IdentitySource) -> None:
        self._engine = engine
        self._source = source
        self._table = sa.Table(source.table, sa.MetaData(), autoload_with=engine)

    @activity.defn(name=ActivityName.MATCH_IDENTITY)
    def match_identity(self, input: MatchIdentityInput) -> IdentityMatch:
        """How far the requester's details match the account on file, and why not."""
        with request_context(input.request, "identity_verification"), sanitised_database_errors():
            match = self._match(input)
            log.info(
                "identity_matched",
                matched=match.matched,
                points=match.points_matched,
                standard=match.standard_met.value if match.standard_met else None,
            )
            return match

    def _match(self, input: MatchIdentityInput) -> IdentityMatch:
        columns = [self._table.c[column] for column in self._source.data_points.values()]
        with self._engine.connect() as connection:
            account = connection.execute(
                sa.select(*columns).where(
                    sa.func.lower(self._table.c[self._source.email_column])
                    == input.request.requester.email.lower()
                )
            ).first()
        if account is None:
            return IdentityMatch(
                matched=False,
                points_matched=0,
                reason="we hold no account under the email address of this request",
            )
        request = input.request
        country = country_of(request.requester.residence, request.jurisdiction.value)
        on_file = dict(zip(self._source.data_points, account, strict=True))
        matched = 0
        for point, given in input.data_points.items():
            stored = "" if on_file.get(point) is None else str(on_file[point])
            known = canonical(point, stored, country=country, on_file=stored)
            answer = canonical(point, given, country=country, on_file=stored)
            if known is None or answer is None:
                continue
            if known != answer:
                return IdentityMatch(
                    matched=False,
                    points_matched=matched,
                    reason=f"the {point.value.replace('_', ' ')} given does not match our records",
                )
            matched += 1
        return self._judge(input, matched)

    @staticmethod
    def _judge(input: MatchIdentityInput, matched: int) -> IdentityMatch:
        """The highest standard the answer meets, up to the one the request asks for."""
        jurisdiction = input.request.jurisdiction
        high = VerificationStandard.REASONABLY_HIGH
        if (
            input.standard is high
            and matched >= REQUIRED_DATA_POINTS[high]
            and (input.declaration_signed or not needs_declaration(high, jurisdiction))
        ):
            return IdentityMatch(
                matched=True,
                points_matched=matched,
                reason=f"verified with {matched + 1} data points",
                standard_met=high,
            )
        reasonable = VerificationStandard.REASONABLE
        if matched < REQUIRED_DATA_POINTS[reasonable]:
            required = REQUIRED_DATA_POINTS[input.standard]
            return IdentityMatch(
                matched=False,
                points_matched=matched,
                reason=f"we need {required} matching details besides your email; got {matched}",
            )
        if input.standard is reasonable:
            return IdentityMatch(
                matched=True,
                points_matched=matched,
                reason=f"verified with {matched + 1} data points",
                standard_met=reasonable,
            )
        missing = (
            "two matching details and the signed declaration"
            if needs_declaration(high, jurisdiction)
            else "two matching details"
        )
        return IdentityMatch(
            matched=True,
            points_matched=matched,
            reason=(
                f"verified with {matched + 1} data points, enough for the categories of your "
                f"information; the specific pieces need {missing}"
            ),
            standard_met=reasonable,
        )


class AccountDirectory:
    """Finds the service's account id for a person: the id analytics tools know them by."""

    def __init__(self, engine: Engine, identity: IdentitySource) -> None:
        self._engine = engine
        self._identity = identity

    def account_id(self, email: str) -> str | None:
        """The account id of the person with this email address, if the service knows them."""
        table = sa.table(
            self._identity.table,
            sa.column(self._identity.email_column),
            sa.column(self._identity.account_id_column),
        )
        with sanitised_database_errors(), self._engine.connect() as connection:
            found = connection.execute(
                sa.select(table.c[self._identity.account_id_column]).where(
                    sa.func.lower(table.c[self._identity.email_column]) == email.lower()
                )
            ).first()
        return None if found is None else str(found[0])
