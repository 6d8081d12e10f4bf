"""The public request form, for a person with no intake system in front of them.

`GET /request` asks where the requester lives (that decides the law), then offers the rights
that law grants, with an agent section; `POST /request` admits the request through the same
path as the API (`client.rights_requests`) and says what happens next. No JavaScript, labels on
every field, errors beside the field they are about. Guarded like every public door: a hidden
field bots fill in, and a limit per client address and per email address an hour (429 page).
A hidden `form_id` makes a double-clicked submit one request.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.context import ApiContext
from api.pages import Ctx, client_address, message_page, page
from api.throttle import Limit
from client import rights_requests
from rights.deadlines import granted_rights
from rights.models import Agent, Channel, NewRequest, Requester, RightsRequest
from rights.plans import plan_for
from rights.receipt_day import receipt_day
from rights.residence import EEA_COUNTRY_NAMES, US_STATE_NAMES, jurisdiction_for_residence
from rights.terms import (
    LAW_NAMES,
    RIGHT_WORDS,
    SUBMITTABLE_IN_ORDER,
    Jurisdiction,
    RequestType,
    VerificationStandard,
)
from rights.text import name_problem

router = APIRouter(include_in_schema=False)
log = structlog.get_logger("api.form")
HOUR = timedelta(hours=1)
FORM_SCOPE = b"request-form"

PLACES = [
    ("United States", sorted(US_STATE_NAMES.items(), key=lambda item: item[1])),
    ("United Kingdom", [("GB", "United Kingdom")]),
    ("European Economic Area", sorted(EEA_COUNTRY_NAMES.items(), key=lambda item: item[1])),
]
PERSON_FIELDS = [
    ("full_name", "Your full name", "text", "name"),
    ("email", "Your email address (we write to you there)", "email", "email"),
    ("phone", "Your phone number (optional; it helps us confirm it is you)", "tel", "tel"),
]
AGENT_FIELDS = [
    ("agent_name", "Your name, as the agent", "text", "off"),
    ("agent_email", "Your email address, as the agent", "email", "off"),
    ("authorization_url", "A link to the signed permission (https://…)", "text", "off"),
]
# Where a form field's error goes: the model's field name, as the form names it.
FIELD_OF = {
    "requester.full_name": "full_name",
    "requester.email": "email",
    "requester.phone": "phone",
    "agent.full_name": "agent_name",
    "agent.email": "agent_email",
    "agent.authorization_url": "authorization_url",
}


def form_path(ctx: ApiContext) -> str:
    return f"{ctx.settings.public_base_url}/request"


def place_name(code: str) -> str:
    return {**dict(US_STATE_NAMES), **EEA_COUNTRY_NAMES, "GB": "the United Kingdom"}.get(code, code)


def granted_today(ctx: ApiContext, jurisdiction: Jurisdiction) -> frozenset[RequestType]:
    """The rights a request sent now would be granted, as its run will decide."""
    return granted_rights(
        jurisdiction,
        receipt_day(ctx.clock(), ctx.settings.business_timezone),
        honour_states_without_law=ctx.settings.honour_states_without_law,
    )


def law_words(ctx: ApiContext, jurisdiction: Jurisdiction) -> str:
    if not granted_today(ctx, jurisdiction):
        return (
            "None of the privacy laws we apply covers where you live; you may still send a "
            "request, and we will answer it."
        )
    if jurisdiction is Jurisdiction.US_NO_STATE_LAW:
        return (
            "Your state has no consumer privacy law in force; our privacy policy gives you the "
            "rights below all the same."
        )
    return f"{LAW_NAMES[jurisdiction]} protects you; it gives you the rights below."


def offered_types(ctx: ApiContext, jurisdiction: Jurisdiction) -> list[tuple[str, str]]:
    """The rights the form offers: those the law grants, or every one where none applies (the
    answer then says so, with what the requester can do)."""
    granted = granted_today(ctx, jurisdiction)
    return [
        (right.value, RIGHT_WORDS[right])
        for right in SUBMITTABLE_IN_ORDER
        if right in granted or not granted
    ]


def chosen_residence(residence: str, other_country: str) -> tuple[str, str | None]:
    """The residence code the requester chose, and the problem with it, if any."""
    code = (other_country or residence).strip().upper()
    if not code:
        return "", "Choose where you live."
    try:
        jurisdiction_for_residence(code)
    except ValueError:
        return code, "Choose your state or country from the list, or give a two-letter code."
    return code, None


def form_page(
    ctx: ApiContext,
    request: Request,
    *,
    residence: str = "",
    chosen_type: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    jurisdiction = jurisdiction_for_residence(residence) if residence else None
    return page(
        ctx,
        request,
        "request_form",
        status_code=status_code,
        form_path=form_path(ctx),
        places=PLACES,
        residence=residence,
        place_name=place_name(residence),
        law=law_words(ctx, jurisdiction) if jurisdiction else "",
        types=offered_types(ctx, jurisdiction) if jurisdiction else [],
        chosen_type=chosen_type,
        pieces_offered=jurisdiction is Jurisdiction.US_CA,
        person_fields=PERSON_FIELDS,
        agent_fields=AGENT_FIELDS,
        form_id=secrets.token_urlsafe(16),
        errors=errors or {},
        values=values or {},
    )


@router.get("/request", response_class=HTMLResponse)
async def show_request_form(
    request: Request, ctx: Ctx, type: str = "", residence: str = "", other_country: str = ""
) -> HTMLResponse:
    """Where do you live, then the form for the rights that law grants."""
    chosen_type = type if type in {right.value for right in SUBMITTABLE_IN_ORDER} else ""
    if not residence and not other_country:
        return form_page(ctx, request, chosen_type=chosen_type)
    code, problem = chosen_residence(residence, other_country)
    if problem is not None:
        return form_page(
            ctx, request, chosen_type=chosen_type, errors={"residence": problem}, status_code=400
        )
    return form_page(ctx, request, residence=code, chosen_type=chosen_type)


def form_limits(ctx: ApiContext) -> tuple[Limit, Limit]:
    settings = ctx.settings
    return (
        Limit("request-form-address", settings.form_limit_per_address, HOUR),
        Limit("request-form-email", settings.form_limit_per_email, HOUR),
    )


@router.post("/request", response_class=HTMLResponse)
async def submit_request_form(
    request: Request,
    ctx: Ctx,
    residence: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    details: Annotated[str, Form()] = "",
    specific_pieces: Annotated[str, Form()] = "",
    agent_name: Annotated[str, Form()] = "",
    agent_email: Annotated[str, Form()] = "",
    authorization_url: Annotated[str, Form()] = "",
    form_id: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Admit the request as the API would, and say what happens next."""
    per_address, per_email = form_limits(ctx)
    address = client_address(request)
    if await asyncio.to_thread(ctx.throttle.exceeded, per_address, address):
        return too_many_requests(ctx, request)
    await asyncio.to_thread(ctx.throttle.record, per_address, address)
    if website:
        log.warning("request_form_trap", client=ctx.throttle.fingerprint("client", address)[:16])
        return message_page(
            ctx,
            request,
            "",
            "Your request could not be sent",
            "Please try again, or email us at our privacy address.",
            status_code=400,
        )
    code, problem = chosen_residence(residence, "")
    if problem is not None:
        return form_page(ctx, request, errors={"residence": problem}, status_code=400)
    values = {
        "full_name": full_name,
        "email": email,
        "phone": phone,
        "details": details,
        "agent_name": agent_name,
        "agent_email": agent_email,
        "authorization_url": authorization_url,
    }
    new, errors = new_request(code, type, values, specific_pieces == "yes")
    if new is None:
        return form_page(
            ctx,
            request,
            residence=code,
            chosen_type=type,
            errors=errors,
            values=values,
            status_code=400,
        )
    request_id = ctx.links.message_id(f"form:{form_id}") if form_id else None
    if request_id is not None and await already_sent(ctx, request_id):
        return sent_page(ctx, request, new, request_id)
    if await asyncio.to_thread(ctx.throttle.exceeded, per_email, new.requester.email.lower()):
        return too_many_requests(ctx, request)
    try:
        admitted = await rights_requests.submit_request(
            ctx.client, ctx.settings, new, request_id=request_id, received_at=ctx.clock()
        )
    except rights_requests.DuplicateRequest:
        assert request_id is not None
        return sent_page(ctx, request, new, request_id)
    except rights_requests.RequestRefused as refused:
        field, _, problem = str(refused).partition(": ")
        return form_page(
            ctx,
            request,
            residence=code,
            chosen_type=type,
            errors={FIELD_OF.get(field, "details"): problem},
            values=values,
            status_code=400,
        )
    await asyncio.to_thread(ctx.throttle.record, per_email, new.requester.email.lower())
    log.info("request_form_submitted", request_id=admitted.request_id)
    return sent_page(ctx, request, admitted, admitted.request_id)


