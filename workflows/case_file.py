"""The run's case file: the step-by-step state the `status` query and the record are built from.

The only writer of the request's state: every change is a method here, named for what
happened, so a reader finds every way the state can change in one place. Every status change is
mirrored into the `RightsRequestStatus` search attribute and logged through the replay-safe
workflow logger, with ids and statuses only.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from rights import search_attributes
from rights.deadlines import DueDates
from rights.models import (
    APPEAL_STEPS,
    REQUEST_STEPS,
    UNDETERMINED_STEPS,
    AppealOutcome,
    AppealSummary,
    Channel,
    ClockPause,
    NoticeSent,
    OperatorAction,
    ProviderOutcome,
    ProviderTask,
    RequestState,
    RequestStatus,
    RightsRequest,
    StepName,
    StepState,
    StepStatus,
    WaitingOn,
)
from rights.search_attributes import start_of
from rights.terms import Jurisdiction, RequestType, VerificationStandard
from workflows import patches
from workflows.blockage import current_details, waiting_on


def asks_where_the_requester_lives(
    request: RightsRequest, verification: VerificationStandard
) -> bool:
    """An undetermined request asks, unless it needs no verification (an opt-out is honoured
    wherever the requester lives)."""
    return (
        request.jurisdiction is Jurisdiction.UNDETERMINED
        and verification is not VerificationStandard.NONE
    )


class CaseFile:
    def __init__(self, state: RequestState) -> None:
        self._state = state
        # Set by an operator's deny or withdraw: the lifecycle stops at its next wait.
        self.closing: RequestStatus | None = None
        # Once the run is answering, nothing may close or extend it any more.
        self.answering = False
        # Last published `WaitingOn`; None until the first is.
        self._waiting_on: WaitingOn | None = None

    @classmethod
    def of_request(
        cls, request: RightsRequest, due: DueDates, verification: VerificationStandard
    ) -> CaseFile:
        asks_residence = asks_where_the_requester_lives(request, verification)
        steps = UNDETERMINED_STEPS if asks_residence else REQUEST_STEPS
        return cls(
            RequestState(
                request_id=request.request_id,
                type=request.type,
                jurisdiction=request.jurisdiction,
                channel=request.channel,
                received_at=request.received_at,
                status=RequestStatus.RECEIVED,
                due_dates=due,
                respond_by=due.respond_by,
                steps=[StepState(name=name) for name in steps],
                verification_standard=verification,
            )
        )

    @classmethod
    def of_appeal(
        cls, appeal_id: str, original: RightsRequest, channel: Channel, due: DueDates
    ) -> CaseFile:
        return cls(
            RequestState(
                request_id=appeal_id,
                type=RequestType.APPEAL,
                jurisdiction=original.jurisdiction,
                channel=channel,
                received_at=workflow.now(),
                status=RequestStatus.RECEIVED,
                due_dates=due,
                respond_by=due.respond_by,
                steps=[StepState(name=name) for name in APPEAL_STEPS],
                appeal_of=original.request_id,
            )
        )

    @property
    def state(self) -> RequestState:
        """The state as it stands: read it anywhere, change it only through this class."""
        return self._state

    def _show(self, *changed: SearchAttributeUpdate[Any]) -> None:
        """The run's current details in the Temporal UI follow every change (no personal data),
        and the search attributes that changed are published in one upsert, `WaitingOn` with
        them when it moved (runs from 0.5.0); from 0.5.2 only those whose value differs from
        the run's, so what its starter set is not set again."""
        workflow.set_current_details(current_details(self._state))
        updates = list(changed)
        if patches.applied(patches.WAITING_ON):
            now_waiting_on = waiting_on(self._state)
            if now_waiting_on is not self._waiting_on:
                self._waiting_on = now_waiting_on
                updates.append(search_attributes.WAITING_ON.value_set(now_waiting_on.value))
        if patches.applied(patches.LEAN_RUN):
            current = workflow.info().typed_search_attributes
            updates = [update for update in updates if current.get(update.key) != update.value]
        if updates:
            workflow.upsert_search_attributes(updates)

    def publish_search_attributes(self) -> None:
        """Type, jurisdiction, status and deadline, for the UI's filters."""
        self._show(
            search_attributes.REQUEST_TYPE.value_set(self._state.type.value),
            search_attributes.JURISDICTION.value_set(self._state.jurisdiction.value),
            search_attributes.STATUS.value_set(self._state.status.value),
            search_attributes.RESPOND_BY.value_set(start_of(self._state.respond_by)),
        )

    def set_status(self, status: RequestStatus) -> None:
        """A new status, mirrored into the search attributes and logged."""
        self._state.status = status
        self.log(logging.INFO, "request_status")
        self._show(search_attributes.STATUS.value_set(status.value))

    def close(self, final: RequestStatus) -> None:
        """The request's last status, at the moment it was answered."""
        self.set_status(final)
        self._state.closed_at = workflow.now()

    def settle_law(
        self, jurisdiction: Jurisdiction, due: DueDates, verification: VerificationStandard
    ) -> None:
        """The requester said where they live: their law, its dates, the standard it asks."""
        self._state.jurisdiction = jurisdiction
        self._state.due_dates = due
        self._state.respond_by = due.respond_by
        self._state.verification_standard = verification
        self.publish_search_attributes()

    def restart_clock(self, pause: ClockPause, due: DueDates) -> None:
        """The law's clock ran again from `pause.restarted_on`: the dates counted from then."""
        self._state.clock_pauses.append(pause)
        self._state.due_dates = due
        self._state.respond_by = due.respond_by
        self.publish_search_attributes()

    def reopen(self) -> None:
        """A granted appeal: the answered request is open again, to be carried out."""
        self.closing = None
        self.answering = False
        self._state.closed_at = None

    def require(self, status: RequestStatus, what: str) -> None:
        """Refuse an Update that the request is not waiting for (validators call this)."""
        if self.closing is not None or self._state.status is not status:
            raise ValueError(
                f"request {self._state.request_id} is not waiting for {what} "
                f"(status: {self._state.status.value})"
            )

    def require_open(self) -> None:
        """Refuse an Update that needs the request still open."""
        if self.closing is not None or self.answering:
            raise ValueError(
                f"request {self._state.request_id} is already closing "
                f"(status: {self._state.status.value})"
            )

    def log(self, level: int, event: str, **fields: str) -> None:
        """One replay-safe log line naming the request, its type, law, status and step."""
        steps = self._state.steps
        active = [step.name.value for step in steps if step.status is StepStatus.ACTIVE]
        workflow.logger.log(
            level,
            event,
            extra={
                "request_id": self._state.request_id,
                "request_type": self._state.type.value,
                "jurisdiction": self._state.jurisdiction.value,
                "status": self._state.status.value,
                "step": active[-1] if active else self._state.status.value,
                **fields,
            },
        )

    def move_respond_by(self, respond_by: date, reason: str) -> None:
        """The deadline moved by an extension, with its reason."""
        self._state.extended = True
        self._state.extension_reason = reason
        self._state.respond_by = respond_by
        self._show(search_attributes.RESPOND_BY.value_set(start_of(respond_by)))

    def step(self, name: StepName) -> StepState:
        """One step's state."""
        return next(step for step in self._state.steps if step.name is name)

    def begin(self, name: StepName, note: str | None = None) -> None:
        """A step starts now."""
        step = self.step(name)
        step.status, step.started_at, step.note = StepStatus.ACTIVE, workflow.now(), note

    def finish(self, name: StepName, status: StepStatus, note: str | None = None) -> None:
        """A step ends now, with its status."""
        step = self.step(name)
        step.status, step.finished_at = status, workflow.now()
        step.started_at = step.started_at or step.finished_at
        if note is not None:
            step.note = note
        self._show()

    def note(self, name: StepName, note: str) -> None:
        """A note on a step."""
        self.step(name).note = note

    def fail_active_steps(self, note: str) -> None:
        """Every step under way ends failed, with `note` (the request was closed)."""
        for step in self._state.steps:
            if step.status is StepStatus.ACTIVE:
                self.finish(step.name, StepStatus.FAILED, note)

    def count_attempts(self, attempts: int) -> None:
        """How many verification attempts the requester has used."""
        self._state.verification_attempts = attempts
        self._show()

    def record_operator_action(
        self, action: str, operator: str | None, note: str | None = None
    ) -> None:
        """Who on the privacy team did what, with their note, for the status and the record."""
        self._state.operator_actions.append(
            OperatorAction(at=workflow.now(), action=action, operator=operator, note=note)
        )

    def record_denial(self, reason: str) -> None:
        """The reason a request or an agent was refused."""
        self._state.denial_reason = reason

    def add_notice(self, notice: NoticeSent) -> None:
        """A notice sent (or refused by the mail backend)."""
        self._state.notices.append(notice)

    def open_task(self, task: ProviderTask) -> None:
        """A provider's work handed to the privacy team."""
        self._state.open_tasks.append(task)
        self._show()

    def close_task(self, task: ProviderTask) -> None:
        """A provider's operator task closed."""
        self._state.open_tasks.remove(task)
        self._show()

    def record_outcomes(self, outcomes: list[ProviderOutcome]) -> None:
        """Every provider's outcome, once fulfilment ends."""
        self._state.provider_outcomes = outcomes

    def open_appeal(self, appeal_by: date) -> None:
        """A refusal's appeal link works until `appeal_by`."""
        self._state.appeal_by = appeal_by
        self._state.appeal_window_open = True

    def appeal_window_lapsed(self) -> None:
        """The appeal link expired unused."""
        self._state.appeal_window_open = False

    def appeal_filed(self, appeal: AppealSummary) -> None:
        """The requester appealed; the appeal's own run decides it."""
        self._state.appeal = appeal
        self._state.appeal_window_open = False

    def appeal_decided(self, outcome: AppealOutcome) -> None:
        """How the appeal ended (Colorado Rule 6.11 keeps this in the record)."""
        assert self._state.appeal is not None
        self._state.appeal = self._state.appeal.model_copy(
            update={"outcome": outcome, "decided_at": workflow.now()}
        )
