"""The pages a requester answers a notice through: verify identity, confirm a deletion,
appeal a decision, say where they live.

A `GET` only shows what the button will do: mail scanners fetch links, so nothing is verified
or deleted until the requester presses the button (`POST`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.context import ApiContext
from api.pages import (
    LINK_TOKEN,
    REFUSED,
    REQUEST_ID,
    Ctx,
    bad_link,
    expired_link,
    link_closed,
    malformed,
    message_page,
    not_ours,
    opened_link,
    page,
    screen_answer,
    waiting_for,
    wrong_token,
)
from api.request_form import PLACES, chosen_residence, place_name
from client import rights_requests
from rights.models import (
    AnswerResult,
    AppealFiling,
    Channel,
    DataPoint,
    ReconfirmationAnswer,
    RequestState,
    RequestStatus,
    ResidenceAnswer,
    VerificationAnswer,
    VerificationOutcome,
)
from rights.plans import REQUIRED_DATA_POINTS, needs_declaration
from rights.terms import Jurisdiction, RequestType, VerificationStandard

router = APIRouter(prefix="/r/{request_id}", include_in_schema=False)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

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
    state = await opened_link(ctx, request, request_id, token, RequestStatus.AWAITING_VERIFICATION)
    if isinstance(state, HTMLResponse):
        return state
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
    if given[DataPoint.DATE_OF_BIRTH] and not ISO_DATE.match(given[DataPoint.DATE_OF_BIRTH]):
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
    state = await opened_link(
        ctx, request, request_id, token, RequestStatus.AWAITING_RECONFIRMATION
    )
    if isinstance(state, HTMLResponse):
        return state
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


async def appealable(ctx: ApiContext, request_id: str) -> RequestState | None:
    """The request's state if its decision can still be appealed through its link."""
    try:
        state = await rights_requests.request_status(ctx.client, request_id)
    except rights_requests.UnknownRequest:
        return None
    return state if state.appeal_window_open else None


def appeal_form(
    ctx: ApiContext, request: Request, state: RequestState, token: str, error: str | None = None
) -> HTMLResponse:
    decision = state.denial_reason or state.status.value.replace("_", " ")
    return page(
        ctx,
        request,
        "appeal",
        status_code=400 if error else 200,
        request_id=state.request_id,
        token=token,
        request_type=state.type.value.replace("_", " "),
        decision=decision,
        errors={"reason": error} if error else {},
    )


@router.get("/appeal", response_class=HTMLResponse)
async def show_appeal_form(
    request_id: str, request: Request, ctx: Ctx, token: str = ""
) -> HTMLResponse:
    """The appeal form; opening the link files nothing."""
    if not REQUEST_ID.match(request_id):
        return not_ours(ctx, request)
    if not LINK_TOKEN.match(token):
        return malformed(ctx, request, request_id)
    state = await appealable(ctx, request_id)
    if state is None:
        return link_closed(ctx, request, request_id)
    return appeal_form(ctx, request, state, token)


@router.post("/appeal", response_class=HTMLResponse)
async def appeal(
    request_id: str,
    request: Request,
    ctx: Ctx,
    token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The requester's appeal, with their reasons."""
    refused = await screen_answer(ctx, request, request_id, token, "appeal")
    if refused is not None:
        return refused
    reason = reason.strip()
    if not reason or len(reason) > 5000:
        state = await appealable(ctx, request_id)
        if state is None:
            return link_closed(ctx, request, request_id)
        problem = "Tell us why, in up to 5,000 characters." if reason else "Tell us why."
        return appeal_form(ctx, request, state, token, problem)
    filing = AppealFiling(reason=reason, channel=Channel.WEB_FORM, token=token)
    try:
        filed = await rights_requests.file_appeal(ctx.client, request_id, filing)
    except rights_requests.WrongToken:
        await wrong_token(ctx, request, request_id, "appeal", "wrong token")
        return bad_link(ctx, request, request_id)
    except rights_requests.LinkExpired:
        return expired_link(ctx, request, request_id)
    except (rights_requests.RequestRefused, rights_requests.UnknownRequest):
        return link_closed(ctx, request, request_id)
    return message_page(
        ctx,
        request,
        request_id,
        "We received your appeal",
        f"We will send you our decision, with its reasons, by {filed.decide_by.isoformat()}. "
        f"The reference of your appeal is {filed.appeal_id}.",
    )


@router.get("/residence", response_class=HTMLResponse)
async def show_residence_form(
    request_id: str, request: Request, ctx: Ctx, token: str = ""
) -> HTMLResponse:
    """Where do you live; opening the link answers nothing."""
    state = await opened_link(ctx, request, request_id, token, RequestStatus.AWAITING_RESIDENCE)
    if isinstance(state, HTMLResponse):
        return state
    return residence_form(ctx, request, state, token)


def residence_form(
    ctx: ApiContext, request: Request, state: RequestState, token: str, error: str | None = None
) -> HTMLResponse:
    return page(
        ctx,
        request,
        "residence",
        status_code=400 if error else 200,
        request_id=state.request_id,
        token=token,
        request_type=state.type.value.replace("_", " "),
        places=PLACES,
        selected="",
        errors={"residence": error} if error else {},
    )


@router.post("/residence", response_class=HTMLResponse)
async def give_residence(
    request_id: str,
    request: Request,
    ctx: Ctx,
    token: Annotated[str, Form()] = "",
    residence: Annotated[str, Form()] = "",
    other_country: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Where the requester lives, which decides the law their request is handled under."""
    refused = await screen_answer(ctx, request, request_id, token, "residence")
    if refused is not None:
        return refused
    code, problem = chosen_residence(residence, other_country)
    if problem is not None:
        state = await waiting_for(ctx, request_id, RequestStatus.AWAITING_RESIDENCE)
        if state is None:
            return link_closed(ctx, request, request_id)
        return residence_form(ctx, request, state, token, problem)
    try:
        state = await rights_requests.give_residence(
            ctx.client, request_id, ResidenceAnswer(token=token, residence=code)
        )
    except rights_requests.WrongToken:
        await wrong_token(ctx, request, request_id, "residence", "wrong token")
        return bad_link(ctx, request, request_id)
    except rights_requests.LinkExpired:
        return expired_link(ctx, request, request_id)
    except (rights_requests.RequestRefused, rights_requests.UnknownRequest):
        return link_closed(ctx, request, request_id)
    return message_page(
        ctx,
        request,
        request_id,
        "Thank you",
        f"We will handle your {state.type.value.replace('_', ' ')} request under the law "
        f"where you live ({place_name(code)}). We will email you what happens next.",
    )