def new_request(
    residence: str, request_type: str, values: dict[str, str], specific_pieces: bool
) -> tuple[NewRequest | None, dict[str, str]]:
    """The form's request, or the problem with each field that has one (all of them at once)."""
    errors: dict[str, str] = {}
    if request_type not in {right.value for right in SUBMITTABLE_IN_ORDER}:
        errors["type"] = "Choose what you would like us to do."
    requester = {
        "full_name": values["full_name"].strip(),
        "email": values["email"].strip(),
        "phone": values["phone"].strip() or None,
        "residence": residence,
    }
    agent_given = any(values[name] for name in ("agent_name", "agent_email", "authorization_url"))
    agent = {
        "full_name": values["agent_name"].strip(),
        "email": values["agent_email"].strip(),
        "authorization_url": values["authorization_url"].strip() or None,
    }
    people: list[tuple[str, type[Requester] | type[Agent], dict[str, Any]]] = [
        ("requester", Requester, requester)
    ]
    if agent_given:
        people.append(("agent", Agent, agent))
    for role, model, person in people:
        try:
            model.model_validate(person)
        except ValidationError as invalid:
            for error in invalid.errors():
                field = f"{role}.{'.'.join(str(part) for part in error['loc'])}"
                errors.setdefault(FIELD_OF.get(field, field), str(error["msg"]))
    new = None
    if not errors:
        try:
            new = NewRequest.model_validate(
                {
                    "type": request_type,
                    "jurisdiction": jurisdiction_for_residence(residence),
                    "requester": requester,
                    "agent": agent if agent_given else None,
                    "channel": Channel.WEB_FORM,
                    "details": values["details"].strip() or None,
                    "specific_pieces": specific_pieces,
                }
            )
        except ValidationError as invalid:
            for error in invalid.errors():
                message = str(error["msg"]).removeprefix("Value error, ")
                field, _, problem = message.partition(": ")
                errors.setdefault(FIELD_OF.get(field, "details"), problem or message)
    names: list[tuple[str, str]] = [("full_name", requester["full_name"] or "")]
    if agent_given:
        names.append(("agent_name", agent["full_name"] or ""))
    for field, name in names:
        if name and (trouble := name_problem(name)) is not None:
            errors.setdefault(field, trouble)
    if new is not None and not errors:
        for field, problem in new.intake_problems():
            errors.setdefault(FIELD_OF.get(field, field), problem)
    return (None, errors) if errors or new is None else (new, {})


