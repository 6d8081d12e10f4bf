"""RightsRequestWorkflow: one run per privacy rights request, one step per promise.

receipt → authorize agent → verify identity → reconfirm deletion → fulfil → respond → record,
with the deadline watch running beside it. Operators steer through Updates; `status` answers
with the step-by-step state and no personal data. Deterministic: time from `workflow.now()`,
nonces from `workflow.uuid4()`, every side effect in an activity named in `ActivityName`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from rights.activity_inputs import (
    ActivityName,
    ExpireReportInput,
    IdentityMatch,
    LinkPurpose,
    LinkSpec,
    MatchIdentityInput,
    NoticeFacts,
    PublishReportInput,
    WriteRecordInput,
)
from rights.challenges import REFUSED_EXPIRED, REFUSED_WRONG_TOKEN, Challenge
from rights.deadlines import due_dates
from rights.models import (
    AnswerResult,
    DenyInput,
    ExtendInput,
    NoticeKind,
    OperatorNote,
    ProviderJobReport,
    ProviderTaskDone,
    Recipient,
    ReconfirmationAnswer,
    RequestState,
    RequestStatus,
    RightsRequestInput,
    StepName,
    StepState,
    StepStatus,
    VerificationAnswer,
    VerificationOutcome,
)
from rights.plans import AccessAnswer, access_answer, plan_for
from rights.remedies import further_rights
from rights.terms import VerificationStandard
from workflows import patches
from workflows.case_file import CaseFile
from workflows.deadline_watch import DeadlineWatch
from workflows.fulfilment import Fulfilment
from workflows.notifier import Notifier
from workflows.retries import LOCAL_RETRY


class RequestClosed(Exception):
    """An operator denied the request or the requester withdrew it; the lifecycle stops."""


@workflow.defn
class RightsRequestWorkflow:
    @workflow.init
    def __init__(self, input: RightsRequestInput) -> None:
        self._request = input.request
        self._policy = input.policy
        self._plan = plan_for(input.request)
        dates = due_dates(
            input.request.jurisdiction,
            input.request.type,
            input.request.received_at.date(),
            eu_establishment=input.policy.eu_establishment,
        )
        state = RequestState(
            request_id=input.request.request_id,
            type=input.request.type,
            jurisdiction=input.request.jurisdiction,
            channel=input.request.channel,
            received_at=input.request.received_at,
            status=RequestStatus.RECEIVED,
            due_dates=dates,
            respond_by=dates.respond_by,
            steps=[StepState(name=name) for name in StepName],
            verification_standard=self._plan.verification.value,
        )
        self._case_file = CaseFile(state)
        self._state = state
        self._notifier = Notifier(input.request, self._case_file)
        self._fulfilment = Fulfilment(
            input.request, self._plan.action, self._case_file, self._notifier, self._wait_for
        )
        self._deadlines = DeadlineWatch(
            self._case_file, self._notifier, input.policy, lambda: self._finished
        )
        self._agent_approved: bool | None = None
        self._verification: Challenge | None = None
        self._verified: bool | None = None
        self._verified_standard = self._plan.verification
        self._unverified_reason = ""
        self._matching = False
        self._reconfirmation: Challenge | None = None
        self._reconfirmed: bool | None = None
        self._closing: RequestStatus | None = None
        self._finished = False

    # The lifecycle ------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: RightsRequestInput) -> RequestState:
        deadline_watch = asyncio.create_task(self._deadlines.run())
        try:
            final = await self._carry_out()
        except RequestClosed:
            final = self._closing or RequestStatus.DENIED
            self._case_file.fail_active_steps(f"closed: {final.value}")
        self._finished = True
        await self._respond(final)
        await self._record()
        await deadline_watch
        return self._state

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
        dates = self._state.due_dates
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
            NoticeFacts(reason=self._state.denial_reason),
        )
        return False

    async def _verify_identity(self) -> bool:
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
        self._state.provider_outcomes = outcomes
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
                    reason=self._state.denial_reason,
                    further_rights=further_rights(self._request.jurisdiction),
                ),
            )
        elif final is RequestStatus.WITHDRAWN:
            await self._notifier.notify(NoticeKind.WITHDRAWN, Recipient.REQUESTER)
        self._case_file.set_status(final)
        self._state.closed_at = workflow.now()
        self._case_file.finish(StepName.RESPONSE, StepStatus.DONE, final.value)

    async def _send_completion(self) -> None:
        outcomes = self._state.provider_outcomes
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
            await workflow.execute_activity(
                ActivityName.PUBLISH_REPORT,
                PublishReportInput(
                    request=self._request,
                    formats=list(self._plan.report_formats),
                    link=link,
                    outcomes=outcomes,
                    answer=self._answer,
                ),
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=LOCAL_RETRY,
            )
            if workflow.patched(patches.REPORT_FILES_EXPIRE):
                await workflow.execute_activity(
                    ActivityName.SCHEDULE_REPORT_EXPIRY,
                    ExpireReportInput(
                        request_id=self._request.request_id, expires_at=link.expires_at
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=LOCAL_RETRY,
                )
        await self._notifier.notify(NoticeKind.COMPLETED, Recipient.REQUESTER, facts, link=link)

    @property
    def _answer(self) -> AccessAnswer:
        """What an access report holds: specific pieces or categories, and why."""
        return access_answer(self._plan, self._verified_standard)

    async def _record(self) -> None:
        """The compliance record, kept 24 months (11 CCR §7101; Colorado Rule 6.11)."""
        self._case_file.finish(StepName.RECORD, StepStatus.DONE)
        await workflow.execute_activity(
            ActivityName.WRITE_RECORD,
            WriteRecordInput(state=self._state),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LOCAL_RETRY,
        )

    # Requester answers ---------------------------------------------------------------------

    @workflow.update
    async def submit_verification(self, answer: VerificationAnswer) -> AnswerResult:
        """The requester's answer to the verification link; only a live token makes an attempt."""
        challenge = self._verification
        assert challenge is not None
        await workflow.wait_condition(lambda: challenge.armed)
        outcome, counted = self._take_answer(challenge, answer.token)
        self._state.verification_attempts = challenge.attempts
        if outcome is not VerificationOutcome.VERIFIED:
            if outcome is VerificationOutcome.ATTEMPTS_EXHAUSTED and counted:
                self._verified = False
                self._unverified_reason = "the verification attempts were used up"
            return AnswerResult(
                outcome=outcome,
                attempts_left=challenge.attempts_left,
                message=_ANSWER_MESSAGES[outcome],
            )
        self._matching = True
        try:
            match = await workflow.execute_activity(
                ActivityName.MATCH_IDENTITY,
                MatchIdentityInput(
                    request=self._request,
                    standard=self._plan.verification,
                    data_points=answer.data_points,
                    declaration_signed=answer.declaration_signed,
                ),
                result_type=IdentityMatch,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=LOCAL_RETRY,
            )
        finally:
            self._matching = False
        if match.matched:
            challenge.answered = True
            self._verified = True
            self._verified_standard = match.standard_met or self._plan.verification
            return AnswerResult(
                outcome=outcome,
                attempts_left=challenge.attempts_left,
                message=match.reason,
                standard_met=self._verified_standard.value,
            )
        outcome = VerificationOutcome.NOT_MATCHED
        if challenge.attempts_left == 0:
            outcome = VerificationOutcome.ATTEMPTS_EXHAUSTED
            self._verified = False
            self._unverified_reason = "the verification attempts were used up"
        return AnswerResult(
            outcome=outcome, attempts_left=challenge.attempts_left, message=match.reason
        )

    @submit_verification.validator
    def _validate_verification(self, answer: VerificationAnswer) -> None:
        if self._verification is not None and self._verification.attempts_left == 0:
            raise ValueError("no verification attempts are left for this request")
        self._require(RequestStatus.AWAITING_VERIFICATION, "identity verification")
        if self._matching:
            raise ValueError("a previous answer is still being checked; try again shortly")
        self._require_live_token(self._verification, answer.token)

    @workflow.update
    async def confirm_deletion(self, answer: ReconfirmationAnswer) -> AnswerResult:
        """The requester's second, separate yes to a deletion, through its own link."""
        challenge = self._reconfirmation
        assert challenge is not None
        await workflow.wait_condition(lambda: challenge.armed)
        outcome, counted = self._take_answer(challenge, answer.token)
        if outcome is VerificationOutcome.VERIFIED:
            challenge.answered = True
            self._reconfirmed = True
        elif outcome is VerificationOutcome.ATTEMPTS_EXHAUSTED and counted:
            self._reconfirmed = False
        return AnswerResult(
            outcome=outcome,
            attempts_left=challenge.attempts_left,
            message=_ANSWER_MESSAGES[outcome]
            if outcome is not VerificationOutcome.VERIFIED
            else "deletion confirmed; we are now deleting your data",
        )

    @confirm_deletion.validator
    def _validate_confirmation(self, answer: ReconfirmationAnswer) -> None:
        self._require(RequestStatus.AWAITING_RECONFIRMATION, "deletion confirmation")
        self._require_live_token(self._reconfirmation, answer.token)

    @staticmethod
    def _take_answer(challenge: Challenge, token: str) -> tuple[VerificationOutcome, bool]:
        """The answer's outcome, and whether it was counted as an attempt.

        Since 0.2.0 a wrong, expired or spent token is refused without counting; runs that
        began earlier replay their history's path, where every answer counted.
        """
        if not workflow.patched(patches.TOKEN_BEFORE_ATTEMPT):
            return challenge.check(token, workflow.now()), True
        refused = challenge.refusal(token, workflow.now())
        if refused is not None:
            return refused, False
        challenge.attempts += 1
        return VerificationOutcome.VERIFIED, True

    @staticmethod
    def _require_live_token(challenge: Challenge | None, token: str) -> None:
        """Refuse, before it is an Update in history, an answer whose token is not live.

        Before the link notice is sent the token is not known yet; such an answer is
        accepted and checked once it is (`_take_answer`).
        """
        if challenge is None or not challenge.armed:
            return
        refused = challenge.refusal(token, workflow.now())
        if refused is VerificationOutcome.WRONG_TOKEN:
            raise ApplicationError(_ANSWER_MESSAGES[refused], type=REFUSED_WRONG_TOKEN)
        if refused is VerificationOutcome.EXPIRED:
            raise ApplicationError(_ANSWER_MESSAGES[refused], type=REFUSED_EXPIRED)

    # Operator controls ---------------------------------------------------------------------

    @workflow.update
    def approve_agent(self, note: OperatorNote) -> RequestState:
        self._agent_approved = True
        return self._state

    @approve_agent.validator
    def _validate_approve_agent(self, note: OperatorNote) -> None:
        self._require(RequestStatus.AWAITING_AGENT_AUTHORIZATION, "an agent decision")

    @workflow.update
    def reject_agent(self, decision: DenyInput) -> RequestState:
        self._agent_approved = False
        self._state.denial_reason = decision.reason
        return self._state

    @reject_agent.validator
    def _validate_reject_agent(self, decision: DenyInput) -> None:
        self._require(RequestStatus.AWAITING_AGENT_AUTHORIZATION, "an agent decision")

    @workflow.update
    def verify_manually(self, note: OperatorNote) -> RequestState:
        self._verified = True
        self._case_file.step(StepName.IDENTITY_VERIFICATION).note = "verified by operator"
        return self._state

    @verify_manually.validator
    def _validate_verify_manually(self, note: OperatorNote) -> None:
        self._require(RequestStatus.AWAITING_VERIFICATION, "identity verification")

    @workflow.update
    def deny(self, decision: DenyInput) -> RequestState:
        self._state.denial_reason = decision.reason
        self._closing = RequestStatus.DENIED
        return self._state

    @deny.validator
    def _validate_deny(self, decision: DenyInput) -> None:
        self._require_open()

    @workflow.update
    def withdraw(self, note: OperatorNote) -> RequestState:
        self._closing = RequestStatus.WITHDRAWN
        return self._state

    @withdraw.validator
    def _validate_withdraw(self, note: OperatorNote) -> None:
        self._require_open()

    @workflow.update
    def provider_task_done(self, done: ProviderTaskDone) -> RequestState:
        self._fulfilment.task_done(done)
        return self._state

    @provider_task_done.validator
    def _validate_task_done(self, done: ProviderTaskDone) -> None:
        if not any(task.provider == done.provider for task in self._state.open_tasks):
            open_names = ", ".join(task.provider for task in self._state.open_tasks) or "none"
            raise ValueError(f"provider: no open task for {done.provider!r} (open: {open_names})")

    @workflow.update
    def report_provider_job(self, report: ProviderJobReport) -> RequestState:
        self._fulfilment.job_reported(report)
        return self._state

    @report_provider_job.validator
    def _validate_job_report(self, report: ProviderJobReport) -> None:
        if not self._fulfilment.awaits_callback(report.provider, report.job_id):
            raise ValueError(
                f"job_id: {report.provider!r} has no job {report.job_id!r} awaiting a callback"
            )

    @workflow.update
    async def extend(self, request: ExtendInput) -> RequestState:
        new_date = self._state.respond_by + timedelta(days=request.days)
        await self._deadlines.extend(request.reason, new_date)
        return self._state

    @extend.validator
    def _validate_extend(self, request: ExtendInput) -> None:
        self._require_open()
        latest = self._state.due_dates.extended_respond_by
        if latest is None:
            raise ValueError(
                f"days: {self._request.jurisdiction.value} allows no extension for "
                f"{self._request.type.value} requests"
            )
        if self._state.extended:
            raise ValueError("days: the request has already been extended once")
        new_date = self._state.respond_by + timedelta(days=request.days)
        if new_date > latest:
            raise ValueError(
                f"days: {request.days} days would pass the latest lawful date {latest.isoformat()}"
            )

    @workflow.query
    def status(self) -> RequestState:
        return self._state

    # Bookkeeping ---------------------------------------------------------------------------

    async def _wait_for(
        self, condition: Callable[[], bool], *, until: datetime | None = None, closable: bool = True
    ) -> bool:
        """Wait for `condition` (True) or `until` (False); an operator's close interrupts."""
        timeout = None if until is None else max(until - workflow.now(), timedelta(0))

        def satisfied() -> bool:
            return condition() or (closable and self._closing is not None)

        try:
            await workflow.wait_condition(satisfied, timeout=timeout)
        except TimeoutError:
            return False
        if closable and self._closing is not None:
            raise RequestClosed
        return True

    def _require(self, status: RequestStatus, what: str) -> None:
        if self._closing is not None or self._state.status is not status:
            raise ValueError(
                f"request {self._request.request_id} is not waiting for {what} "
                f"(status: {self._state.status.value})"
            )

    def _require_open(self) -> None:
        if self._closing is not None or self._finished:
            raise ValueError(
                f"request {self._request.request_id} is already closing "
                f"(status: {self._state.status.value})"
            )


_ANSWER_MESSAGES = {
    VerificationOutcome.WRONG_TOKEN: "that link or code is not valid for this request",
    VerificationOutcome.EXPIRED: "that link has expired",
    VerificationOutcome.ATTEMPTS_EXHAUSTED: "no attempts are left; the request cannot be verified",
    VerificationOutcome.NOT_MATCHED: "the details given do not match our records",
}
