"""AppealWorkflow: one run per appeal of a decision, started by the run of the request appealed.

receipt → the privacy team's decision → the written decision → record, with the deadline watch
beside it (the appeal deadlines of the engine: Colorado 45 days, extendable by 60; Connecticut,
Virginia, Texas and Florida 60; Oregon 45). Granted, it answers the request's run, which then
carries out what was refused; denied, it gives the requester the written reasons and the
Attorney General's online complaint mechanism (C.R.S. §6-1-1306(3); Conn. Gen. Stat.
§42-518(d); Va. Code §59.1-577(C); Tex. Bus. & Com. Code §541.053). Id
`rights-request-<appeal_id>`, type `appeal`, so the status, the list and the record treat it as
a request of its own, linked both ways to the one it appeals.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

from rights.activity_inputs import NoticeFacts, WriteRecordInput
from rights.deadlines import due_dates
from rights.models import (
    AppealDecision,
    AppealInput,
    AppealOutcome,
    NoticeKind,
    Recipient,
    RequestState,
    RequestStatus,
    StepName,
    StepStatus,
)
from rights.receipt_day import receipt_day
from rights.remedies import remedies_for
from rights.residence import country_of
from rights.terms import RequestType
from workflows import effects, patches
from workflows.case_file import CaseFile
from workflows.deadline_watch import DeadlineWatch
from workflows.notifier import Notifier
from workflows.steering import DeadlineExtension


@workflow.defn
class AppealWorkflow(DeadlineExtension):
    @workflow.init
    def __init__(self, input: AppealInput) -> None:
        patches.mark_release()
        original = input.original
        due = due_dates(
            original.jurisdiction,
            RequestType.APPEAL,
            receipt_day(workflow.now(), input.policy.business_timezone),
            eu_establishment=input.policy.eu_establishment,
        )
        self._case_file = CaseFile.of_appeal(input.appeal_id, original, input.filing.channel, due)
        # Notices about an appeal go to the requester of the original, under its reference.
        self._notifier = Notifier(original, self._case_file)
        self._deadlines = DeadlineWatch(
            self._case_file, self._notifier, input.policy, lambda: self._case_file.answering
        )
        self._decision: AppealDecision | None = None

    @workflow.run
    async def run(self, input: AppealInput) -> AppealDecision:
        deadline_watch = asyncio.create_task(self._deadlines.run())
        await self._acknowledge(input)
        decision = await self._decide(input)
        self._case_file.answering = True
        await self._answer(input, decision)
        self._case_file.finish(StepName.RECORD, StepStatus.DONE)
        await effects.write_record(WriteRecordInput(state=self._case_file.state))
        await deadline_watch
        await workflow.wait_condition(workflow.all_handlers_finished)
        return decision

    async def _acknowledge(self, input: AppealInput) -> None:
        self._case_file.begin(StepName.RECEIPT)
        self._case_file.publish_search_attributes()
        due = self._case_file.state.due_dates
        facts = NoticeFacts(
            respond_by=due.respond_by,
            respond_basis=due.legal_basis.respond_by,
            appeal_id=input.appeal_id,
            reason=input.refused,
        )
        await self._notifier.notify(NoticeKind.APPEAL_RECEIVED, Recipient.REQUESTER, facts)
        await self._notifier.notify(NoticeKind.OPERATOR_APPEAL_REVIEW, Recipient.OPERATOR, facts)
        self._case_file.finish(StepName.RECEIPT, StepStatus.DONE)

    async def _decide(self, input: AppealInput) -> AppealDecision:
        """Someone who did not make the decision reviews it, within the law's period."""
        self._case_file.begin(StepName.APPEAL_DECISION)
        self._case_file.set_status(RequestStatus.AWAITING_APPEAL_DECISION)
        await workflow.wait_condition(lambda: self._decision is not None)
        decision = self._decision
        assert decision is not None
        self._case_file.finish(StepName.APPEAL_DECISION, StepStatus.DONE, decision.outcome.value)
        return decision

    async def _answer(self, input: AppealInput, decision: AppealDecision) -> None:
        self._case_file.begin(StepName.RESPONSE)
        original = input.original
        if decision.outcome is AppealOutcome.GRANTED:
            kind, final = NoticeKind.APPEAL_GRANTED, RequestStatus.APPEAL_GRANTED
        else:
            kind, final = NoticeKind.APPEAL_DENIED, RequestStatus.APPEAL_DENIED
            self._case_file.record_denial(decision.reasons)
        remedies = remedies_for(
            original.jurisdiction,
            country_of(original.requester.residence, original.jurisdiction.value),
            appeal_by=None,
        )
        await self._notifier.notify(
            kind,
            Recipient.REQUESTER,
            NoticeFacts(reason=decision.reasons, appeal_id=input.appeal_id, remedies=remedies),
        )
        self._case_file.close(final)
        self._case_file.finish(StepName.RESPONSE, StepStatus.DONE, final.value)

    @workflow.update
    def decide_appeal(self, decision: AppealDecision) -> RequestState:
        """The privacy team's decision on the appeal, with its written reasons."""
        self._decision = decision
        self._case_file.record_operator_action(
            f"decide_appeal: {decision.outcome.value}", decision.operator, decision.reasons
        )
        return self._case_file.state

    @decide_appeal.validator
    def _validate_decision(self, decision: AppealDecision) -> None:
        self._case_file.require(RequestStatus.AWAITING_APPEAL_DECISION, "an appeal decision")

    @workflow.query
    def status(self) -> RequestState:
        """The appeal, step by step, with no personal data."""
        return self._case_file.state
