"""What the doors do to correspondence: start its run, read it, answer or close it.

The counterpart of `client.rights_requests` for complaints, triage items and "which request?"
replies; its errors are that module's (`RequestRefused`, `DuplicateRequest`, `UnknownRequest`).
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from client.rights_requests import DuplicateRequest, UnknownRequest, send_update
from rights.correspondence import (
    ComplaintReply,
    Correspondence,
    CorrespondenceInput,
    CorrespondencePolicy,
    CorrespondenceState,
    TriageDone,
    correspondence_workflow_id,
)
from rights.settings import Settings
from workflows.correspondence import CorrespondenceWorkflow


def policy_from(settings: Settings) -> CorrespondencePolicy:
    """The timing settings fixed into a new message's run."""
    return CorrespondencePolicy(
        reply_days=settings.complaint_reply_days,
        triage_days=settings.triage_days,
        escalation_days=settings.escalation_days,
    )


async def start_correspondence(client: Client, settings: Settings, message: Correspondence) -> None:
    """Start the message's run under its id; the same message twice is `DuplicateRequest`."""
    try:
        await client.start_workflow(
            CorrespondenceWorkflow.run,
            CorrespondenceInput(correspondence=message, policy=policy_from(settings)),
            id=correspondence_workflow_id(message.request_id),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        raise DuplicateRequest(
            f"correspondence_id: {message.request_id} was received already"
        ) from None


async def correspondence_status(client: Client, correspondence_id: str) -> CorrespondenceState:
    """The message's progress, without personal data."""
    handle = client.get_workflow_handle(correspondence_workflow_id(correspondence_id))
    try:
        return await handle.query(CorrespondenceWorkflow.status)
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise UnknownRequest(f"no message with id {correspondence_id}") from None
        raise


async def reply_to_complaint(
    client: Client, correspondence_id: str, reply: ComplaintReply
) -> CorrespondenceState:
    """The privacy team's written answer to a complaint or question."""
    handle = client.get_workflow_handle(correspondence_workflow_id(correspondence_id))
    return await send_update(
        handle, correspondence_id, CorrespondenceWorkflow.reply_to_complaint, reply
    )


async def triage_done(
    client: Client, correspondence_id: str, done: TriageDone
) -> CorrespondenceState:
    """Close a message the privacy team has read and dealt with."""
    handle = client.get_workflow_handle(correspondence_workflow_id(correspondence_id))
    return await send_update(handle, correspondence_id, CorrespondenceWorkflow.triage_done, done)
