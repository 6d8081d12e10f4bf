"""The privacy desk's list: open requests filtered by the search attributes the runs publish.

The same filters work in the Temporal UI's workflow list (README, "The desk"); this module
turns `starter.py list` options into that query, so the CLI and the UI agree on what "overdue"
and "due within 7 days" mean: the current `RespondBy`, against the time now.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel
from temporalio.client import Client

from rights import search_attributes
from rights.models import RequestStatus, WaitingOn
from rights.terms import Jurisdiction, RequestType


class DeskFilter(BaseModel):
    """What `starter.py list` was asked for; every field narrows the list."""

    status: RequestStatus | None = None
    type: RequestType | None = None
    jurisdiction: Jurisdiction | None = None
    overdue: bool = False
    due_within: timedelta | None = None
    waiting_on: WaitingOn | None = None
    closed_too: bool = False


class DeskRow(BaseModel):
    request_id: str
    type: str
    jurisdiction: str
    status: str
    # Empty for runs started before 0.5.0, which do not publish it.
    waiting_on: str
    respond_by: date | None
    days_left: int | None


def desk_query(wanted: DeskFilter, now: datetime) -> str:
    """The visibility query for `wanted`, as the UI's filter box takes it."""
    clauses = ["WorkflowType IN ('RightsRequestWorkflow', 'AppealWorkflow')"]
    if not wanted.closed_too:
        clauses.append("ExecutionStatus = 'Running'")
    if wanted.status is not None:
        clauses.append(f"{search_attributes.STATUS.name} = '{wanted.status.value}'")
    if wanted.type is not None:
        clauses.append(f"{search_attributes.REQUEST_TYPE.name} = '{wanted.type.value}'")
    if wanted.jurisdiction is not None:
        clauses.append(f"{search_attributes.JURISDICTION.name} = '{wanted.jurisdiction.value}'")
    if wanted.waiting_on is not None:
        clauses.append(f"{search_attributes.WAITING_ON.name} = '{wanted.waiting_on.value}'")
    respond_by = search_attributes.RESPOND_BY.name
    today = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    if wanted.overdue:
        clauses.append(f"{respond_by} < '{today.isoformat()}'")
    if wanted.due_within is not None:
        clauses.append(f"{respond_by} <= '{(today + wanted.due_within).isoformat()}'")
    return " AND ".join(clauses)


async def list_requests(
    client: Client, wanted: DeskFilter, now: datetime | None = None
) -> list[DeskRow]:
    """Requests matching `wanted`, soonest deadline first; ids, types and dates only."""
    now = now or datetime.now(UTC)
    rows = []
    async for execution in client.list_workflows(desk_query(wanted, now)):
        attributes = execution.typed_search_attributes
        respond_by = attributes.get(search_attributes.RESPOND_BY)
        due = respond_by.date() if respond_by is not None else None
        rows.append(
            DeskRow(
                request_id=execution.id.removeprefix("rights-request-"),
                type=attributes.get(search_attributes.REQUEST_TYPE) or "",
                jurisdiction=attributes.get(search_attributes.JURISDICTION) or "",
                status=attributes.get(search_attributes.STATUS) or "",
                waiting_on=attributes.get(search_attributes.WAITING_ON) or "",
                respond_by=due,
                days_left=None if due is None else (due - now.date()).days,
            )
        )
    return sorted(rows, key=lambda row: (row.respond_by or date.max, row.request_id))
