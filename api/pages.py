"""The requester's pages, linked from notices: verify identity, confirm deletion, get a report.

A `GET` only shows what the button will do: mail scanners fetch links, so nothing is verified
or deleted until the requester presses the button (`POST`). Every outcome, including a used,
expired or wrong token, is a readable page; the attempt is counted by the workflow.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import ValidationError

import rights_client
from api.context import ApiContext, context
from rights.activity_inputs import LinkPurpose
from rights.models import (
    AnswerResult,
    DataPoint,
    ReconfirmationAnswer,
    RequestState,
    RequestStatus,
    RequestType,
    VerificationAnswer,
    VerificationOutcome,
)
from rights.plans import NEEDS_DECLARATION, REQUIRED_DATA_POINTS, VerificationStandard

router = APIRouter(prefix="/r/{request_id}", include_in_schema=False)

Ctx = Annotated[ApiContext, Depends(context)]
REFUSED = "We could not accept that answer"

NEXT_STEP = {
    RequestType.DELETION: "We will now email you once more to confirm that you want your "
    "data deleted. Nothing is deleted before you confirm.",
    RequestType.ACCESS: "We are now gathering your information and will email you a link "
    "to your report.",
    RequestType.PORTABILITY: "We are now gathering your information and will email you a "
    "link to download it.",
    RequestType.CORRECTION: "We are now correcting your information and will email you "
    "what was changed.",
}


def page(
    ctx: ApiContext, request: Request, name: str, status_code: int = 200, **values: object
) -> HTMLResponse:
    return ctx.pages.TemplateResponse(
        request,
        f"pages/{name}.html.j2",
        {"request_id": values.pop("request_id", ""), **values},
        status_code=status_code,
    )


def message_page(
    ctx: ApiContext,
    request: Request,
    request_id: str,
    title: str,
    message: str,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        ctx,
        request,
        "message",
        status_code=status_code,
        request_id=request_id,
        title=title,
        message=message,
    )


def link_closed(ctx: ApiContext, request: Request, request_id: str) -> HTMLResponse:
    return message_page(
        ctx,
        request,
        request_id,
        "This link is no longer valid",
        "This request is not waiting for this answer any more: the link was used, "
        "has expired, or the request is closed. If you still need something, make a new "
        "request or reply to our last email.",
        status_code=410,
    )


async def waiting_for(
    ctx: ApiContext, request_id: str, status: RequestStatus
) -> RequestState | None:
    """The request's state if it is waiting for this answer; None for a closed link."""
    try:
        state = await rights_client.request_status(ctx.client, request_id)
    except rights_client.UnknownRequest:
        return None
    return state if state.status is status else None


