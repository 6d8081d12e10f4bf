"""Identity verification against the service's own records (11 CCR §§7060, 7062).

The link in the verification email proves control of the address; the data points the
requester types in must match the account's, as many as the standard needs, and none may
contradict it. Reasons returned to the workflow name what is missing, never the values.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from temporalio import activity

from activities.providers.registry import IdentitySource
from logs import request_context
from rights.activity_inputs import ActivityName, IdentityMatch, MatchIdentityInput
from rights.models import DataPoint
from rights.plans import NEEDS_DECLARATION, REQUIRED_DATA_POINTS

log = structlog.get_logger()


def normalize(point: DataPoint, value: str) -> str:
    if point is DataPoint.PHONE:
        return re.sub(r"\D", "", value)[-10:]
    return re.sub(r"\s", "", value).upper()


class IdentityActivities:
    def __init__(self, engine: Engine, source: IdentitySource) -> None:
        self._engine = engine
        self._source = source
        self._table = sa.Table(source.table, sa.MetaData(), autoload_with=engine)

    @activity.defn(name=ActivityName.MATCH_IDENTITY)
    def match_identity(self, input: MatchIdentityInput) -> IdentityMatch:
        with request_context(input.request, "identity_verification"):
            match = self._match(input)
            log.info("identity_matched", matched=match.matched, points=match.points_matched)
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
        on_file = dict(zip(self._source.data_points, account, strict=True))
        matched = 0
        for point, given in input.data_points.items():
            known = on_file.get(point)
            if known is None:
                continue
            if normalize(point, str(known)) != normalize(point, given):
                return IdentityMatch(
                    matched=False,
                    points_matched=matched,
                    reason=f"the {point.value.replace('_', ' ')} given does not match our records",
                )
            matched += 1
        required = REQUIRED_DATA_POINTS[input.standard]
        if matched < required:
            return IdentityMatch(
                matched=False,
                points_matched=matched,
                reason=f"we need {required} matching details besides your email; got {matched}",
            )
        if NEEDS_DECLARATION[input.standard] and not input.declaration_signed:
            return IdentityMatch(
                matched=False,
                points_matched=matched,
                reason="this request needs a signed declaration under penalty of perjury",
            )
        return IdentityMatch(
            matched=True, points_matched=matched, reason=f"verified with {matched + 1} data points"
        )
