"""The requester's pages, linked from notices: verify identity, confirm deletion, get a report.

A `GET` only shows what the button will do: mail scanners fetch links, so nothing is verified
or deleted until the requester presses the button (`POST`). Every outcome is a readable page
with its own status: a request id that is not ours 404, a malformed or wrong token 400/403
(no attempt is used: only the right token with wrong details counts), an expired or used link
410, too many wrong tokens from one address or for one request 429. Wrong tokens are logged as
security events, with a pseudonym of the address and never the token.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import ValidationError

from api.context import ApiContext, context
from api.throttle import Limit
from client import rights_requests
from rights.activity_inputs import LinkPurpose
from rights.models import (
    REQUEST_ID_PATTERN,
    AnswerResult,
    DataPoint,
    ReconfirmationAnswer,
    RequestState,
    RequestStatus,
    VerificationAnswer,
    VerificationOutcome,
)
from rights.plans import REQUIRED_DATA_POINTS, needs_declaration
from rights.terms import Jurisdiction, RequestType, VerificationStandard

router = APIRouter(prefix="/r/{request_id}", include_in_schema=False)
security_log = structlog.get_logger("api.security")

Ctx = Annotated[ApiContext, Depends(context)]
REFUSED = "We could not accept that answer"
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
# Links carry 43 characters of URL-safe base64; anything else was not made by us.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HOUR = timedelta(hours=1)

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
CATEGORIES_ONLY = (
    " Your details confirm it is you to a reasonable degree, enough for the categories of "
    "information we hold but not for the specific pieces, which need {missing}; your report "
    "will list the categories and say so."
)


def page(
    ctx: ApiContext, request: Request, name: str, status_code: int = 200, **values: object
) -> HTMLResponse:
    """A page rendered from `templates/pages/<name>.html.j2`."""
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
    """A page with a title and one message."""
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
    """410: the request no longer waits for this answer."""
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


def not_ours(ctx: ApiContext, request: Request) -> HTMLResponse:
    """A request id we never issued: nothing of it is shown back."""
    return message_page(
        ctx,
        request,
        "",
        "We could not find this request",
        "Please open the link from our email again; it may have been cut short.",
        status_code=404,
    )


def client_address(request: Request) -> str:
    """The address the request came from, as the server sees it."""
    return request.client.host if request.client else "unknown"


def limits(ctx: ApiContext) -> tuple[Limit, Limit]:
    """The wrong-token limits, per request and per address, from the settings."""
    settings = ctx.settings
    return (
        Limit("wrong-token-request", settings.wrong_token_limit_per_request, HOUR),
        Limit("wrong-token-address", settings.wrong_token_limit_per_address, HOUR),
    )


async def throttled(ctx: ApiContext, request: Request, request_id: str) -> bool:
    """Whether this request or this address has used up its wrong tokens for the hour."""
    per_request, per_address = limits(ctx)
    return await asyncio.to_thread(
        lambda: (
            ctx.throttle.exceeded(per_request, request_id)
            or ctx.throttle.exceeded(per_address, client_address(request))
        )
    )


async def wrong_token(
    ctx: ApiContext, request: Request, request_id: str, page_name: str, problem: str
) -> None:
    """Count a wrong token against the request and the address, and log it as a security
    event: the request id, the page and a pseudonym of the address, never the token."""
    per_request, per_address = limits(ctx)
    address = client_address(request)
    await asyncio.to_thread(ctx.throttle.record, per_request, request_id)
    await asyncio.to_thread(ctx.throttle.record, per_address, address)
    security_log.warning(
        "wrong_link_token",
        request_id=request_id if _REQUEST_ID.match(request_id) else "not-ours",
        page=page_name,
        problem=problem,
        client=ctx.throttle.fingerprint("client", address)[:16],
    )


def too_many(ctx: ApiContext, request: Request, request_id: str) -> HTMLResponse:
    """429: too many wrong tokens, come back in an hour."""
    return message_page(
        ctx,
        request,
        request_id,
        "Too many attempts",
        "We have received too many answers with a link that is not valid. Please wait an hour "
        "and open the link from our most recent email again.",
        status_code=429,
    )


def bad_link(ctx: ApiContext, request: Request, request_id: str) -> HTMLResponse:
    """403: the token is not one of this request's; no attempt was used."""
    return message_page(
        ctx,
        request,
        request_id,
        REFUSED,
        "This link is not valid for this request. Please open the link from our most recent "
        "email again; no attempt was used.",
        status_code=403,
    )


def expired_link(ctx: ApiContext, request: Request, request_id: str) -> HTMLResponse:
    """410: the link's time has run out."""
    return message_page(
        ctx,
        request,
        request_id,
        "This link has expired",
        "The link in our email has expired, so we could not accept the answer. If your request "
        "is still open, we will have sent you a newer link; otherwise please make a new request.",
        status_code=410,
    )


