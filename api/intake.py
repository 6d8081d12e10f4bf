"""Intake: start a request over HTTP and read its status; thin over `client.rights_requests`."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field, model_validator

from api.context import ApiContext, context
from api.idempotency import IdempotencyConflict
from api.security import bearer, matching_key
from client import rights_requests
from rights.models import (
    REQUEST_ID_PATTERN,
    Agent,
    AppealFiling,
    Channel,
    CorrectionItem,
    LongText,
    Model,
    NewRequest,
    Requester,
    RequestState,
    RequestStatus,
)
from rights.residence import jurisdiction_for_residence
from rights.terms import Jurisdiction, RequestType

router = APIRouter(prefix="/v1", tags=["intake"])


class IntakeRequest(Model):
    """A request as an intake system sends it; without `jurisdiction`, residence decides.

    An appeal (`"type": "appeal"`) names the request it appeals (`appeal_of`) and gives the
    requester's reasons in `details`; its requester is the appealed request's.
    """

    type: RequestType
    requester: Requester | None = None
    jurisdiction: Jurisdiction | None = None
    agent: Agent | None = None
    channel: Channel
    details: LongText | None = None
    specific_pieces: bool = False
    corrections: list[CorrectionItem] = []
    appeal_of: Annotated[str, Field(pattern=REQUEST_ID_PATTERN)] | None = None

    @model_validator(mode="after")
    def _law_is_known(self) -> IntakeRequest:
        if self.type is RequestType.APPEAL:
            if self.appeal_of is None:
                raise ValueError("appeal_of: an appeal names the request it appeals")
            if self.details is None:
                raise ValueError("details: an appeal gives the requester's reasons")
            return self
        if self.appeal_of is not None:
            raise ValueError("appeal_of: only an appeal names another request")
        if self.requester is None:
            raise ValueError("requester: Field required")
        if self.requester.residence:
            try:
                jurisdiction_for_residence(self.requester.residence)
            except ValueError as problem:
                raise ValueError(f"requester.residence: {problem}") from None
        elif self.jurisdiction is None:
            raise ValueError("jurisdiction: give a jurisdiction or the requester's residence")
        self.new_request()
        return self

    def new_request(self) -> NewRequest:
        """The request as the workflow takes it, with the law decided."""
        assert self.requester is not None
        jurisdiction = self.jurisdiction or jurisdiction_for_residence(
            self.requester.residence or ""
        )
        return NewRequest(
            type=self.type,
            jurisdiction=jurisdiction,
            requester=self.requester,
            agent=self.agent,
            channel=self.channel,
            details=self.details,
            specific_pieces=self.specific_pieces,
            corrections=self.corrections,
        )


class Accepted(BaseModel):
    request_id: str
    workflow_id: str
    status_url: str
    # "received", or "not_granted": the law does not grant this right; the requester is told.
    status: RequestStatus = RequestStatus.RECEIVED
    note: str | None = None
    appeal_of: str | None = None


class ErrorItem(BaseModel):
    field: str
    problem: str


class Errors(BaseModel):
    errors: list[ErrorItem]


def error_response(status: int, field: str, problem: str) -> JSONResponse:
    """An error answer naming the field and the problem."""
    return JSONResponse(
        status_code=status,
        content={"errors": [{"field": field, "problem": problem}]},
    )


def authorized(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ctx: Annotated[ApiContext, Depends(context)],
) -> bytes:
    """The intake key the caller presented, once it is one of ours."""
    key = None
    if credentials is not None:
        key = matching_key(credentials.credentials, ctx.settings.intake_keys())
    if key is None:
        raise HTTPException(
            status_code=401,
            detail="a valid intake API key is required (Authorization: Bearer <key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


ERRORS = {
    401: {"model": Errors, "description": "missing or wrong intake API key"},
    409: {"model": Errors, "description": "Idempotency-Key reused with a different body"},
    413: {"model": Errors, "description": "body larger than MAX_BODY_BYTES"},
    422: {"model": Errors, "description": "a field is missing or invalid"},
}


@router.post(
    "/requests",
    status_code=202,
    response_model=Accepted,
    responses=ERRORS,  # type: ignore[arg-type]
)
async def submit(
    body: IntakeRequest,
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    intake_key: Annotated[bytes, Depends(authorized)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Accepted | JSONResponse:
    """Start a privacy rights request; a retry with the same Idempotency-Key gets the same run."""
    if body.type is RequestType.APPEAL:
        return await file_appeal(body, request, ctx)
    try:
        admitted = rights_requests.admit_request(
            ctx.settings, body.new_request(), received_at=ctx.clock()
        )
    except rights_requests.RequestRefused as error:
        field, _, problem = str(error).partition(": ")
        return error_response(422, field, problem)
    if idempotency_key is not None:
        try:
            first_id = await asyncio.to_thread(
                ctx.idempotency.claim,
                intake_key,
                idempotency_key,
                body.model_dump_json().encode(),
                admitted.request_id,
            )
        except IdempotencyConflict:
            return error_response(
                409, "Idempotency-Key", "this key was used with a different request body"
            )
        admitted = admitted.model_copy(update={"request_id": first_id})
    try:
        await rights_requests.start_request(ctx.client, ctx.settings, admitted)
    except rights_requests.DuplicateRequest:
        if idempotency_key is None:
            raise
    refusal = rights_requests.refusal_on_receipt(ctx.settings, admitted)
    return Accepted(
        request_id=admitted.request_id,
        workflow_id=rights_requests.workflow_id(admitted.request_id),
        status_url=str(request.url_for("request_status", request_id=admitted.request_id)),
        status=RequestStatus.RECEIVED if refusal is None else RequestStatus.NOT_GRANTED,
        note=None if refusal is None else f"{refusal}; the requester is told so",
    )


async def file_appeal(
    body: IntakeRequest, request: Request, ctx: ApiContext
) -> Accepted | JSONResponse:
    """An appeal of a decision, filed for the requester by an intake system."""
    assert body.appeal_of is not None and body.details is not None
    filing = AppealFiling(reason=body.details, channel=body.channel)
    try:
        filed = await rights_requests.file_appeal(ctx.client, body.appeal_of, filing)
    except rights_requests.RequestRefused as error:
        field, _, problem = str(error).partition(": ")
        return error_response(422, field, problem)
    except rights_requests.UnknownRequest:
        return error_response(404, "appeal_of", f"no request with id {body.appeal_of}")
    return Accepted(
        request_id=filed.appeal_id,
        workflow_id=rights_requests.workflow_id(filed.appeal_id),
        status_url=str(request.url_for("request_status", request_id=filed.appeal_id)),
        appeal_of=body.appeal_of,
    )


@router.get(
    "/requests/{request_id}",
    response_model=RequestState,
    dependencies=[Depends(authorized)],
    responses={401: ERRORS[401], 404: {"model": Errors, "description": "no such request"}},
)
async def request_status(
    request_id: Annotated[str, Path(max_length=64)],
    ctx: Annotated[ApiContext, Depends(context)],
) -> RequestState | JSONResponse:
    """The request step by step: statuses, due dates, provider outcomes; no personal data."""
    try:
        return await rights_requests.request_status(ctx.client, request_id)
    except rights_requests.UnknownRequest:
        return error_response(404, "request_id", f"no request with id {request_id}")
