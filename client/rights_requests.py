"""What the doors do to a request: admit and start it, read its state, send it an Update.

Each function is one thing an intake system, a requester or an operator does to a request,
used alike by `starter.py` and the HTTP API; errors come back as `RequestRefused` (or one of
its kinds) and `UnknownRequest`, with a message fit to show a person.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, TypeVar

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from rights import search_attributes
from rights.challenges import REFUSED_EXPIRED, REFUSED_WRONG_TOKEN
from rights.deadlines import DueDates, RightNotGranted, dates_or_refusal
from rights.models import (
    AnswerResult,
    AppealDecision,
    AppealFiled,
    AppealFiling,
    DenyInput,
    ExtendInput,
    NewRequest,
    OperatorNote,
    ProviderJobReport,
    ProviderTaskDone,
    ReconfirmationAnswer,
    RequestPolicy,
    RequestState,
    RequestStatus,
    ResidenceAnswer,
    RightsRequest,
    RightsRequestInput,
    SecondOperator,
    VerificationAnswer,
    WaitingOn,
)
from rights.models import workflow_id as workflow_id
from rights.receipt_day import receipt_day
from rights.remedies import appeals_granted, regulator_for
from rights.search_attributes import start_of
from rights.settings import Settings
from workflows.appeal import AppealWorkflow
from workflows.rights_request import RightsRequestWorkflow


class RequestRefused(ValueError):
    """The service will not take this action; the message says why, without personal data."""


class DuplicateRequest(RequestRefused):
    """A run with this request id exists already."""


class WrongToken(RequestRefused):
    """The answer's link token is not one of this request's: nothing was counted."""


class LinkExpired(RequestRefused):
    """The answer's link token was right but has expired: nothing was counted."""


class UnknownRequest(LookupError):
    pass


_REFUSALS: dict[str, type[RequestRefused]] = {
    REFUSED_WRONG_TOKEN: WrongToken,
    REFUSED_EXPIRED: LinkExpired,
}


def new_request_id() -> str:
    """A fresh, unguessable request id."""
    return str(uuid.uuid4())


def policy_from(settings: Settings) -> RequestPolicy:
    """The timing settings fixed into a new request's run."""
    return RequestPolicy(
        eu_establishment=settings.eu_establishment,
        business_timezone=settings.business_timezone,
        honour_states_without_law=settings.honour_states_without_law,
        verification_ttl_days=settings.verification_ttl_days,
        verification_reminder_days=settings.verification_reminder_days,
        verification_max_attempts=settings.verification_max_attempts,
        reconfirmation_ttl_days=settings.reconfirmation_ttl_days,
        extension_notice_lead_days=settings.extension_notice_lead_days,
        operator_alert_lead_days=settings.operator_alert_lead_days,
        report_link_ttl_days=settings.report_link_ttl_days,
        appeal_window_days=settings.appeal_window_days,
        escalation_days=settings.escalation_days,
    )


def admit_request(
    settings: Settings,
    new: NewRequest,
    *,
    request_id: str | None = None,
    received_at: datetime | None = None,
) -> RightsRequest:
    """Stamp and check a new request.

    A right the jurisdiction's law does not grant is admitted: its run answers the requester at
    once with the reason and their remedies, and records it, rather than leave them unanswered.
    """
    problems = new.intake_problems()
    if problems:
        field, problem = problems[0]
        raise RequestRefused(f"{field}: {problem}")
    request = RightsRequest(
        **new.model_dump(),
        request_id=request_id or new_request_id(),
        received_at=received_at or datetime.now(UTC),
    )
    try:
        refusal_on_receipt(settings, request)
    except ValueError as error:
        raise RequestRefused(f"received_at: {error}") from None
    return request


def refusal_on_receipt(settings: Settings, request: RightsRequest) -> RightNotGranted | None:
    """Why the run will answer the request on receipt instead of carrying it out, if it will:
    the law grants no such right, not yet, or the requester's state has none."""
    _, refusal = dates_or_refusal(
        request.jurisdiction,
        request.type,
        receipt_day(request.received_at, settings.business_timezone),
        eu_establishment=settings.eu_establishment,
        honour_states_without_law=settings.honour_states_without_law,
    )
    return refusal


def run_summary(request: RightsRequest) -> str:
    """The run's one-line title in the Temporal UI: what, where from, how; nobody's name."""
    kind = request.type.value.replace("_", " ")
    if request.minor_removal is not None:
        kind = "minor's data removal"
    return f"{kind.capitalize()} request · {request.jurisdiction.value} · {request.channel.value}"