def malformed(ctx: ApiContext, request: Request, request_id: str) -> HTMLResponse:
    """400: the token is not in the form our links carry."""
    return message_page(
        ctx,
        request,
        request_id,
        REFUSED,
        "The link is not in the expected form. Please open the link from our email again.",
        status_code=400,
    )


async def waiting_for(
    ctx: ApiContext, request_id: str, status: RequestStatus
) -> RequestState | None:
    """The request's state if it is waiting for this answer; None for a closed link."""
    try:
        state = await rights_requests.request_status(ctx.client, request_id)
    except rights_requests.UnknownRequest:
        return None
    return state if state.status is status else None


def verify_form(
    ctx: ApiContext,
    request: Request,
    state: RequestState,
    token: str,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    """The verification form, with the details this request's standard needs."""
    standard = VerificationStandard(state.verification_standard)
    return page(
        ctx,
        request,
        "verify",
        status_code=400 if errors else 200,
        request_id=state.request_id,
        token=token,
        request_type=state.type.value.replace("_", " "),
        points_needed=REQUIRED_DATA_POINTS[standard],
        needs_declaration=needs_declaration(standard, state.jurisdiction),
        pieces=standard is VerificationStandard.REASONABLY_HIGH,
        errors=errors or {},
    )


@router.get("/verify", response_class=HTMLResponse)
async def show_verify_form(
    request_id: str, request: Request, ctx: Ctx, token: str = ""
) -> HTMLResponse:
    """The verification form; opening the link answers nothing."""
    if not _REQUEST_ID.match(request_id):
        return not_ours(ctx, request)
    if not _TOKEN.match(token):
        return malformed(ctx, request, request_id)
    state = await waiting_for(ctx, request_id, RequestStatus.AWAITING_VERIFICATION)
    if state is None:
        return link_closed(ctx, request, request_id)
    return verify_form(ctx, request, state, token)


@router.post("/verify", response_class=HTMLResponse)
async def verify(
    request_id: str,
    request: Request,
    ctx: Ctx,
    token: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    date_of_birth: Annotated[str, Form()] = "",
    postal_code: Annotated[str, Form()] = "",
    declaration: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The requester's answer to the verification link."""
    refused = await screen_answer(ctx, request, request_id, token, "verify")
    if refused is not None:
        return refused
    given = {
        DataPoint.PHONE: phone.strip(),
        DataPoint.DATE_OF_BIRTH: date_of_birth.strip(),
        DataPoint.POSTAL_CODE: postal_code.strip(),
    }
    if given[DataPoint.DATE_OF_BIRTH] and not _ISO_DATE.match(given[DataPoint.DATE_OF_BIRTH]):
        state = await waiting_for(ctx, request_id, RequestStatus.AWAITING_VERIFICATION)
        if state is None:
            return link_closed(ctx, request, request_id)
        errors = {"date_of_birth": "Write the date as YYYY-MM-DD, for example 1984-03-12."}
        return verify_form(ctx, request, state, token, errors)
    try:
        answer = VerificationAnswer(
            token=token,
            data_points={point: value for point, value in given.items() if value},
            declaration_signed=declaration == "yes",
        )
    except ValidationError:
        return malformed(ctx, request, request_id)

    async def what_happens_next(result: AnswerResult) -> str:
        state = await rights_requests.request_status(ctx.client, request_id)
        message = NEXT_STEP.get(state.type, "We are now acting on your request.")
        wanted = VerificationStandard(state.verification_standard)
        if wanted is VerificationStandard.REASONABLY_HIGH and result.standard_met == (
            VerificationStandard.REASONABLE
        ):
            missing = "two matching details" + (
                " and the signed declaration" if state.jurisdiction is Jurisdiction.US_CA else ""
            )
            message += CATEGORIES_ONLY.format(missing=missing)
        return message

    return await answered(
        ctx,
        request,
        request_id,
        "verify",
        rights_requests.answer_verification(ctx.client, request_id, answer),
        "Thank you: we have confirmed it is you",
        what_happens_next,
    )


@router.get("/confirm-deletion", response_class=HTMLResponse)
async def confirm_form(
    request_id: str, request: Request, ctx: Ctx, token: str = ""
) -> HTMLResponse:
    """The deletion confirmation page; opening the link deletes nothing."""
    if not _REQUEST_ID.match(request_id):
        return not_ours(ctx, request)
    if not _TOKEN.match(token):
        return malformed(ctx, request, request_id)
    if await waiting_for(ctx, request_id, RequestStatus.AWAITING_RECONFIRMATION) is None:
        return link_closed(ctx, request, request_id)
    return page(ctx, request, "confirm", request_id=request_id, token=token)


@router.post("/confirm-deletion", response_class=HTMLResponse)
async def confirm(
    request_id: str,
    request: Request,
    ctx: Ctx,
    token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The requester's confirmation that they want their data deleted."""
    refused = await screen_answer(ctx, request, request_id, token, "confirm-deletion")
    if refused is not None:
        return refused

    async def what_happens_next(result: AnswerResult) -> str:
        return (
            "We are now deleting your personal information from our service and asking the "
            "providers that hold it to do the same. We will email you when it is done, with "
            "anything the law requires us to keep and why."
        )

    return await answered(
        ctx,
        request,
        request_id,
        "confirm-deletion",
        rights_requests.confirm_deletion(ctx.client, request_id, ReconfirmationAnswer(token=token)),
        "Deletion confirmed",
        what_happens_next,
    )


async def screen_answer(
    ctx: ApiContext, request: Request, request_id: str, token: str, page_name: str
) -> HTMLResponse | None:
    """What every answer passes before it reaches the request: its shape and the throttle."""
    if await throttled(ctx, request, request_id):
        return too_many(ctx, request, request_id)
    if not _REQUEST_ID.match(request_id):
        await wrong_token(ctx, request, request_id, page_name, "request id not ours")
        return not_ours(ctx, request)
    if not _TOKEN.match(token):
        await wrong_token(ctx, request, request_id, page_name, "malformed token")
        return malformed(ctx, request, request_id)
    return None


async def answered(
    ctx: ApiContext,
    request: Request,
    request_id: str,
    page_name: str,
    sending: Awaitable[AnswerResult],
    title: str,
    what_happens_next: Callable[[AnswerResult], Awaitable[str]],
) -> HTMLResponse:
    """The page after an answer: what happens next, why it was refused, or a closed link."""
    try:
        result = await sending
        if result.outcome is not VerificationOutcome.VERIFIED:
            return answer_refused(ctx, request, request_id, result)
        message = await what_happens_next(result)
    except rights_requests.WrongToken:
        await wrong_token(ctx, request, request_id, page_name, "wrong token")
        return bad_link(ctx, request, request_id)
    except rights_requests.LinkExpired:
        return expired_link(ctx, request, request_id)
    except rights_requests.UnknownRequest:
        await wrong_token(ctx, request, request_id, page_name, "no such request")
        return not_ours(ctx, request)
    except rights_requests.RequestRefused:
        return link_closed(ctx, request, request_id)
    return message_page(ctx, request, request_id, title, message)


def answer_refused(
    ctx: ApiContext, request: Request, request_id: str, result: AnswerResult
) -> HTMLResponse:
    """The page for an answer the request took but did not accept."""
    if result.outcome is VerificationOutcome.WRONG_TOKEN:
        return bad_link(ctx, request, request_id)
    if result.outcome is VerificationOutcome.EXPIRED:
        return expired_link(ctx, request, request_id)
    if result.outcome is VerificationOutcome.ALREADY_ANSWERED:
        return link_closed(ctx, request, request_id)
    left = f" You have {result.attempts_left} more attempt(s)." if result.attempts_left else ""
    return message_page(
        ctx,
        request,
        request_id,
        REFUSED,
        f"{result.message[:1].upper()}{result.message[1:]}.{left}",
        status_code=400,
    )


REPORT_FILES = {"json": ("report.json", "application/json"), "zip": ("export.zip", None)}


@router.get("/report", response_model=None)
async def report(
    request_id: str, request: Request, ctx: Ctx, token: str = "", format: str = "html"
) -> Response:
    """The access report while its link is valid: a readable page, `json`, or `zip`."""
    if await throttled(ctx, request, request_id):
        return too_many(ctx, request, request_id)
    if not _REQUEST_ID.match(request_id):
        return not_ours(ctx, request)
    if not _TOKEN.match(token):
        await wrong_token(ctx, request, request_id, "report", "malformed token")
        return bad_link(ctx, request, request_id)
    folder = ctx.settings.reports_dir / request_id
    manifest = await asyncio.to_thread(read_json, folder / "manifest.json")
    if manifest is None:
        return link_closed(ctx, request, request_id)
    if not ctx.links.matches(request_id, LinkPurpose.REPORT, manifest["nonce"], token):
        await wrong_token(ctx, request, request_id, "report", "wrong token")
        return bad_link(ctx, request, request_id)
    if datetime.fromisoformat(manifest["expires_at"]) <= datetime.now(UTC):
        return link_closed(ctx, request, request_id)
    if format in REPORT_FILES:
        name, media_type = REPORT_FILES[format]
        if not (folder / name).is_file():
            return message_page(
                ctx, request, request_id, "Not part of this report", "", status_code=404
            )
        return FileResponse(folder / name, media_type=media_type, filename=name)
    if format != "html":
        return message_page(
            ctx, request, request_id, "Unknown format", "Ask for html, json or zip.", 400
        )
    content = await asyncio.to_thread(read_json, folder / "report.json")
    if content is None:
        return link_closed(ctx, request, request_id)
    base = f"{ctx.settings.public_base_url}/r/{request_id}/report?token={token}"
    downloads = {"JSON": f"{base}&format=json"}
    if (folder / "export.zip").is_file():
        downloads["CSV files and JSON (zip)"] = f"{base}&format=zip"
    return page(ctx, request, "report", request_id=request_id, report=content, downloads=downloads)


def read_json(path: Path) -> Any:
    """A JSON file's content, or None if it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