@router.get("/verify", response_class=HTMLResponse)
async def verify_form(request_id: str, token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    state = await waiting_for(ctx, request_id, RequestStatus.AWAITING_VERIFICATION)
    if state is None:
        return link_closed(ctx, request, request_id)
    standard = VerificationStandard(state.verification_standard)
    return page(
        ctx,
        request,
        "verify",
        request_id=request_id,
        token=token,
        request_type=state.type.value.replace("_", " "),
        points_needed=REQUIRED_DATA_POINTS[standard],
        needs_declaration=NEEDS_DECLARATION[standard],
    )


@router.post("/verify", response_class=HTMLResponse)
async def verify(
    request_id: str,
    request: Request,
    ctx: Ctx,
    token: Annotated[str, Form(max_length=256)],
    phone: Annotated[str, Form(max_length=100)] = "",
    date_of_birth: Annotated[str, Form(max_length=100)] = "",
    postal_code: Annotated[str, Form(max_length=100)] = "",
    declaration: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    given = {
        DataPoint.PHONE: phone.strip(),
        DataPoint.DATE_OF_BIRTH: date_of_birth.strip(),
        DataPoint.POSTAL_CODE: postal_code.strip(),
    }
    try:
        answer = VerificationAnswer(
            token=token,
            data_points={point: value for point, value in given.items() if value},
            declaration_signed=declaration == "yes",
        )
    except ValidationError:
        return malformed(ctx, request, request_id)

    async def what_happens_next() -> str:
        state = await rights_client.request_status(ctx.client, request_id)
        return NEXT_STEP.get(state.type, "We are now acting on your request.")

    return await answered(
        ctx,
        request,
        request_id,
        rights_client.answer_verification(ctx.client, request_id, answer),
        "Thank you: we have confirmed it is you",
        what_happens_next,
    )


@router.get("/confirm-deletion", response_class=HTMLResponse)
async def confirm_form(request_id: str, token: str, request: Request, ctx: Ctx) -> HTMLResponse:
    if await waiting_for(ctx, request_id, RequestStatus.AWAITING_RECONFIRMATION) is None:
        return link_closed(ctx, request, request_id)
    return page(ctx, request, "confirm", request_id=request_id, token=token)


@router.post("/confirm-deletion", response_class=HTMLResponse)
async def confirm(
    request_id: str, request: Request, ctx: Ctx, token: Annotated[str, Form(max_length=256)]
) -> HTMLResponse:
    try:
        answer = ReconfirmationAnswer(token=token)
    except ValidationError:
        return malformed(ctx, request, request_id)

    async def what_happens_next() -> str:
        return (
            "We are now deleting your personal information from our service and asking the "
            "providers that hold it to do the same. We will email you when it is done, with "
            "anything the law requires us to keep and why."
        )

    return await answered(
        ctx,
        request,
        request_id,
        rights_client.confirm_deletion(ctx.client, request_id, answer),
        "Deletion confirmed",
        what_happens_next,
    )


async def answered(
    ctx: ApiContext,
    request: Request,
    request_id: str,
    sending: Awaitable[AnswerResult],
    title: str,
    what_happens_next: Callable[[], Awaitable[str]],
) -> HTMLResponse:
    """The page after an answer: what happens next, why it was refused, or a closed link."""
    try:
        result = await sending
        if result.outcome is not VerificationOutcome.VERIFIED:
            return answer_refused(ctx, request, request_id, result)
        message = await what_happens_next()
    except (rights_client.RequestRefused, rights_client.UnknownRequest):
        return link_closed(ctx, request, request_id)
    return message_page(ctx, request, request_id, title, message)


def malformed(ctx: ApiContext, request: Request, request_id: str) -> HTMLResponse:
    return message_page(
        ctx,
        request,
        request_id,
        REFUSED,
        "The link or one of the details is not in the expected form. Please open the link "
        "from our email again.",
        status_code=400,
    )


def answer_refused(
    ctx: ApiContext, request: Request, request_id: str, result: AnswerResult
) -> HTMLResponse:
    left = f" You have {result.attempts_left} more attempt(s)." if result.attempts_left else ""
    return message_page(
        ctx,
        request,
        request_id,
        REFUSED,
        f"{result.message[:1].upper()}{result.message[1:]}.{left}",
        status_code=400,
    )


@router.get("/report")
async def report(
    request_id: str, token: str, request: Request, ctx: Ctx, format: str = "html"
) -> Response:
    """The access report while its link is valid: a readable page, or `?format=json`."""
    folder = ctx.settings.reports_dir / request_id
    manifest_path = folder / "manifest.json"
    if "/" in request_id or ".." in request_id or not manifest_path.is_file():
        return link_closed(ctx, request, request_id)
    manifest = json.loads(manifest_path.read_text())
    if not ctx.links.matches(request_id, LinkPurpose.REPORT, manifest["nonce"], token):
        return link_closed(ctx, request, request_id)
    if datetime.fromisoformat(manifest["expires_at"]) <= datetime.now(UTC):
        return link_closed(ctx, request, request_id)
    if format == "json":
        return FileResponse(folder / "report.json", media_type="application/json")
    return FileResponse(folder / "report.html", media_type="text/html")