class ReceiptDates(NamedTuple):
    """The receipt day and the dates the law sets from it, or why it grants no such right."""

    received: date
    due: DueDates | None
    refusal: RightNotGranted | None


def dates_on_receipt(settings: Settings, request: RightsRequest) -> ReceiptDates:
    """The dates the run will count, as the UI's details and the search attributes show them."""
    received = receipt_day(request.received_at, settings.business_timezone)
    due, refusal = dates_or_refusal(
        request.jurisdiction,
        request.type,
        received,
        eu_establishment=settings.eu_establishment,
        honour_states_without_law=settings.honour_states_without_law,
    )
    return ReceiptDates(received, due, refusal)


def run_details(settings: Settings, request: RightsRequest, dates: ReceiptDates) -> str:
    """The run's fixed details in the Temporal UI, as markdown: the dates the law sets."""
    received, due, refusal = dates
    lines = [f"Received {received} ({settings.business_timezone})"]
    if refusal is not None:
        lines.append(f"Answered on receipt: {refusal}")
    elif due is not None:
        lines.append(f"Respond by {due.respond_by} ({due.legal_basis.respond_by})")
        if due.extended_respond_by is not None:
            lines.append(f"With an extension, by {due.extended_respond_by}")
    if request.agent is not None:
        lines.append(f"Filed by an agent ({request.agent.acts_as.value.replace('_', ' ')})")
    return "\n\n".join(lines)