async def already_sent(ctx: ApiContext, request_id: str) -> bool:
    """Whether this form was sent before (a double click, a reload): its request exists."""
    try:
        await rights_requests.request_status(ctx.client, request_id)
    except rights_requests.UnknownRequest:
        return False
    return True


def sent_page(
    ctx: ApiContext, request: Request, new: NewRequest | RightsRequest, request_id: str
) -> HTMLResponse:
    """What happens next, as the request's run will do it."""
    kind = new.type.value.replace("_", " ")
    if new.type not in granted_today(ctx, new.jurisdiction):
        next_step = "We will email you our answer shortly, with what you can do."
    elif plan_for(new).verification is VerificationStandard.NONE:
        next_step = "We have emailed you a receipt, and will act on it without further proof."
    else:
        next_step = (
            "We have emailed you a receipt, and will then email you a link to confirm it is "
            "you. Nothing is done before you do."
        )
    return message_page(
        ctx,
        request,
        request_id,
        "We received your request",
        f"Your {kind} request is on its way. {next_step} Keep the reference below if you "
        "write to us.",
    )


def too_many_requests(ctx: ApiContext, request: Request) -> HTMLResponse:
    return message_page(
        ctx,
        request,
        "",
        "Too many requests",
        "We have received several requests from here or for this email address in the last "
        f"hour. Please try again in an hour, or email us at {ctx.settings.mail_from}.",
        status_code=429,
    )
