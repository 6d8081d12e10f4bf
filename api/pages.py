"""What every requester page shares: rendering, the refusal pages, and the wrong-token guard.

Every outcome is a readable page with its own status: a request id that is not ours 404, a
malformed or wrong token 400/403 (no attempt is used: only the right token with wrong details
counts), an expired or used link 410, too many wrong tokens from one address or for one request
429. Wrong tokens are logged as security events, with a pseudonym of the address and never the
token. The pages themselves are `answer_pages.py` and `report_page.py`.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from api.context import ApiContext, context
from api.throttle import Limit
from client import rights_requests
from rights.models import REQUEST_ID_PATTERN, RequestState, RequestStatus

security_log = structlog.get_logger("api.security")

Ctx = Annotated[ApiContext, Depends(context)]
REFUSED = "We could not accept that answer"
REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
# Links carry 43 characters of URL-safe base64; anything else was not made by us.
LINK_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
HOUR = timedelta(hours=1)


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
        request_id=request_id if REQUEST_ID.match(request_id) else "not-ours",
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


async def opened_link(
    ctx: ApiContext, request: Request, request_id: str, token: str, status: RequestStatus
) -> RequestState | HTMLResponse:
    """Opening a link, before its form shows: the request waiting for this answer, or the page
    that refuses the link. Opening answers nothing and costs no attempt."""
    if not REQUEST_ID.match(request_id):
        return not_ours(ctx, request)
    if not LINK_TOKEN.match(token):
        return malformed(ctx, request, request_id)
    state = await waiting_for(ctx, request_id, status)
    return link_closed(ctx, request, request_id) if state is None else state


async def screen_answer(
    ctx: ApiContext, request: Request, request_id: str, token: str, page_name: str
) -> HTMLResponse | None:
    """What every answer passes before it reaches the request: its shape and the throttle."""
    if await throttled(ctx, request, request_id):
        return too_many(ctx, request, request_id)
    if not REQUEST_ID.match(request_id):
        await wrong_token(ctx, request, request_id, page_name, "request id not ours")
        return not_ours(ctx, request)
    if not LINK_TOKEN.match(token):
        await wrong_token(ctx, request, request_id, page_name, "malformed token")
        return malformed(ctx, request, request_id)
    return None


def read_json(path: Path) -> Any:
    """A JSON file's content, or None if it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
