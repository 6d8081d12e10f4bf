"""Callbacks from the company's own systems that finish a webhook job (see
`activities/providers/webhook.py` for the contract). The signature is checked against the
provider's secret before the body is read as JSON; the workflow's validator refuses a job it is
not waiting for, so a mistaken callback changes nothing.

The sender retries until it hears a 2xx, so a 2xx promises the report is in the run's history,
and the answer to a repeat is the first one's (one Update id per job), even after the run has
closed. When the run cannot take it now (Temporal unreachable, or no worker within a few
seconds) the answer is 503 and the sender's retry finds the job taken or takes it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError

from api.context import ApiContext, context
from api.intake import Errors, error_response
from client import rights_requests
from logs import mask_contact_details
from rights.models import (
    EvidenceLine,
    JobResult,
    Model,
    ProviderJobReport,
    RequestStatus,
    ShortText,
)
from rights.signatures import signature_valid

router = APIRouter(prefix="/v1", tags=["providers"])
# How long a callback waits for its run to take the report before the sender is told to retry.
REPORT_WAIT_SECONDS = 5


class JobCallback(Model):
    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    job_id: ShortText
    result: JobResult
    records_affected: Annotated[int, Field(ge=0)] = 0
    evidence: Annotated[list[EvidenceLine], Field(max_length=20)] = []


class CallbackAccepted(BaseModel):
    request_id: str
    status: RequestStatus


@router.post(
    "/providers/{provider}/callbacks",
    response_model=CallbackAccepted,
    responses={
        401: {"model": Errors, "description": "missing, stale or wrong signature"},
        404: {"model": Errors, "description": "no such provider or request"},
        503: {
            "model": Errors,
            "description": "the provider's signing secret is not set, or the report could not "
            "be recorded now: send it again",
        },
        409: {"model": Errors, "description": "the request is not waiting for this job"},
        422: {"model": Errors, "description": "a field is missing or invalid"},
    },
)
async def provider_callback(
    provider: Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,62}$")],
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    x_rights_timestamp: Annotated[str, Header(max_length=20)] = "",
    x_rights_signature: Annotated[str, Header(max_length=100)] = "",
) -> CallbackAccepted | JSONResponse:
    """A signed result for a job a webhook provider accepted earlier."""
    if provider not in ctx.callback_secrets:
        return error_response(404, "provider", f"no webhook provider {provider!r} takes callbacks")
    secret = ctx.callback_secrets[provider]
    if secret is None:
        return error_response(
            503, "provider", f"{provider!r} has no signing secret configured on this server"
        )
    body = await request.body()
    if not signature_valid(secret, x_rights_timestamp, body, x_rights_signature, now=time.time()):
        return error_response(
            401, "X-Rights-Signature", "missing, older than five minutes, or not signed by the key"
        )
    try:
        callback = JobCallback.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        return error_response(422, field, first["msg"])
    report = ProviderJobReport(
        provider=provider,
        job_id=callback.job_id,
        result=callback.result,
        records_affected=callback.records_affected,
        evidence=[mask_contact_details(line) for line in callback.evidence],
    )
    try:
        state = await asyncio.wait_for(
            rights_requests.report_provider_job(ctx.client, callback.request_id, report),
            REPORT_WAIT_SECONDS,
        )
    except rights_requests.UnknownRequest:
        return error_response(404, "request_id", f"no open request with id {callback.request_id}")
    except rights_requests.RequestRefused as refused:
        field, _, problem = str(refused).partition(": ")
        return error_response(409, field, problem)
    except (RPCError, RPCTimeoutOrCancelledError, TimeoutError):
        # Cancelled by the wait, the Update call ends in RPCTimeoutOrCancelledError.
        answer = error_response(503, "request_id", "not recorded yet: send the callback again")
        answer.headers["Retry-After"] = str(REPORT_WAIT_SECONDS)
        return answer
    return CallbackAccepted(request_id=callback.request_id, status=state.status)
