"""Custom search attributes: ids, types and dates only; Temporal stores them in plaintext."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

REQUEST_TYPE = SearchAttributeKey.for_keyword("RightsRequestType")
JURISDICTION = SearchAttributeKey.for_keyword("Jurisdiction")
STATUS = SearchAttributeKey.for_keyword("RightsRequestStatus")
RESPOND_BY = SearchAttributeKey.for_datetime("RespondBy")

ALL = (REQUEST_TYPE, JURISDICTION, STATUS, RESPOND_BY)
