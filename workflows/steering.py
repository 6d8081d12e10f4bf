"""What the privacy team can do to a run, as Updates: decide on an agent, verify by hand, deny,
withdraw, close a provider's task, extend the deadline. Mixed into `RightsRequestWorkflow`.

Each validator checks the request is in a state that accepts the action and refuses with a
message that names the request and its status; an Update it refuses never enters history.
Every handler returns the whole state, as the `status` query does.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from rights.models import (
    DenyInput,
    ExtendInput,
    OperatorNote,
    ProviderTaskDone,
    RequestState,
    RequestStatus,
    RightsRequest,
    SecondOperator,
    StepName,
)
from workflows.case_file import CaseFile
from workflows.deadline_watch import DeadlineWatch
from workflows.fulfilment import Fulfilment


class DeadlineExtension:
    """The privacy team's extension of a deadline: for requests and for appeals alike."""

    _case_file: CaseFile
    _deadlines: DeadlineWatch

    @workflow.update
    async def extend(self, request: ExtendInput) -> RequestState:
        """Extend the response deadline once, within the law's limit, with the reason."""
        new_date = self._case_file.state.respond_by + timedelta(days=request.days)
        self._case_file.record_operator_action("extend", request.operator, request.reason)
        await self._deadlines.extend(request.reason, new_date)
        return self._case_file.state

    @extend.validator
    def _validate_extend(self, request: ExtendInput) -> None:
        self._case_file.require_open()
        state = self._case_file.state
        latest = state.due_dates.extended_respond_by
        if latest is None:
            raise ValueError(
                f"days: {state.jurisdiction.value} allows no extension for "
                f"{state.type.value} requests"
            )
        if state.extended:
            raise ValueError("days: the request has already been extended once")
        new_date = state.respond_by + timedelta(days=request.days)
        if new_date > latest:
            raise ValueError(
                f"days: {request.days} days would pass the latest lawful date {latest.isoformat()}"
            )


class OperatorSteering(DeadlineExtension):
    _request: RightsRequest
    _fulfilment: Fulfilment
    _verified: bool | None

    def _open_steering(self) -> None:
        """The decisions the lifecycle waits on from the privacy team."""
        self._agent_approved: bool | None = None
        self._second_operator: str | None = None

    @workflow.update
    def approve_agent(self, note: OperatorNote) -> RequestState:
        """Accept the agent's proof of permission; the requester is still verified directly."""
        self._agent_approved = True
        self._case_file.record_operator_action("approve_agent", note.operator, note.note)
        return self._case_file.state

    @approve_agent.validator
    def _validate_approve_agent(self, note: OperatorNote) -> None:
        self._case_file.require(RequestStatus.AWAITING_AGENT_AUTHORIZATION, "an agent decision")

    @workflow.update
    def confirm_minor_removal(self, second: SecondOperator) -> RequestState:
        """A second member of the privacy team confirms a minor's data is to be removed."""
        self._second_operator = second.operator
        self._case_file.record_operator_action("confirm_minor_removal", second.operator)
        return self._case_file.state

    @confirm_minor_removal.validator
    def _validate_confirm_minor_removal(self, second: SecondOperator) -> None:
        removal = self._request.minor_removal
        if removal is None:
            raise ValueError(f"request {self._request.request_id} is not a minor's removal")
        self._case_file.require(RequestStatus.AWAITING_RECONFIRMATION, "a second operator")
        if second.operator.lower() == removal.started_by.lower():
            raise ValueError(
                "operator: the removal needs a second member of the team, not the one who "
                "started it"
            )

    @workflow.update
    def reject_agent(self, decision: DenyInput) -> RequestState:
        """Refuse the agent's proof of permission, with the reason the agent is told."""
        self._agent_approved = False
        self._case_file.record_denial(decision.reason)
        self._case_file.record_operator_action("reject_agent", decision.operator, decision.reason)
        return self._case_file.state

    @reject_agent.validator
    def _validate_reject_agent(self, decision: DenyInput) -> None:
        self._case_file.require(RequestStatus.AWAITING_AGENT_AUTHORIZATION, "an agent decision")

    @workflow.update
    def verify_manually(self, note: OperatorNote) -> RequestState:
        """The privacy team confirmed the requester's identity by other means."""
        self._verified = True
        self._case_file.note(StepName.IDENTITY_VERIFICATION, "verified by operator")
        self._case_file.record_operator_action("verify_manually", note.operator, note.note)
        return self._case_file.state

    @verify_manually.validator
    def _validate_verify_manually(self, note: OperatorNote) -> None:
        self._case_file.require(RequestStatus.AWAITING_VERIFICATION, "identity verification")

    @workflow.update
    def deny(self, decision: DenyInput) -> RequestState:
        """Close an open request; the requester is told the reason and their further rights."""
        self._case_file.record_denial(decision.reason)
        self._case_file.closing = RequestStatus.DENIED
        self._case_file.record_operator_action("deny", decision.operator, decision.reason)
        return self._case_file.state

    @deny.validator
    def _validate_deny(self, decision: DenyInput) -> None:
        self._case_file.require_open()

    @workflow.update
    def withdraw(self, note: OperatorNote) -> RequestState:
        """Close an open request the requester withdrew, and confirm it to them."""
        self._case_file.closing = RequestStatus.WITHDRAWN
        self._case_file.record_operator_action("withdraw", note.operator, note.note)
        return self._case_file.state

    @withdraw.validator
    def _validate_withdraw(self, note: OperatorNote) -> None:
        self._case_file.require_open()

    @workflow.update
    def provider_task_done(self, done: ProviderTaskDone) -> RequestState:
        """Close one provider's operator task with its outcome (and basis, if retained)."""
        self._fulfilment.task_done(done)
        self._case_file.record_operator_action(
            f"task_done {done.provider}: {done.status.value}", done.operator, done.note
        )
        return self._case_file.state

    @provider_task_done.validator
    def _validate_task_done(self, done: ProviderTaskDone) -> None:
        tasks = self._case_file.state.open_tasks
        if not any(task.provider == done.provider for task in tasks):
            open_names = ", ".join(task.provider for task in tasks) or "none"
            raise ValueError(f"provider: no open task for {done.provider!r} (open: {open_names})")
