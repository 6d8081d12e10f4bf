"""RightsRequestWorkflow: one run per privacy rights request, one step per promise.

receipt → authorize agent → verify identity → reconfirm deletion → fulfil → respond → record,
with the deadline watch running beside it. The answers the run waits for (`answers.py`) and the
privacy team's steering (`steering.py`) are Updates of their own modules; the case file is the
only writer of the request's state; every side effect is a typed call in `effects.py`.
Deterministic: time from `workflow.now()`, nonces from `workflow.uuid4()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from rights.activity_inputs import (
    ExpireReportInput,
    LinkPurpose,
    LinkSpec,
    NoticeFacts,
    PublishReportInput,
    WriteRecordInput,
)
from rights.challenges import Challenge
from rights.deadlines import due_dates
from rights.models import (
    NoticeKind,
    Recipient,
    RequestState,
    RequestStatus,
    RightsRequestInput,
    StepName,
    StepStatus,
)
from rights.plans import AccessAnswer, access_answer, plan_for
from rights.remedies import further_rights
from rights.terms import VerificationStandard
from workflows import effects, patches
from workflows.answers import RequesterAnswers
from workflows.case_file import CaseFile
from workflows.deadline_watch import DeadlineWatch
from workflows.fulfilment import Fulfilment
from workflows.notifier import Notifier
from workflows.steering import OperatorSteering


class RequestClosed(Exception):
    """An operator denied the request or the requester withdrew it; the lifecycle stops."""


@workflow.defn
class RightsRequestWorkflow(RequesterAnswers, OperatorSteering):
    @workflow.init
    def __init__(self, input: RightsRequestInput) -> None:
        self._request = input.request
        self._policy = input.policy
        self._plan = plan_for(input.request)
        due = due_dates(
            input.request.jurisdiction,
            input.request.type,
            input.request.received_at.date(),
            eu_establishment=input.policy.eu_establishment,
        )
        self._case_file = CaseFile(input.request, due, self._plan.verification)
        self._notifier = Notifier(input.request, self._case_file)
        self._fulfilment = Fulfilment(
            input.request, self._plan.action, self._case_file, self._notifier, self._wait_for
        )
        self._deadlines = DeadlineWatch(
            self._case_file, self._notifier, input.policy, lambda: self._case_file.answering
        )
        self._open_answers()
        self._open_steering()

    @workflow.run
    async def run(self, input: RightsRequestInput) -> RequestState:
        """The lifecycle, then the response and the record; the final state."""
        deadline_watch = asyncio.create_task(self._deadlines.run())
        try:
            final = await self._carry_out()
        except RequestClosed:
            final = self._case_file.closing or RequestStatus.DENIED
            self._case_file.fail_active_steps(f"closed: {final.value}")
        self._case_file.answering = True
        await self._respond(final)
        await self._record()
        await deadline_watch
        # An Update still running (an operator's extension notice, say) finishes first.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._case_file.state

    async def _carry_out(self) -> RequestStatus:
        await self._confirm_receipt()
        if not await self._authorize_agent():
            return RequestStatus.AGENT_REJECTED
        if not await self._verify_identity():
            return RequestStatus.UNVERIFIABLE
        if not await self._reconfirm_deletion():
            return RequestStatus.NOT_RECONFIRMED
        await self._fulfil()
        return RequestStatus.COMPLETED

    async def _confirm_receipt(self) -> None:
        self._case_file.begin(StepName.RECEIPT)
        dates = self._case_file.state.due_dates
        self._case_file.publish_search_attributes()
        await self._notifier.notify(
            NoticeKind.RECEIPT,
            Recipient.REQUESTER,
            NoticeFacts(
                respond_by=dates.respond_by,
                respond_basis=dates.legal_basis.respond_by,
                acknowledge_basis=dates.legal_basis.acknowledge_by,
            ),
        )
        self._case_file.finish(StepName.RECEIPT, StepStatus.DONE)

    async def _authorize_agent(self) -> bool:
        """An agent acts only with proof of permission an operator has accepted (11 CCR §7063)."""
        if self._request.agent is None:
            self._case_file.finish(StepName.AGENT_AUTHORIZATION, StepStatus.SKIPPED, "no agent")
            return True
        self._case_file.begin(StepName.AGENT_AUTHORIZATION)
        self._case_file.set_status(RequestStatus.AWAITING_AGENT_AUTHORIZATION)
        await self._notifier.notify(NoticeKind.AGENT_AUTHORIZATION_NEEDED, Recipient.OPERATOR)
        await self._wait_for(lambda: self._agent_approved is not None)
        if self._agent_approved:
            self._case_file.finish(StepName.AGENT_AUTHORIZATION, StepStatus.DONE, "approved")
            return True
        self._case_file.finish(StepName.AGENT_AUTHORIZATION, StepStatus.FAILED, "rejected")
        await self._notifier.notify(
            NoticeKind.AGENT_REJECTED,
            Recipient.AGENT,
            NoticeFacts(reason=self._case_file.state.denial_reason),
        )
        return False

    async def _verify_identity(self) -> bool:
        """Nothing is disclosed or changed before the requester is verified (11 CCR §7060)."""
        if self._plan.verification is VerificationStandard.NONE:
            self._case_file.finish(
                StepName.IDENTITY_VERIFICATION, StepStatus.SKIPPED, "not required"
            )
            return True
        self._case_file.begin(StepName.IDENTITY_VERIFICATION, self._plan.verification.value)
        self._case_file.set_status(RequestStatus.AWAITING_VERIFICATION)
        expires_at = workflow.now() + timedelta(days=self._policy.verification_ttl_days)
        self._verification = Challenge(
            expires_at=expires_at, max_attempts=self._policy.verification_max_attempts
        )
        await self._notifier.send_link(
            NoticeKind.VERIFICATION, LinkPurpose.VERIFY, self._verification
        )
        reminder_at = expires_at - timedelta(days=self._policy.verification_reminder_days)
        if not await self._wait_for(lambda: self._verified is not None, until=reminder_at):
            await self._notifier.send_link(
                NoticeKind.VERIFICATION_REMINDER, LinkPurpose.VERIFY, self._verification
            )
            await self._wait_for(lambda: self._verified is not None, until=expires_at)
        if self._verified:
            self._case_file.finish(StepName.IDENTITY_VERIFICATION, StepStatus.DONE)
            return True
        reason = self._unverified_reason or "the verification link expired unanswered"
        self._case_file.finish(StepName.IDENTITY_VERIFICATION, StepStatus.FAILED, reason)
        await self._notifier.notify(
            NoticeKind.UNVERIFIABLE, Recipient.REQUESTER, NoticeFacts(reason=reason)
        )
        return False

    async def _reconfirm_deletion(self) -> bool:
        """A deletion is carried out only after a separate confirmation (privacy policy)."""
        if not self._plan.reconfirm_deletion:
            self._case_file.finish(
                StepName.DELETION_RECONFIRMATION, StepStatus.SKIPPED, "not a deletion"
            )
            return True
        self._case_file.begin(StepName.DELETION_RECONFIRMATION)
        self._case_file.set_status(RequestStatus.AWAITING_RECONFIRMATION)
        expires_at = workflow.now() + timedelta(days=self._policy.reconfirmation_ttl_days)
        self._reconfirmation = Challenge(
            expires_at=expires_at, max_attempts=self._policy.verification_max_attempts
        )
        await self._notifier.send_link(
            NoticeKind.DELETION_RECONFIRMATION, LinkPurpose.CONFIRM_DELETION, self._reconfirmation
        )
        await self._wait_for(lambda: self._reconfirmed is not None, until=expires_at)
        if self._reconfirmed:
            self._case_file.finish(StepName.DELETION_RECONFIRMATION, StepStatus.DONE)
            return True
        self._case_file.finish(StepName.DELETION_RECONFIRMATION, StepStatus.FAILED, "not confirmed")
        await self._notifier.notify(NoticeKind.NOT_RECONFIRMED, Recipient.REQUESTER)
        return False

    async def _fulfil(self) -> None:
        self._case_file.begin(StepName.FULFILMENT)
        self._case_file.set_status(RequestStatus.FULFILLING)
        outcomes = await self._fulfilment.run(
            specific_pieces=self._answer is AccessAnswer.SPECIFIC_PIECES
        )
        self._case_file.record_outcomes(outcomes)
        self._case_file.finish(StepName.FULFILMENT, StepStatus.DONE, f"{len(outcomes)} providers")

    async def _respond(self, final: RequestStatus) -> None:
        self._case_file.begin(StepName.RESPONSE)
        self._case_file.set_status(
            final if final is not RequestStatus.COMPLETED else RequestStatus.RESPONDING
        )
        if final is RequestStatus.COMPLETED:
            await self._send_completion()
        elif final is RequestStatus.DENIED:
            await self._notifier.notify(
                NoticeKind.DENIED,
                Recipient.REQUESTER,
                NoticeFacts(
                    reason=self._case_file.state.denial_reason,
                    further_rights=further_rights(self._request.jurisdiction),
                ),
            )
        elif final is RequestStatus.WITHDRAWN:
            await self._notifier.notify(NoticeKind.WITHDRAWN, Recipient.REQUESTER)
        self._case_file.close(final)
        self._case_file.finish(StepName.RESPONSE, StepStatus.DONE, final.value)

    async def _send_completion(self) -> None:
        outcomes = self._case_file.state.provider_outcomes
        facts = NoticeFacts(
            outcomes=outcomes,
            retained=[item for outcome in outcomes for item in outcome.retained],
            corrected_fields=[field for outcome in outcomes for field in outcome.corrected_fields],
            further_rights=further_rights(self._request.jurisdiction),
            access_answer=self._answer if self._plan.delivers_report else None,
        )
        link = None
        if self._plan.delivers_report:
            link = LinkSpec(
                purpose=LinkPurpose.REPORT,
                nonce=str(workflow.uuid4()),
                expires_at=workflow.now() + timedelta(days=self._policy.report_link_ttl_days),
            )
            await effects.publish_report(
                PublishReportInput(
                    request=self._request,
                    formats=list(self._plan.report_formats),
                    link=link,
                    outcomes=outcomes,
                    answer=self._answer,
                )
            )
            if workflow.patched(patches.REPORT_FILES_EXPIRE):
                await effects.schedule_report_expiry(
                    ExpireReportInput(
                        request_id=self._request.request_id, expires_at=link.expires_at
                    )
                )
        await self._notifier.notify(NoticeKind.COMPLETED, Recipient.REQUESTER, facts, link=link)

    @property
    def _answer(self) -> AccessAnswer:
        """What an access report holds: specific pieces or categories, and why."""
        return access_answer(self._plan, self._verified_standard)

    async def _record(self) -> None:
        """The compliance record, kept 24 months (11 CCR §7101; Colorado Rule 6.11)."""
        self._case_file.finish(StepName.RECORD, StepStatus.DONE)
        await effects.write_record(WriteRecordInput(state=self._case_file.state))

    @workflow.query
    def status(self) -> RequestState:
        """The whole request, step by step, with no personal data."""
        return self._case_file.state

    async def _wait_for(
        self, condition: Callable[[], bool], *, until: datetime | None = None
    ) -> bool:
        """Wait for `condition` (True) or `until` (False); an operator's close interrupts."""
        timeout = None if until is None else max(until - workflow.now(), timedelta(0))

        def satisfied() -> bool:
            return condition() or self._case_file.closing is not None

        try:
            await workflow.wait_condition(satisfied, timeout=timeout)
        except TimeoutError:
            return False
        if self._case_file.closing is not None:
            raise RequestClosed
        return True