def attributes_on_receipt(request: RightsRequest, dates: ReceiptDates) -> TypedSearchAttributes:
    """The desk's filters from the moment the run exists, before a worker takes its first step:
    a request received during a worker outage is on the overdue sweep's list all the same."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(search_attributes.REQUEST_TYPE, request.type.value),
        SearchAttributePair(search_attributes.JURISDICTION, request.jurisdiction.value),
        SearchAttributePair(search_attributes.STATUS, RequestStatus.RECEIVED.value),
        SearchAttributePair(search_attributes.WAITING_ON, WaitingOn.US.value),
    ]
    if dates.due is not None:
        respond_by = start_of(dates.due.respond_by)
        pairs.append(SearchAttributePair(search_attributes.RESPOND_BY, respond_by))
    return TypedSearchAttributes(pairs)


async def start_request(client: Client, settings: Settings, request: RightsRequest) -> None:
    """Start the run under the request's id; a second start with that id is refused."""
    dates = dates_on_receipt(settings, request)
    try:
        await client.start_workflow(
            RightsRequestWorkflow.run,
            RightsRequestInput(request=request, policy=policy_from(settings)),
            id=workflow_id(request.request_id),
            task_queue=settings.task_queue,
            static_summary=run_summary(request),
            static_details=run_details(settings, request, dates),
            search_attributes=attributes_on_receipt(request, dates),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        raise DuplicateRequest(
            f"request_id: a request with id {request.request_id} already exists"
        ) from None


async def submit_request(
    client: Client,
    settings: Settings,
    new: NewRequest,
    *,
    request_id: str | None = None,
    received_at: datetime | None = None,
) -> RightsRequest:
    """Admit and start a request; the request as started."""
    request = admit_request(settings, new, request_id=request_id, received_at=received_at)
    await start_request(client, settings, request)
    return request


def _handle(client: Client, request_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(workflow_id(request_id))


async def request_status(client: Client, request_id: str) -> RequestState:
    """The request's state, step by step, without personal data."""
    try:
        return await _handle(client, request_id).query(RightsRequestWorkflow.status)
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise UnknownRequest(f"no request with id {request_id}") from None
        raise


Argument = TypeVar("Argument")
Result = TypeVar("Result")


async def _update(
    client: Client,
    request_id: str,
    update: UpdateMethodMultiParam[[Any, Argument], Result],
    argument: Argument,
    *,
    update_id: str | None = None,
) -> Result:
    return await send_update(
        _handle(client, request_id), request_id, update, argument, update_id=update_id
    )


async def send_update(
    handle: WorkflowHandle[Any, Any],
    id: str,
    update: UpdateMethodMultiParam[[Any, Argument], Result],
    argument: Argument,
    *,
    update_id: str | None = None,
) -> Result:
    """Send one Update; a validator's refusal becomes `RequestRefused` with its message.

    With an `update_id`, the server answers a repeat of an Update it completed with that
    Update's result, even once the run has closed, and runs it only once."""
    try:
        return await handle.execute_update(update, argument, id=update_id)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise _REFUSALS.get(cause.type or "", RequestRefused)(cause.message) from None
        raise RequestRefused(str(cause)) from None
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise UnknownRequest(f"nothing open with id {id}") from None
        raise


async def answer_verification(
    client: Client, request_id: str, answer: VerificationAnswer
) -> AnswerResult:
    """The requester's answer to the verification link."""
    return await _update(client, request_id, RightsRequestWorkflow.submit_verification, answer)


async def confirm_deletion(
    client: Client, request_id: str, answer: ReconfirmationAnswer
) -> AnswerResult:
    """The requester's answer to the deletion confirmation link."""
    return await _update(client, request_id, RightsRequestWorkflow.confirm_deletion, answer)


async def give_residence(client: Client, request_id: str, answer: ResidenceAnswer) -> RequestState:
    """Where the requester lives: through the receipt's link, or recorded by the privacy team."""
    return await _update(client, request_id, RightsRequestWorkflow.give_residence, answer)


async def approve_agent(client: Client, request_id: str, note: OperatorNote) -> RequestState:
    """Accept the agent's proof of permission."""
    return await _update(client, request_id, RightsRequestWorkflow.approve_agent, note)


async def confirm_minor_removal(
    client: Client, request_id: str, second: SecondOperator
) -> RequestState:
    """A second member of the privacy team confirms a minor's data is to be removed."""
    return await _update(client, request_id, RightsRequestWorkflow.confirm_minor_removal, second)


async def reject_agent(client: Client, request_id: str, decision: DenyInput) -> RequestState:
    """Refuse the agent's proof of permission, with the reason."""
    return await _update(client, request_id, RightsRequestWorkflow.reject_agent, decision)


async def verify_manually(client: Client, request_id: str, note: OperatorNote) -> RequestState:
    """Mark the requester verified by the privacy team."""
    return await _update(client, request_id, RightsRequestWorkflow.verify_manually, note)


async def deny(client: Client, request_id: str, decision: DenyInput) -> RequestState:
    """Close the request with a reason the requester is told."""
    return await _update(client, request_id, RightsRequestWorkflow.deny, decision)


async def withdraw(client: Client, request_id: str, note: OperatorNote) -> RequestState:
    """Close the request the requester withdrew."""
    return await _update(client, request_id, RightsRequestWorkflow.withdraw, note)


async def provider_task_done(
    client: Client, request_id: str, done: ProviderTaskDone
) -> RequestState:
    """Close one provider's operator task with its outcome."""
    return await _update(client, request_id, RightsRequestWorkflow.provider_task_done, done)


async def report_provider_job(
    client: Client, request_id: str, report: ProviderJobReport
) -> RequestState:
    """Hand a provider's signed callback to its run, once per job: a sender retries until it
    hears 2xx, so a repeat, which the run would refuse as a job no longer awaited, gets the first
    one's answer instead."""
    return await _update(
        client,
        request_id,
        RightsRequestWorkflow.report_provider_job,
        report,
        update_id=f"job-report:{report.provider}:{report.job_id}",
    )


async def extend(client: Client, request_id: str, extension: ExtendInput) -> RequestState:
    """Extend the response deadline once, with the reason."""
    return await _update(client, request_id, RightsRequestWorkflow.extend, extension)


async def file_appeal(client: Client, request_id: str, filing: AppealFiling) -> AppealFiled:
    """Appeal the decision on a request; refused, with the reason, where none can be heard."""
    state = await request_status(client, request_id)
    if not appeals_granted(state.jurisdiction):
        regulator = regulator_for(state.jurisdiction)
        raise RequestRefused(
            f"appeal_of: {state.jurisdiction.value} law grants no appeal of a decision on a "
            f"privacy request; the requester may contact {regulator.name} "
            f"({regulator.complaint_url})"
        )
    try:
        return await _update(client, request_id, RightsRequestWorkflow.file_appeal, filing)
    except UnknownRequest:
        raise RequestRefused(
            f"appeal_of: request {request_id} has no decision open to appeal: it was not "
            "refused, or its appeal period has ended"
        ) from None
    except RequestRefused as refused:
        raise type(refused)(f"appeal_of: {refused}") from None


async def decide_appeal(client: Client, appeal_id: str, decision: AppealDecision) -> RequestState:
    """The privacy team's decision on an appeal, with its written reasons."""
    return await _update(client, appeal_id, AppealWorkflow.decide_appeal, decision)
