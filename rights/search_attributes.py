"""Custom search attributes: ids, types and dates only; Temporal stores them in plaintext.

Every one is registered wherever a Temporal server is made: `dev/local_stack.py` and the tests
take `ALL`; docker-compose.yml lists them for its schema job (a test keeps it in step).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from temporalio.common import SearchAttributeKey

REQUEST_TYPE = SearchAttributeKey.for_keyword("RightsRequestType")
JURISDICTION = SearchAttributeKey.for_keyword("Jurisdiction")
STATUS = SearchAttributeKey.for_keyword("RightsRequestStatus")
RESPOND_BY = SearchAttributeKey.for_datetime("RespondBy")
# Whose move it is (rights.models.WaitingOn); published from release 0.5.0.
WAITING_ON = SearchAttributeKey.for_keyword("WaitingOn")

ALL = (REQUEST_TYPE, JURISDICTION, STATUS, RESPOND_BY, WAITING_ON)


def start_of(day: date) -> datetime:
    """Midnight UTC of `day`: how a date is kept in a Datetime search attribute."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)
